using SoftRound.Tf.Quantization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Helpers;

/// <summary>Small quantization-aware models trained a few seeded steps, for the export tests.</summary>
internal static class QatFixture
{
    /// <summary>
    /// <paramref name="model"/> (5 classes, 1×12×12 inputs) prepared for QAT with the given widths (per-channel weights,
    /// uint affine inputs), trained 5 Adam steps on seeded random images and labels, in eval mode.
    /// </summary>
    public static Sequential Trained(Sequential model, int weightBits, int activationBits, ulong seed)
    {
        Sequential q = QuantizationOps.prepare_qat(model, new QuantSpec(weightBits, axis: 0), new QuantSpec(activationBits, signed: false, symmetric: false));
        var optimizer = optim.Adam(q.parameters(), 1e-3);
        var generator = new Generator(seed);
        for (int step = 0; step < 5; step++)
        {
            optimizer.zero_grad();
            using (NewDisposeScope())
            {
                Tensor x = rand(new long[] { 16, 1, 12, 12 }, generator: generator);
                Tensor target = randint(0, 5, new long[] { 16 }, generator: generator);
                nn.functional.cross_entropy(q.forward(x), target).backward();
            }
            optimizer.step();
        }
        q.eval();
        return q;
    }
}
