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

    /// <summary>
    /// The coding path against its tensor formulation (CompressAI's, in float64): at each position in raster order the
    /// masked convolution of the 5×5 window of ŷ so far, the entropy-parameter network, build_indexes, symbols and
    /// dequantize on (1, M) tensors; the same stream, byte for byte, and the same ŷ.
    /// </summary>
    [TestMethod]
    public void Compress_CodesWhatTheTensorFormulationCodes_PositionByPosition()
    {
        using var scope = NewDisposeScope();
        manual_seed(9);
        const int M = 12, Pad = 2;
        var model = new JointAutoregressiveHierarchicalPriors(8, M);
        var children = model.named_children().ToDictionary(c => c.name, c => c.module);
        // The last layer's weights spread, so that the scales pick many tables.
        using (no_grad())
        {
            using Scalar spread = 8.0.ToScalar();
            ((TorchSharp.Modules.Conv2d)children["entropy_parameters"].named_children().Last().module).weight!.mul_(spread);
        }
        model.update(force: true);
        model.eval();
        (Tensor y, Tensor z) = model.latents(CompressionModelChecks.Images(1, 128, 5) * 40);
        Tensor ties = tensor(Enumerable.Range(0, M).Select(c => c % 5 - 1.5f).ToArray());
        Tensor zHat = model.EntropyBottleneck.decompress(model.EntropyBottleneck.compress(z), new[] { z.shape[2], z.shape[3] });
        Tensor parameters = new Float64Network("test", (TorchSharp.Modules.Sequential)children["h_s"]).call(zHat);
        var network = new Float64Network("test", (TorchSharp.Modules.Sequential)children["entropy_parameters"]);
        Tensor weight = model.ContextPrediction.masked_weight().detach().to(ScalarType.Float64), bias = model.ContextPrediction.bias.detach().to(ScalarType.Float64);
        Tensor padded = zeros(1, M, y.shape[2] + 2 * Pad, y.shape[3] + 2 * Pad);
        var encoder = new BufferedRansEncoder();
        QuantizedCdf cdfs = model.GaussianConditional.CurrentTables("test");
        var quantizer = model.GaussianConditional.quantizer;
        var seen = new System.Collections.Generic.HashSet<int>();
        for (int h = 0; h < y.shape[2]; h++)
        {
            for (int w = 0; w < y.shape[3]; w++)
            {
                Tensor context = nn.functional.conv2d(padded[.., .., h..(h + 5), w..(w + 5)].to(ScalarType.Float64), weight, bias);
                Tensor[] gaussian = network.call(cat(new[] { parameters[.., .., h..(h + 1), w..(w + 1)], context }, 1)).reshape(1, 2 * M).chunk(2, 1);
                if ((h + w) % 2 == 0)
                {
                    // Latents at float32 ties around the means (−1.5 … 2.5): float32 arithmetic rounds them to even,
                    // float64 with the means' full value one way or the other. Set before the symbols are taken.
                    y[0, .., h, w] = gaussian[1][0].to(ScalarType.Float32) + ties;
                }
                Tensor symbols = quantizer.symbols(y[.., .., h, w], gaussian[1]);
                int[] indexes = model.GaussianConditional.build_indexes(gaussian[0]).data<int>().ToArray();
                seen.UnionWith(indexes);
                encoder.encode_with_indexes(symbols.data<int>().ToArray(), indexes, cdfs);
                padded[.., .., h + Pad, w + Pad] = quantizer.dequantize(symbols, gaussian[1]).to(ScalarType.Float32);
            }
        }
        Assert.IsTrue(y.shape[2] * y.shape[3] >= 60 && seen.Count >= 10, $"{y.shape[2]}×{y.shape[3]} positions, {seen.Count} tables");
        // The latents the reference coded, ties included, through the model.
        CompressedData data = model.compress_latents(y, z, RansStreamLayout.SoftRound, out Tensor yHat);
        CollectionAssert.AreEqual(encoder.flush(), data.strings[0][0]);
        TensorAssert.Identical(padded[.., .., Pad..^Pad, Pad..^Pad], yHat);
    }

    /// <summary>Float64 latents: ŷ kept as the decoder keeps it (the model's float32), so the streams decode to it bit for bit.</summary>
    [TestMethod]
    public void Float64Latents_DecodeToTheCodedLatents()
    {
        using var scope = NewDisposeScope();
        (JointAutoregressiveHierarchicalPriors model, Tensor x) = Seeded();
        (Tensor y, Tensor z) = model.latents(x);
        Tensor wide = y.to(ScalarType.Float64), wideZ = z.to(ScalarType.Float64);
        CompressedData data = model.compress_latents(wide, wideZ, RansStreamLayout.SoftRound, out Tensor coded);
        Assert.AreEqual(ScalarType.Float32, coded.dtype);
        TensorAssert.Identical(coded, model.decompress_latents(data));
    }

    [TestMethod]
    [DataRow(ScalarType.Float64)]
    [DataRow(ScalarType.Float32)]
    [DataRow(ScalarType.Float16)]
    [DataRow(ScalarType.BFloat16)]
    public void Keep_RoundsAsTheTensorCast_TiesAndDoubleRoundingIncluded(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var random = new Random(5);
        // Random values over many octaves, each format's ties at 1 and just above them, beyond float16's range.
        double[] values = Enumerable.Range(0, 2000).Select(_ => (random.NextDouble() - 0.5) * Math.Pow(2, random.Next(-30, 30)))
            .Concat(new[] { 1, 1 + Math.Pow(2, -11), 1 + Math.Pow(2, -11) + Math.Pow(2, -40), 1 + Math.Pow(2, -8), 1 + 3 * Math.Pow(2, -8), 1 + Math.Pow(2, -8) + Math.Pow(2, -40), 1 + Math.Pow(2, -24), 1 + 3 * Math.Pow(2, -24), -0.0, 70000, -1e6 })
            .ToArray();
        double[] expected = tensor(values, ScalarType.Float64).to(dtype).to(ScalarType.Float64).data<double>().ToArray();
        Func<double, double> keep = JointAutoregressiveHierarchicalPriors.Keep(dtype);
        CollectionAssert.AreEqual(expected, values.Select(keep).ToArray());
        if (dtype != ScalarType.Float64) Assert.IsTrue(expected.Zip(values).Count(p => p.First != p.Second) > 1000, "the cast rounds");
        Assert.AreEqual("JointAutoregressiveHierarchicalPriors: latents of Int32 cannot be coded; use a floating-point dtype.",
            Assert.ThrowsExactly<NotSupportedException>(() => JointAutoregressiveHierarchicalPriors.Keep(ScalarType.Int32)).Message);
    }

    private static double[] Values(Tensor t) => t.detach().to(ScalarType.Float64).data<double>().ToArray();

    protected override CompressionModel Make(int n, int m, QuantizationMode mode = QuantizationMode.UniformNoise) => new JointAutoregressiveHierarchicalPriors(n, m, mode);
}
