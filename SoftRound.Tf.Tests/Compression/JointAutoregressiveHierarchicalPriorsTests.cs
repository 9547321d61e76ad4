using System;
using System.IO;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Entropy;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp;
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
        // In eval the mode changes nothing: the synthesis gets round(y), as CompressAI's eval forward gives it.
        plain.eval();
        mixed.eval();
        using (no_grad()) TensorAssert.Identical(plain.forward(x).x_hat, mixed.forward(x).x_hat);
    }

    private static (JointAutoregressiveHierarchicalPriors model, Tensor x) Seeded()
    {
        manual_seed(6);
        var model = new JointAutoregressiveHierarchicalPriors(4, 6);
        model.update(force: true);
        model.eval();
        return (model, CompressionModelChecks.Images(1, 64, 2) * 40);
    }

    [TestMethod]
    public void Latents_GiveForwardAndCompress_BitForBit_InBothModes()
    {
        using var scope = NewDisposeScope();
        (JointAutoregressiveHierarchicalPriors model, Tensor x) = Seeded();
        (Tensor y, Tensor z) = model.latents(x);
        CollectionAssert.AreEqual(new long[] { 1, 6, 4, 4 }, y.shape);
        CollectionAssert.AreEqual(new long[] { 1, 4, 1, 1 }, z.shape);
        CompressionOutput whole = model.forward(x), fromLatents = model.forward_latents(y, z);
        TensorAssert.Identical(whole.x_hat, fromLatents.x_hat);
        TensorAssert.Identical(whole.likelihoods["y"], fromLatents.likelihoods["y"]);
        TensorAssert.Identical(whole.likelihoods["z"], fromLatents.likelihoods["z"]);
        CompressedData a = model.compress(x, RansStreamLayout.SoftRound, out Tensor aHat), b = model.compress_latents(y, z, RansStreamLayout.SoftRound, out Tensor bHat);
        Assert.IsTrue(a.strings[0][0].Length > 4, "the latents code more than the stream's end");
        CollectionAssert.AreEqual(a.strings[0][0], b.strings[0][0]);
        CollectionAssert.AreEqual(a.strings[1][0], b.strings[1][0]);
        CollectionAssert.AreEqual(a.shape, b.shape);
        TensorAssert.Identical(aHat, bHat);
        // Training mode: the same noise from the same seed.
        model.train();
        manual_seed(3);
        Tensor noisy = model.forward(x).x_hat;
        manual_seed(3);
        TensorAssert.Identical(noisy, model.forward_latents(y, z).x_hat);
    }

    [TestMethod]
    public void CompressLatents_OfOtherLatents_DecodeToTheCodedLatents()
    {
        using var scope = NewDisposeScope();
        (JointAutoregressiveHierarchicalPriors model, Tensor x) = Seeded();
        (Tensor y, Tensor z) = model.latents(x);
        using Scalar spread = 0.7.ToScalar();
        Tensor moved = y + randn(y.shape, generator: new Generator(2)).mul(spread);
        CompressedData data = model.compress_latents(moved, z, RansStreamLayout.SoftRound, out Tensor coded);
        TensorAssert.Identical(coded, model.decompress_latents(data));
        model.compress(x, RansStreamLayout.SoftRound, out Tensor original);
        Assert.IsTrue(coded.ne(original).any().item<bool>(), "the moved latents code other symbols");
        // Each coded value is within ½ of the latent it codes: round(y − μ) + μ.
        Assert.IsTrue((coded - moved).abs().max().item<float>() <= 0.5f + 1e-5f);
    }

    [TestMethod]
    public void ForwardLatents_PassesGradientsToTheLatents()
    {
        using var scope = NewDisposeScope();
        (JointAutoregressiveHierarchicalPriors model, Tensor x) = Seeded();
        model.train();
        (Tensor y0, Tensor z0) = model.latents(x);
        CompressionModelChecks.LatentsGetGradients((y, z) => model.forward_latents(y, z), x, y0, z0);
    }

    [TestMethod]
    public void BadLatents_AreRefused_WithMemberParameterAndShapes()
    {
        using var scope = NewDisposeScope();
        (JointAutoregressiveHierarchicalPriors model, Tensor x) = Seeded();
        (Tensor y, Tensor z) = model.latents(x);
        CompressionModelChecks.Throws<ArgumentException>(() => model.forward_latents(y[.., ..5], z), "y", "JointAutoregressiveHierarchicalPriors.forward_latents: y must be a floating-point (B, 6, h, w) tensor; got Float32 of shape [1, 5, 4, 4].");
        CompressionModelChecks.Throws<ArgumentException>(() => model.compress_latents(y, z[.., .., .., ..0], RansStreamLayout.SoftRound, out _), "z", "JointAutoregressiveHierarchicalPriors.compress_latents: z must be a Float32 (1, 4, h/4, w/4) tensor for y of shape [1, 6, 4, 4]; got Float32 of shape [1, 4, 1, 0].");
        Tensor bad = y.clone();
        bad[0, 0, 0, 0] = tensor(float.NaN);
        CompressionModelChecks.Throws<ArgumentOutOfRangeException>(() => model.compress_latents(bad, z, RansStreamLayout.SoftRound, out _), "y", "JointAutoregressiveHierarchicalPriors.compress_latents: y");
        CompressionModelChecks.Throws<ArgumentException>(() => model.latents(x[.., .., ..60]), "x", "JointAutoregressiveHierarchicalPriors.latents");
        Assert.IsTrue(bad.isnan().any().item<bool>(), "the input stays as it was");
    }

    private static double[] Values(Tensor t) => t.detach().to(ScalarType.Float64).data<double>().ToArray();

    protected override CompressionModel Make(int n, int m, QuantizationMode mode = QuantizationMode.UniformNoise) => new JointAutoregressiveHierarchicalPriors(n, m, mode);
}
