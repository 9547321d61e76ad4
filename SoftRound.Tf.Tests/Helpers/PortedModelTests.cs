using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Entropy;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Helpers;

/// <summary>
/// The tests every CompressAI model port runs (with oneDNN off, <see cref="WithoutOneDnn"/>); a model's test class names
/// its fixture and how to build it.
/// </summary>
public abstract class PortedModelTests : WithoutOneDnn
{
    /// <summary>The fixture's name (CompressAI's registry name of the model).</summary>
    protected abstract string Fixture { get; }

    /// <summary>The number of latents with streams: 1 (factorized) or 2.</summary>
    protected abstract int Latents { get; }

    /// <summary>Whether the eval forward's ŷ is round(y − μ) + μ.</summary>
    protected virtual bool ForwardUsesMeans => false;

    /// <summary>N and M of the model CompressAI's fixture holds.</summary>
    protected virtual (int n, int m) FixtureSize => (CompressAIFixtures.N, CompressAIFixtures.M);

    /// <summary>The model with N, M and the training quantizer.</summary>
    protected abstract CompressionModel Make(int n, int m, QuantizationMode mode = QuantizationMode.UniformNoise);

    /// <summary>
    /// How far the decoded ŷ may be from <see cref="Compress"/>'s, relative: 0 (bit for bit) unless the model's coding
    /// path computes means in float64 while the ŷ given is the float32 eval forward's.
    /// </summary>
    protected virtual double CodedTolerance => 0;

    /// <summary>The streams of x and the ŷ they code (by default the eval forward's).</summary>
    protected virtual (CompressedData data, Tensor yHat) Compress(CompressionModel model, Tensor x, RansStreamLayout layout)
    {
        using (no_grad()) return (model.compress(x, layout), model.call(x).y_hat);
    }

    [TestMethod]
    public void ForwardAndStreams_MatchCompressAI_OnItsCheckpoint()
    {
        using var scope = NewDisposeScope();
        CompressionModel model = Make(FixtureSize.n, FixtureSize.m);
        var io = CompressAIFixtures.AssertForwardParity(model, Fixture, ForwardUsesMeans);
        CompressAIFixtures.AssertStreamParity(model, io);
    }

    [TestMethod]
    public void StateDict_HasCompressAIsKeys() => CompressionModelChecks.AssertKeysAreCompressAIs(Make(FixtureSize.n, FixtureSize.m), Fixture + ".pt");

    [TestMethod]
    public void Trains_WithEveryQuantizer() => CompressionModelChecks.AssertTrains(mode => Make(4, 6, mode));

    [TestMethod]
    public void CompressDecompress_GiveTheCodedLatentsBitForBit()
    {
        manual_seed(3);
        CompressionModel model = Make(4, 6);
        CompressionModelChecks.AssertRoundTrip(model, (x, layout) => Compress(model, x, layout), CodedTolerance);
    }

    [TestMethod]
    public void BadInput_IsRefused_WithTheMembersName()
    {
        manual_seed(4);
        CompressionModelChecks.AssertRefusesBadInput(Make(4, 6), Latents);
    }
}
