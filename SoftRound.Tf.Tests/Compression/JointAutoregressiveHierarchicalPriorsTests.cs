using System;
using System.IO;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Entropy;
using SoftRound.Tf.Tests.Helpers;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Compression;

/// <summary>CompressAI's parity, keys, training, round trips and bad input (<see cref="PortedModelTests"/>).</summary>
[TestClass]
public sealed class JointAutoregressiveHierarchicalPriorsTests : PortedModelTests
{
    protected override string Fixture => "mbt2018";

    protected override int Latents => 2;

    /// <summary>The coded ŷ, which compress gives: the forward pass feeds the context model round(y), as CompressAI does.</summary>
    protected override (CompressedData data, Tensor yHat) Compress(CompressionModel model, Tensor x, RansStreamLayout layout) =>
        (((JointAutoregressiveHierarchicalPriors)model).compress(x, layout, out Tensor yHat), yHat);

    [TestMethod]
    public void Decompress_ChecksTheConditionalsTables_AndWhereTheStreamEnds()
    {
        using var scope = NewDisposeScope();
        manual_seed(6);
        var model = new JointAutoregressiveHierarchicalPriors(4, 6);
        model.update(force: true);
        model.eval();
        Tensor x = CompressionModelChecks.Images(1, 64, 2);
        CompressedData data = model.compress(x);
        // Four bytes more at the end of ŷ's stream: every symbol decodes, but the stream does not end with them.
        byte[][][] longer = { new[] { data.strings[0][0].Concat(new byte[4]).ToArray() }, data.strings[1] };
        StringAssert.StartsWith(Assert.ThrowsExactly<InvalidDataException>(() => model.decompress_latents(data with { strings = longer })).Message, "RansDecoder.finish: ");
        // The bottleneck has its tables, the conditional none: the model's member is named.
        model.GaussianConditional.LoadTables(null);
        StringAssert.StartsWith(Assert.ThrowsExactly<InvalidOperationException>(() => model.decompress_latents(data)).Message,
            "JointAutoregressiveHierarchicalPriors.decompress_latents: there are no coding tables yet; call update() first.");
        StringAssert.StartsWith(Assert.ThrowsExactly<InvalidOperationException>(() => model.compress(x)).Message,
            "JointAutoregressiveHierarchicalPriors.compress: there are no coding tables yet; call update() first.");
    }

    [TestMethod]
    public void XHatModeRoundSt_GivesTheSynthesisTheDecodersLatents_WithAStraightThroughGradient_AndTheSameLikelihoods()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var plain = new JointAutoregressiveHierarchicalPriors(4, 6, QuantizationMode.SoftRoundNoise);
        var mixed = new JointAutoregressiveHierarchicalPriors(4, 6, QuantizationMode.SoftRoundNoise);
        mixed.load_state_dict(plain.state_dict());
        mixed.GaussianConditional.x_hat_mode = QuantizationMode.RoundSt;
        Tensor x = CompressionModelChecks.Images(1, 64, 4).requires_grad_();
        Tensor weights = randn(1, 6, 4, 4, generator: new Generator(5));
        var gA = (TorchSharp.Modules.Sequential)mixed.named_children().Single(c => c.name == "g_a").module;
        (CompressionOutput Output, Tensor Gradient) Run(JointAutoregressiveHierarchicalPriors model)
        {
            model.train();
            model.EntropyBottleneck.quantizer.generator = new Generator(8);
            model.GaussianConditional.quantizer.generator = new Generator(9);
            CompressionOutput output = model.forward(x);
            return (output, autograd.grad(new[] { (output.y_hat * weights).sum() }, new[] { x }, retain_graph: true)[0]);
        }
        (CompressionOutput noisy, Tensor noisyGradient) = Run(plain);
        (CompressionOutput rounded, Tensor roundedGradient) = Run(mixed);
        Tensor y = gA.call(x);
        // round(y − μ) + μ lies within ½ of y, and its gradient is y's: μ's parts cancel (−1 through the rounding, +1 added back).
        Assert.IsTrue((rounded.y_hat - y).abs().max().item<float>() <= 0.5f + 1e-5f);
        Tensor latentGradient = autograd.grad(new[] { (y * weights).sum() }, new[] { x })[0];
        TensorAssert.Close(Values(latentGradient), roundedGradient, 0, 1e-6);
        Assert.IsTrue((latentGradient - noisyGradient).abs().max().item<float>() > 1e-3f, "soft round's gradient is not the identity's");
        // The synthesis gets the rounded ŷ; the rate is the proxy's, as without the mode.
        Assert.IsTrue((noisy.y_hat - rounded.y_hat).abs().max().item<float>() > 0.05f);
        using (no_grad()) TensorAssert.Close(Values(mixed.synthesis(rounded.y_hat)), rounded.x_hat, 0, 1e-6);
        foreach (string key in new[] { "y", "z" })
        {
            CollectionAssert.AreEqual(noisy.likelihoods[key].data<float>().ToArray(), rounded.likelihoods[key].data<float>().ToArray(), key);
        }
    }

    private static double[] Values(Tensor t) => t.detach().to(ScalarType.Float64).data<double>().ToArray();

    protected override CompressionModel Make(int n, int m, QuantizationMode mode = QuantizationMode.UniformNoise) => new JointAutoregressiveHierarchicalPriors(n, m, mode);
}
