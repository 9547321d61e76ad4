using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Entropy;
using TorchSharp;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Tests.Helpers;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Compression;

/// <summary>CompressAI's parity, keys, training, round trips and bad input (<see cref="PortedModelTests"/>).</summary>
[TestClass]
public sealed class MeanScaleHyperpriorTests : PortedModelTests
{
    protected override string Fixture => "mbt2018-mean";

    protected override int Latents => 2;

    protected override bool ForwardUsesMeans => true;

    // The coder's means are h_s's in float64, the eval forward's in float32: the same symbols, ŷ a few ulps apart.
    protected override double CodedTolerance => 1e-6;

    protected override CompressionModel Make(int n, int m, QuantizationMode mode = QuantizationMode.UniformNoise) => new MeanScaleHyperprior(n, m, mode);

    /// <summary>
    /// A seeded model (N = 8, M = 16) with its coding tables, in eval mode, and a 64×128 image with structure. Its
    /// predicted scales are set near 0.2, the size of its latents: an untrained h_s predicts scales at the bound (0.11)
    /// for latents many of them away, whose likelihoods the coder's 16-bit tables cannot follow.
    /// </summary>
    private static (MeanScaleHyperprior model, Tensor x) Seeded()
    {
        manual_seed(11);
        var model = new MeanScaleHyperprior(8, 16);
        model.eval();
        using (no_grad())
        {
            var named = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            named["h_s.4.weight"].mul_(0.01);
            named["h_s.4.bias"][..16].fill_(0.2);
        }
        model.update();
        Tensor x = (rand(1, 3, 64, 128, generator: new Generator(5)) * 0.2 + linspace(0, 0.8, 128).reshape(1, 1, 1, 128)).clamp(0, 1);
        return (model, x);
    }

    [TestMethod]
    public void StepSizeOfOne_IsTheUnitGrid_BitForBit()
    {
        using var scope = NewDisposeScope();
        (MeanScaleHyperprior model, Tensor x) = Seeded();
        Tensor one = ones(1, 16, 1, 1);
        CompressionOutput plain = model.forward(x), stepped = model.forward(x, one);
        TensorAssert.Identical(plain.x_hat, stepped.x_hat);
        TensorAssert.Identical(plain.likelihoods["y"], stepped.likelihoods["y"]);
        CompressedData a = model.compress(x), b = model.compress(x, one);
        CollectionAssert.AreEqual(a.strings[0][0], b.strings[0][0]);
        TensorAssert.Identical(model.decompress_latents(a), model.decompress_latents(b, one));
    }

    [TestMethod]
    public void StepSize_CodesOnItsGrid_RoundTrips_AndItsLikelihoodsPriceTheStreams()
    {
        using var scope = NewDisposeScope();
        (MeanScaleHyperprior model, Tensor x) = Seeded();
        double previousBits = double.PositiveInfinity;
        // The untrained model's latents are small: steps of a few hundredths give streams of a few hundred bytes.
        foreach (double scale in new[] { 0.01, 0.02, 0.04, 0.08 })
        {
            // A different step per channel.
            Tensor delta = linspace(0.5, 1.5, 16).reshape(1, 16, 1, 1) * scale;
            CompressionOutput output = model.forward(x, delta);
            CompressedData data = model.compress(x, delta);
            Tensor decoded = model.decompress_latents(data, delta);
            TensorAssert.Close(output.y_hat, decoded, 1e-6, 1e-6);
            double estimate = Bits.total(output.likelihoods["y"].to(ScalarType.Float64)).item<double>();
            double written = data.strings[0][0].Length * 8.0;
            // The rANS stream costs its estimate (its tables quantized) plus a few bytes of state and flushing.
            Assert.IsTrue(Math.Abs(written - estimate) <= estimate * 0.05 + 128, $"Δ × {scale}: {written} bits written, {estimate} estimated");
            Assert.IsTrue(estimate < previousBits / 1.1 && estimate > 800, $"Δ × {scale}: {estimate} bits; before {previousBits}");
            previousBits = estimate;
        }
        // ŷ lies on the grid μ + Δ·k: with a huge step every latent rounds to its mean, which gives μ.
        Tensor step = linspace(0.02, 0.06, 16).reshape(1, 16, 1, 1);
        Tensor means = model.forward(x, full(1, 16, 1, 1, 1e4f)).y_hat;
        Tensor k = (model.forward(x, step).y_hat - means) / step;
        Assert.IsTrue((k - k.round()).abs().max().item<float>() < 1e-3f, "ŷ off its grid");
        Assert.IsTrue(k.abs().max().item<float>() >= 3, "the latents should span a few steps");
    }

    [TestMethod]
    public void StepSizeGradient_MatchesACentralDifference()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var model = new MeanScaleHyperprior(4, 8, QuantizationMode.UniformNoise);
        model.to(ScalarType.Float64);
        model.train();
        // Scales of about e² ≫ 0.11·Δ: away from the scale bound, whose gradient rule is not the derivative.
        using (no_grad())
        {
            var named = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            named["h_s.4.weight"].mul_(0.01);
            named["h_s.4.bias"][..8].fill_(7.0);
        }
        Tensor x = rand(new long[] { 1, 3, 64, 64 }, ScalarType.Float64, generator: new Generator(8));
        Tensor delta = linspace(0.6, 1.8, 8, ScalarType.Float64).reshape(1, 8, 1, 1);
        double Loss(Tensor d)
        {
            manual_seed(21); // the same noise at every evaluation
            CompressionOutput o = model.forward(x, d);
            return (Bits.total(o.likelihoods["y"]) + 100 * (o.x_hat - x).square().sum()).item<double>();
        }
        Tensor learned = delta.clone().requires_grad_(true);
        manual_seed(21);
        CompressionOutput output = model.forward(x, learned);
        (Bits.total(output.likelihoods["y"]) + 100 * (output.x_hat - x).square().sum()).backward();
        Tensor direction = linspace(-1, 1, 8, ScalarType.Float64).reshape(1, 8, 1, 1);
        double analytic = (learned.grad! * direction).sum().item<double>();
        const double h = 1e-6;
        double numeric = (Loss(delta + h * direction) - Loss(delta - h * direction)) / (2 * h);
        Assert.AreEqual(numeric, analytic, 1e-5 * Math.Abs(numeric) + 1e-6);
        Assert.IsTrue(Math.Abs(analytic) > 1e-3, $"{analytic}");
    }

    [TestMethod]
    public void BadStepSizes_AreRefused_WithMemberParameterAndValue()
    {
        using var scope = NewDisposeScope();
        (MeanScaleHyperprior model, Tensor x) = Seeded();
        CompressedData data = model.compress(x);
        void Throws<T>(Action call, string message) where T : Exception => StringAssert.Contains(Assert.ThrowsExactly<T>(call).Message, message);
        Throws<ArgumentOutOfRangeException>(() => model.forward(x, zeros(1, 16, 1, 1)), "MeanScaleHyperprior.forward: stepSize");
        Throws<ArgumentOutOfRangeException>(() => model.compress(x, full(1, 16, 1, 1, float.NaN)), "MeanScaleHyperprior.compress: stepSize");
        Throws<ArgumentOutOfRangeException>(() => model.decompress_latents(data, full(1, 16, 1, 1, -1f)), "-1");
        Throws<ArgumentException>(() => model.forward(x, ones(1, 17, 1, 1)), "MeanScaleHyperprior.forward: stepSize has shape (1, 17, 1, 1), which does not broadcast to a latent channel vector's shape (1, 16, 1, 1).");
        Throws<ArgumentException>(() => model.compress(x, ones(new long[] { 1, 16, 1, 1 }, ScalarType.Int32)), "MeanScaleHyperprior.compress: stepSize has dtype Int32");
        // A broadcasting scalar and a plain (M) vector are per-channel steps too.
        TensorAssert.Identical(model.forward(x, full(1, 16, 1, 1, 2f)).y_hat, model.forward(x, tensor(2f)).y_hat);
    }

    [TestMethod]
    public void Latents_GiveForwardAndCompress_BitForBit_InBothModes()
    {
        using var scope = NewDisposeScope();
        (MeanScaleHyperprior model, Tensor x) = Seeded();
        (Tensor y, Tensor z) = model.latents(x);
        CollectionAssert.AreEqual(new long[] { 1, 16, 4, 8 }, y.shape);
        CollectionAssert.AreEqual(new long[] { 1, 8, 1, 2 }, z.shape);
        CompressionOutput whole = model.forward(x), fromLatents = model.forward_latents(y, z);
        TensorAssert.Identical(whole.x_hat, fromLatents.x_hat);
        TensorAssert.Identical(whole.likelihoods["y"], fromLatents.likelihoods["y"]);
        TensorAssert.Identical(whole.likelihoods["z"], fromLatents.likelihoods["z"]);
        CompressedData a = model.compress(x), b = model.compress_latents(y, z);
        CollectionAssert.AreEqual(a.strings[0][0], b.strings[0][0]);
        CollectionAssert.AreEqual(a.strings[1][0], b.strings[1][0]);
        CollectionAssert.AreEqual(a.shape, b.shape);
        Tensor step = full(1, 16, 1, 1, 1.5f);
        CollectionAssert.AreEqual(model.compress(x, step).strings[0][0], model.compress_latents(y, z, step).strings[0][0]);
        TensorAssert.Identical(model.forward(x, step).y_hat, model.forward_latents(y, z, step).y_hat);
        // Training mode: the same noise from the same seed.
        model.train();
        manual_seed(3);
        Tensor noisy = model.forward(x).x_hat;
        manual_seed(3);
        TensorAssert.Identical(noisy, model.forward_latents(y, z).x_hat);
    }

    [TestMethod]
    public void CompressLatents_OfOtherLatents_DecodesToTheirRounding_AroundTheMeans()
    {
        using var scope = NewDisposeScope();
        (MeanScaleHyperprior model, Tensor x) = Seeded();
        (Tensor y, Tensor z) = model.latents(x);
        Tensor moved = y + 0.3 * randn(y.shape, generator: new Generator(2));
        CompressedData data = model.compress_latents(moved, z);
        // The decoder needs nothing new: ŷ is the eval forward's ŷ of the moved latents (to the float64 means' rounding).
        TensorAssert.Close(model.forward_latents(moved, z).y_hat, model.decompress_latents(data), 1e-6, 1e-6);
        Assert.IsTrue(model.decompress_latents(data).ne(model.decompress_latents(model.compress(x))).any().item<bool>(), "the moved latents code other symbols");
    }

    [TestMethod]
    public void ForwardLatents_PassesGradientsToTheLatents_TheModelsParametersUntouched()
    {
        using var scope = NewDisposeScope();
        (MeanScaleHyperprior model, Tensor x) = Seeded();
        model.train();
        (Tensor y0, Tensor z0) = model.latents(x);
        CompressionModelChecks.LatentsGetGradients((y, z) => model.forward_latents(y, z), x, y0, z0);
    }

    [TestMethod]
    public void BadLatents_AreRefused_WithMemberParameterAndShapes()
    {
        using var scope = NewDisposeScope();
        (MeanScaleHyperprior model, Tensor x) = Seeded();
        (Tensor y, Tensor z) = model.latents(x);
        CompressionModelChecks.Throws<ArgumentException>(() => model.forward_latents(y[.., ..15], z), "y", "MeanScaleHyperprior.forward_latents: y must be a floating-point (B, 16, h, w) tensor; got Float32 of shape [1, 15, 4, 8].");
        CompressionModelChecks.Throws<ArgumentException>(() => model.compress_latents(y.to(ScalarType.Int32), z), "y", "MeanScaleHyperprior.compress_latents: y must be a floating-point (B, 16, h, w) tensor; got Int32");
        CompressionModelChecks.Throws<ArgumentException>(() => model.forward_latents(y, z[.., .., .., ..1]), "z", "MeanScaleHyperprior.forward_latents: z must be a Float32 (1, 8, h/4, w/4) tensor for y of shape [1, 16, 4, 8]; got Float32 of shape [1, 8, 1, 1].");
        CompressionModelChecks.Throws<ArgumentException>(() => model.compress_latents(y, z.to(ScalarType.Float64)), "z", "got Float64");
        CompressionModelChecks.Throws<ArgumentException>(() => model.forward_latents(y, cat(new[] { z, z })), "z", "got Float32 of shape [2, 8, 1, 2]");
        Tensor bad = y.clone();
        bad[0, 0, 0, 0] = tensor(float.PositiveInfinity);
        CompressionModelChecks.Throws<ArgumentOutOfRangeException>(() => model.compress_latents(bad, z), "y", "MeanScaleHyperprior.compress_latents: y");
        Tensor badZ = z.clone();
        badZ[0, 0, 0, 0] = tensor(float.NaN);
        CompressionModelChecks.Throws<ArgumentOutOfRangeException>(() => model.forward_latents(y, badZ), "z", "MeanScaleHyperprior.forward_latents: z");
        CompressionModelChecks.Throws<ArgumentOutOfRangeException>(() => model.forward_latents(y, z, zeros(1, 16, 1, 1)), "stepSize", "MeanScaleHyperprior.forward_latents: stepSize");
        CompressionModelChecks.Throws<ArgumentOutOfRangeException>(() => model.compress_latents(y, z, full(1, 16, 1, 1, -1f)), "stepSize", "MeanScaleHyperprior.compress_latents: stepSize");
        CompressionModelChecks.Throws<ArgumentException>(() => model.latents(x[.., .., ..60]), "x", "MeanScaleHyperprior.latents");
        Assert.IsFalse(bad.isfinite().all().item<bool>(), "the input stays as it was");
    }
}
