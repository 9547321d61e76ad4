using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Entropy;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Compression;

/// <summary>CompressAI's parity, keys, training, round trips and bad input (<see cref="PortedModelTests"/>), and the checkerboard's dependencies.</summary>
[TestClass]
public sealed class Cheng2020AnchorCheckerboardTests : PortedModelTests
{
    protected override string Fixture => "cheng2020-anchor-checkerboard";

    protected override int Latents => 3;

    protected override bool ForwardUsesMeans => true;

    // The coder's means are computed in float64, the eval forward's in float32: the same symbols, ŷ a few ulps apart.
    protected override double CodedTolerance => 1e-6;

    /// <summary>The model with N channels; M = N, so <paramref name="m"/> is not used.</summary>
    protected override CompressionModel Make(int n, int m, QuantizationMode mode = QuantizationMode.UniformNoise) => new Cheng2020AnchorCheckerboard(n, mode);

    /// <summary>A seeded model with its tables, in eval mode, and an image whose latents are 8×8.</summary>
    private static (Cheng2020AnchorCheckerboard model, Tensor x) Seeded()
    {
        manual_seed(12);
        var model = new Cheng2020AnchorCheckerboard(6);
        model.update();
        model.eval();
        return (model, CompressionModelChecks.Images(1, 128, 3));
    }

    [TestMethod]
    public void Streams_AreTheAnchorsThenTheNonAnchors_EachHalfTheLatents()
    {
        using var scope = NewDisposeScope();
        (Cheng2020AnchorCheckerboard model, Tensor x) = Seeded();
        CompressedData data = model.compress(x);
        Assert.AreEqual(3, data.strings.Count);
        CollectionAssert.AreEqual(new long[] { 2, 2 }, data.shape);
        // The anchors' scales and means come from h_s(ẑ) alone: with the context model's weights changed, the anchor
        // stream stays byte for byte what it was and the non-anchor stream changes.
        using (no_grad()) model.ContextPrediction.weight.add_(randn_like(model.ContextPrediction.weight).mul_(0.5));
        CompressedData other = model.compress(x);
        CollectionAssert.AreEqual(data.strings[0][0], other.strings[0][0], "anchors");
        CollectionAssert.AreEqual(data.strings[2][0], other.strings[2][0], "ẑ");
        Assert.IsFalse(data.strings[1][0].SequenceEqual(other.strings[1][0]), "the non-anchors depend on the context model");
        // And what the changed model codes is what its eval forward quantizes.
        using (no_grad()) TensorAssert.Close(model.call(x).y_hat, model.decompress_latents(other), 1e-5, 1e-5);
    }

    [TestMethod]
    public void Forward_GivesTheSynthesisStraightThroughRoundedLatents_AndNoisyLikelihoodsInTraining()
    {
        using var scope = NewDisposeScope();
        manual_seed(13);
        var model = new Cheng2020AnchorCheckerboard(4);
        model.train();
        Tensor x = CompressionModelChecks.Images(1, 64, 4);
        CompressionOutput output = model.call(x);
        // ŷ = round(y − μ) + μ: ŷ − μ is an integer wherever μ is (checked through the decoder's view: the eval forward).
        model.eval();
        CompressionOutput eval = model.call(x);
        TensorAssert.Close(eval.y_hat, output.y_hat, 1e-6, 1e-6);
        // The likelihoods differ (noise in training) while ŷ is the same rounded one.
        Assert.IsFalse(output.likelihoods["y"].allclose(eval.likelihoods["y"]));
        // Straight through: the gradient of Σ x̂ reaches g_a.
        model.train();
        model.call(x).x_hat.sum().backward();
        Assert.IsTrue(model.named_parameters().First(p => p.name == "g_a.0.conv1.weight").parameter.grad!.abs().sum().item<float>() > 0);
    }

    [TestMethod]
    public void Keys_AreCompressAIsLatentCodecs()
    {
        using var model = new Cheng2020AnchorCheckerboard(4);
        string[] keys = model.state_dict().Keys.ToArray();
        CollectionAssert.Contains(keys, "latent_codec.y.context_prediction.mask");
        CollectionAssert.Contains(keys, "latent_codec.y.entropy_parameters.4.weight");
        CollectionAssert.Contains(keys, "latent_codec.y.y.gaussian_conditional.scale_table");
        CollectionAssert.Contains(keys, "latent_codec.hyper.h_s.2.0.weight");
        CollectionAssert.Contains(keys, "latent_codec.hyper.entropy_bottleneck.quantiles");
        Assert.IsFalse(keys.Any(k => k.StartsWith("h_a.") || k.StartsWith("h_s.") || k.StartsWith("entropy_bottleneck.")), "no module is registered twice");
        Assert.IsInstanceOfType<CheckerboardMaskedConv2d>(model.ContextPrediction);
    }
}
