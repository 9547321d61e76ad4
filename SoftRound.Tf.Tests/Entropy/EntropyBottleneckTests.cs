using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Entropy;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Entropy;

/// <summary>
/// The bottleneck trained for rate (a few seconds, once per run): what it learns, and what it writes. A category of its
/// own, so that mutation runs, which repeat a class's initialisation for every mutant, can leave it out.
/// </summary>
[TestClass]
[TestCategory("Training")]
public sealed class EntropyBottleneckTrainingTests
{
    /// <summary>The two sources the trained model learns: channel 0 logistic(3, 1.2), channel 1 Laplace(−1.3, 0.8).</summary>
    private static readonly (double loc, double scale)[] Sources = { (3.0, 1.2), (-1.3, 0.8) };

    private static EntropyBottleneck trained = null!;

    /// <summary>Trains the shared model once, outside any test's dispose scope.</summary>
    [ClassInitialize]
    public static void Train(TestContext context)
    {
        // Ops this small gain nothing from a second thread, and lose much when the machine is busy (OpenMP's barriers).
        int threads = get_num_threads();
        set_num_threads(1);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            trained = Training();
        }
        finally
        {
            set_num_threads(threads);
        }
        context.WriteLine($"training took {clock.Elapsed.TotalSeconds:F1} s");
        Console.WriteLine($"training took {clock.Elapsed.TotalSeconds:F1} s");
    }

    private static Tensor Sample(int n, Generator g)
    {
        Tensor u = rand(n, 2, generator: g, dtype: ScalarType.Float64).clamp(1e-12, 1 - 1e-12);
        Tensor logistic = u[.., 0] .log() - u[.., 0].neg().log1p();
        Tensor laplace = where(u[.., 1].lt(0.5), (u[.., 1] * 2).log(), (2 - u[.., 1] * 2).log().neg());
        return stack(new[] { logistic * Sources[0].scale + Sources[0].loc, laplace * Sources[1].scale + Sources[1].loc }, 1).to(ScalarType.Float32);
    }

    private static LocationScaleDensity Source(int channel) => channel == 0
        ? new LogisticDensity(tensor(Sources[0].loc, ScalarType.Float64), tensor(Sources[0].scale, ScalarType.Float64))
        : new LaplaceDensity(tensor(Sources[1].loc, ScalarType.Float64), tensor(Sources[1].scale, ScalarType.Float64));

    /// <summary>
    /// A bottleneck trained for rate on the two sources, as CompressAI trains one: Adam on the density with the rate
    /// −log2 p of the noisy latents, and a second Adam on the quantiles with the auxiliary loss. Seeded; a few seconds.
    /// </summary>
    private static EntropyBottleneck Trained() => trained;

    private static EntropyBottleneck Training()
    {
        manual_seed(11);
        var model = new EntropyBottleneck(2);
        var g = new Generator(5);
        var main = optim.Adam(model.parameters().Where(p => !ReferenceEquals(p, model.quantiles)), lr: 0.02);
        var aux = optim.Adam(new[] { model.quantiles }, lr: 0.1);
        for (int step = 0; step < 2500; step++)
        {
            using var scope = NewDisposeScope();
            Tensor x = Sample(2048, g);
            (_, Tensor likelihoods) = model.forward(x);
            main.zero_grad();
            Bits.per_element(likelihoods).backward();
            main.step();
            aux.zero_grad();
            model.loss().backward();
            aux.step();
        }
        model.eval();
        model.update();
        return model;
    }

    [TestMethod]
    public void Training_LearnsTheMedians()
    {
        using var scope = NewDisposeScope();
        double[] medians = Trained().medians.data<float>().Select(v => (double)v).ToArray();
        Assert.AreEqual(3.0, medians[0], 0.05, "logistic median");
        Assert.AreEqual(-1.3, medians[1], 0.05, "Laplace median");
    }

    [TestMethod]
    public void Training_CrossEntropyApproachesTheSourceEntropy()
    {
        // Exactly, not by sampling: Σ_k P_k·(−log2 q_k) − Σ_k P_k·(−log2 P_k) over the symbols k of round(y − m),
        // with P the source's masses and q the model's eval likelihoods.
        using var scope = NewDisposeScope();
        EntropyBottleneck model = Trained();
        double[] m = model.medians.data<float>().Select(v => (double)v).ToArray();
        for (int c = 0; c < 2; c++)
        {
            Tensor k = arange(-60, 61, ScalarType.Float64);
            Tensor centres = k + m[c];
            Tensor p = Source(c).interval_mass(centres);
            Tensor y = zeros(121, 2, dtype: ScalarType.Float32);
            y[.., c] = centres.to(ScalarType.Float32);
            y[.., 1 - c] = tensor(m[1 - c], ScalarType.Float32);
            (_, Tensor q) = model.forward(y);
            Tensor qc = q[.., c].to(ScalarType.Float64);
            double crossEntropy = -(p * qc.log2()).sum().item<double>();
            double entropy = -(p * p.log2()).sum().item<double>();
            Console.WriteLine($"channel {c}: cross-entropy {crossEntropy:F4} bits, entropy {entropy:F4} bits, gap {crossEntropy - entropy:F4}");
            Assert.IsTrue(crossEntropy - entropy < 0.02, $"channel {c}: cross-entropy {crossEntropy} bits for an entropy of {entropy}");
        }
    }

    [TestMethod]
    public void Compress_WritesWithinHalfAPercentOfTheEstimate()
    {
        using var scope = NewDisposeScope();
        EntropyBottleneck model = Trained();
        Tensor x = Sample(100_000, new Generator(77)).t().unsqueeze(0);
        (Tensor xHat, Tensor likelihoods) = model.forward(x);
        double estimate = Bits.total(likelihoods.to(ScalarType.Float64)).item<double>();
        byte[][] strings = model.compress(x);
        double written = strings[0].Length * 8.0;
        Console.WriteLine($"written {written} bits, estimated {estimate:F0} bits ({(written / estimate - 1) * 100:F3} %)");
        Assert.IsTrue(written <= estimate * 1.005 + 64, $"written {written} bits for an estimate of {estimate}");
        TensorAssert.Identical(xHat, model.decompress(strings, new long[] { 100_000 }));
    }
}

[TestClass]
public sealed class EntropyBottleneckTests
{
    [TestMethod]
    public void CompressDecompress_EqualsTheEvalForward_ForEveryShape()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(3);
        foreach (int channels in new[] { 1, 3 })
        {
            var model = new EntropyBottleneck(channels);
            using (no_grad()) model.quantiles.add_(randn(model.quantiles.shape, generator: g));
            model.eval();
            model.update();
            foreach (long[] shape in new[] { new long[] { 1, channels }, new long[] { 4, channels }, new long[] { 2, channels, 5 }, new long[] { 3, channels, 4, 6 }, new long[] { 0, channels, 2 } })
            {
                Tensor x = randn(shape, generator: g) * 8;
                if (x.numel() > 2) x.view(-1)[1] = 1e6f;   // far outside the tables: the escape
                if (x.numel() > 3) x.view(-1)[2] = -3e7f;
                byte[][] strings = model.compress(x);
                Assert.AreEqual((int)shape[0], strings.Length);
                Tensor decoded = model.decompress(strings, shape.Skip(2).ToArray());
                CollectionAssert.AreEqual(shape, decoded.shape);
                if (x.numel() > 0) TensorAssert.Identical(model.forward(x).x_hat, decoded);
            }
        }
    }

    [TestMethod]
    public void EvalForward_RoundsAroundTheMedians_AndPricesByCompressAIsFormula()
    {
        using var scope = NewDisposeScope();
        var model = new EntropyBottleneck(2);
        using (no_grad()) model.quantiles.add_(tensor(new[] { 0.3f, -0.4f }).reshape(2, 1, 1));
        model.eval();
        Tensor x = tensor(new[] { 0.9f, -2.2f, 3.5f, 0.1f, -40f, 1e3f }).reshape(3, 2);
        (Tensor xHat, Tensor p) = model.forward(x);
        float[] m = { 0.3f, -0.4f };
        float[] xs = x.data<float>().ToArray();
        TensorAssert.Close(xs.Select((v, i) => (double)(MathF.Round(v - m[i % 2], MidpointRounding.ToEven) + m[i % 2])).ToArray(), xHat, 0);
        // CompressAI: σ(l(ŷ + ½)) − σ(l(ŷ − ½)), floored at 1e−9 (the plain difference where it is accurate).
        using var noGrad = no_grad();
        Tensor values = xHat.t().unsqueeze(1).to(ScalarType.Float64);
        model.to(ScalarType.Float64);
        Tensor expected = (model.logits_cumulative(values + 0.5).sigmoid() - model.logits_cumulative(values - 0.5).sigmoid()).clamp_min(1e-9);
        TensorAssert.Close(expected.squeeze(1).t().data<double>().ToArray(), p, 1e-5, 1e-12);
    }

    [TestMethod]
    public void TrainingForward_EveryMode()
    {
        using var scope = NewDisposeScope();
        Tensor x = randn(64, 2, generator: new Generator(9)) * 3;
        var noisy = new EntropyBottleneck(2);
        (Tensor y, Tensor p) = noisy.forward(x);
        Assert.IsTrue((y - x).abs().max().item<float>() <= 0.5f);
        using (no_grad())
        {
            Tensor expected = noisy.interval_mass(y);
            TensorAssert.Close(expected.data<float>().Select(v => (double)Math.Max(v, 1e-9f)).ToArray(), p, 1e-6);
        }
        // Straight-through rounding and ste_soft_round: integers about the medians, priced by the plain interval mass.
        foreach (QuantizationMode mode in new[] { QuantizationMode.RoundSt, QuantizationMode.SteSoftRound })
        {
            var rounding = new EntropyBottleneck(2, mode);
            using (no_grad()) rounding.quantiles.add_(tensor(new[] { 0.25f, -0.6f }).reshape(2, 1, 1));
            (Tensor yr, Tensor pr) = rounding.forward(x);
            Tensor mr = rounding.medians;
            using (no_grad())
            {
                TensorAssert.Identical((x - mr).round() + mr, yr);
                TensorAssert.Close(rounding.interval_mass(yr).data<float>().Select(v => (double)Math.Max(v, 1e-9f)).ToArray(), pr, 1e-6);
            }
        }
        // Soft round with noise: ŷ = soft_round(y − m, α) + m + u, priced as F(m + s⁻¹(ŷ − m + ½)) − F(m + s⁻¹(ŷ − m − ½)).
        var soft = new EntropyBottleneck(2, QuantizationMode.SoftRoundNoise, alpha: 3);
        using (no_grad()) soft.quantiles.add_(tensor(new[] { 0.25f, -0.6f }).reshape(2, 1, 1));
        (Tensor ys, Tensor ps) = soft.forward(x);
        Tensor m = soft.medians;
        using (no_grad())
        {
            Tensor rounded = SoftRoundOps.soft_round(x - m, 3) + m;
            Assert.IsTrue((ys - rounded).abs().max().item<float>() <= 0.5f + 1e-6f);
            Tensor a = SoftRoundOps.soft_round_inverse(ys - m - 0.5, 3) + m, b = SoftRoundOps.soft_round_inverse(ys - m + 0.5, 3) + m;
            Tensor expected = (soft.cdf(b) - soft.cdf(a)).clamp_min(1e-9);
            TensorAssert.Close(expected.data<float>().Select(v => (double)v).ToArray(), ps, 1e-4, 1e-7);
        }
    }

    [TestMethod]
    public void Gradients_ReachTheInputAndTheDensity_NotTheQuantilesFromTheRate()
    {
        using var scope = NewDisposeScope();
        var model = new EntropyBottleneck(2, QuantizationMode.SoftRoundNoise);
        Tensor x = (randn(16, 2, generator: new Generator(1)) * 2).requires_grad_(true);
        (_, Tensor p) = model.forward(x);
        Bits.total(p).backward();
        Assert.IsTrue(x.grad!.abs().sum().item<float>() > 0);
        Assert.IsTrue(model.named_parameters().First(e => e.name == "matrices.0").parameter.grad!.abs().sum().item<float>() > 0);
        Assert.IsNull(model.quantiles.grad);
        model.loss().backward();
        Assert.IsTrue(model.quantiles.grad!.abs().sum().item<float>() > 0);
    }

    [TestMethod]
    public void RateGradient_OfTheDensitysParameters_MatchesFiniteDifferences_InTrainingAndEval()
    {
        using var scope = NewDisposeScope();
        Tensor x = randn(new long[] { 12, 2 }, ScalarType.Float64, generator: new Generator(4)) * 2;
        foreach ((QuantizationMode mode, bool training) in new[] { (QuantizationMode.RoundSt, true), (QuantizationMode.UniformNoise, false) })
        {
            var model = new EntropyBottleneck(2, mode);
            model.to(ScalarType.Float64);
            model.train(training);
            Tensor bias = model.named_parameters().First(e => e.name == "biases.1").parameter;
            (_, Tensor p) = model.forward(x);
            Bits.total(p).backward();
            double analytic = bias.grad![1, 2, 0].item<double>();
            Assert.AreNotEqual(0.0, analytic, $"{mode}, training {training}");
            const double h = 1e-6;
            double Rate(double shift)
            {
                using var inner = NewDisposeScope();
                using var _ = no_grad();
                double original = bias[1, 2, 0].item<double>();
                bias[1, 2, 0].fill_(original + shift);
                double rate = Bits.total(model.forward(x).likelihoods).item<double>();
                bias[1, 2, 0].fill_(original);
                return rate;
            }
            Assert.AreEqual((Rate(h) - Rate(-h)) / (2 * h), analytic, 1e-6 * Math.Max(1, Math.Abs(analytic)), $"{mode}, training {training}");
        }
    }

    [TestMethod]
    public void Update_BuildsCompressAIsTables()
    {
        using var scope = NewDisposeScope();
        var model = new EntropyBottleneck(1);
        using (no_grad()) model.quantiles.copy_(tensor(new[] { -2.2f, 0.4f, 3.1f }).reshape(1, 1, 3));
        Assert.IsNull(model.quantized_cdf);
        Assert.IsTrue(model.update());
        Assert.IsFalse(model.update(force: false));
        // Values round(y − 0.4) from −⌈2.6⌉ = −3 to ⌈2.7⌉ = 3: seven values and the escape.
        int[] cdf = model.coding_tables!.table(0);
        Assert.AreEqual(9, cdf.Length);
        double[] pmf = Enumerable.Range(-3, 7).Select(k =>
        {
            using var noGrad = no_grad();
            return model.interval_mass(tensor(new[] { 0.4f + k }).reshape(1, 1)).item<float>();
        }).Select(v => (double)v).ToArray();
        int[] freq = cdf.Skip(1).Zip(cdf, (b, a) => b - a).ToArray();
        for (int i = 0; i < 7; i++) Assert.AreEqual(pmf[i] * 65536, freq[i], 2 + 0.002 * pmf[i] * 65536, $"value {i - 3}");
    }

    [TestMethod]
    public void BadInput_NamesTheMemberAndValue()
    {
        using var scope = NewDisposeScope();
        var model = new EntropyBottleneck(2);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.forward(tensor(new[] { 1f, float.NaN }).reshape(1, 2))).Message,
            "EntropyBottleneck.forward: x must be finite; got NaN.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => model.forward(zeros(4, 3))).Message,
            "EntropyBottleneck.forward: x has shape (4, 3); expected (N, 2, …).");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidOperationException>(() => model.compress(zeros(1, 2))).Message,
            "EntropyBottleneck.compress: there are no coding tables yet; call update() first.");
        model.update();
        using (no_grad()) model.quantiles.add_(0.1f);
        StringAssert.Contains(Assert.ThrowsExactly<InvalidOperationException>(() => model.compress(zeros(1, 2))).Message,
            "the parameters changed since update()");
        model.update();
        byte[][] strings = model.compress(randn(1, 2, 50) * 5);
        Assert.ThrowsExactly<InvalidDataException>(() => model.decompress(new[] { strings[0][..^4] }, new long[] { 50 }));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.decompress(strings, new long[] { -1 })).Message, "size has a negative entry -1");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new EntropyBottleneck(2, tailMass: 1)).Message, "EntropyBottleneck: tailMass must be in (0, 1); got 1.");
        using (no_grad()) model.quantiles[0, 0, 2] = tensor(1e6f);
        StringAssert.Contains(Assert.ThrowsExactly<InvalidOperationException>(() => model.update()).Message, "EntropyBottleneck.update: channel 0's quantiles");
    }

    [TestMethod]
    public void Quantiles_StartAtTheInitScale_AndTheAuxiliaryLossIsCompressAIs()
    {
        using var scope = NewDisposeScope();
        var model = new EntropyBottleneck(2, initScale: 7, tailMass: 1e-3);
        TensorAssert.Close(new[] { -7.0, 0, 7, -7, 0, 7 }, model.quantiles, 0);
        using (no_grad()) model.quantiles.add_(tensor(new[] { 0.3f, -1.2f, 2.5f, 0.8f, 0.1f, -0.4f }).reshape(2, 1, 3));
        // Σ |l(q) − t| with t = (−T, 0, T), T = log(2/tail_mass − 1).
        double target = Math.Log(2 / 1e-3 - 1);
        double expected;
        using (no_grad())
        {
            Tensor l = model.logits_cumulative(model.quantiles.detach()).to(ScalarType.Float64);
            expected = (l - tensor(new[] { -target, 0, target }, ScalarType.Float64)).abs().sum().item<double>();
        }
        Tensor loss = model.loss();
        Assert.AreEqual(expected, loss.item<float>(), 1e-5 * expected);
        loss.backward();
        Assert.IsTrue(model.quantiles.grad!.abs().min().item<float>() > 0, "every quantile learns from the auxiliary loss");
        foreach (var (name, p) in model.named_parameters().Where(e => e.name != "quantiles"))
        {
            Assert.IsTrue(p.grad is null || p.grad.abs().max().item<float>() == 0, $"{name} must not learn from the auxiliary loss");
        }
    }

    [TestMethod]
    public void LikelihoodBound_FloorsTheEvalMasses_AndZeroTurnsItOff()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(new[] { 0.2f, 300f }).reshape(1, 2);
        manual_seed(5);
        var floored = new EntropyBottleneck(2, likelihoodBound: 1e-6);
        manual_seed(5);
        var unfloored = new EntropyBottleneck(2, likelihoodBound: 0);
        floored.eval();
        unfloored.eval();
        using var noGrad = no_grad();
        Tensor raw = unfloored.forward(x).likelihoods;
        Assert.IsTrue(raw[0, 1].item<float>() < 1e-6f, "300 lies far in the tail");
        TensorAssert.Close(raw.clamp_min(1e-6).data<float>().Select(v => (double)v).ToArray(), floored.forward(x).likelihoods, 0);
        Assert.AreEqual(0.0, unfloored.likelihood_bound);
    }

    [TestMethod]
    public void Update_TablesUpTo65534Values_AndEachChannelItsOwnLength()
    {
        using var scope = NewDisposeScope();
        var model = new EntropyBottleneck(2);
        // Channel 0 spans −⌈0 − (−32767)⌉ … ⌈32766 − 0⌉: 65534 values, the most a 16-bit table holds beside the escape.
        using (no_grad()) model.quantiles.copy_(tensor(new[] { -32767f, 0f, 32766f, -1.5f, 0.2f, 1.1f }).reshape(2, 1, 3));
        model.update();
        Assert.AreEqual(65536, model.coding_tables!.length(0));
        Assert.AreEqual(6, model.coding_tables!.length(1), "channel 1: −2 … 1 and the escape");
        using (no_grad()) model.quantiles[0, 0, 2] = tensor(32767f);
        StringAssert.Contains(Assert.ThrowsExactly<InvalidOperationException>(() => model.update()).Message,
            "EntropyBottleneck.update: channel 0's quantiles (-32767, 0, 32767) span 65535 values; at most 65534 can be tabled.");
    }

    [TestMethod]
    public void Compress_AnUntrainedModel_WritesWithinHalfAPercentOfTheEstimate()
    {
        using var scope = NewDisposeScope();
        var model = new EntropyBottleneck(3);
        // Quantiles about the medians 1.5, −2.25 and 0.4 that cover the data (as the auxiliary loss would make them),
        // so that values outside the tables, priced by the escape and not by the density, are rare.
        using (no_grad()) model.quantiles.copy_(tensor(new[] { -30f, 1.5f, 30f, -60f, -2.25f, 60f, -100f, 0.4f, 100f }).reshape(3, 1, 3));
        model.eval();
        model.update();
        Tensor x = randn(new long[] { 2, 3, 4000 }, generator: new Generator(12)) * tensor(new[] { 4f, 9f, 15f }).reshape(1, 3, 1);
        (Tensor xHat, Tensor likelihoods) = model.forward(x);
        byte[][] strings = model.compress(x);
        for (int i = 0; i < 2; i++)
        {
            double estimate = Bits.total(likelihoods[i].to(ScalarType.Float64)).item<double>();
            Console.WriteLine($"item {i}: {strings[i].Length * 8} bits for an estimate of {estimate:F0}");
            Assert.IsTrue(strings[i].Length * 8.0 <= estimate * 1.005 + 64, $"item {i}: {strings[i].Length * 8} bits for an estimate of {estimate:F0}");
            Assert.IsTrue(strings[i].Length * 8.0 >= estimate - 64, $"item {i}: {strings[i].Length * 8} bits for an estimate of {estimate:F0}");
        }
        TensorAssert.Identical(xHat, model.decompress(strings, new long[] { 4000 }));
    }

    [TestMethod]
    public void CompressAndDecompress_BadArguments_NameTheMemberAndValue()
    {
        using var scope = NewDisposeScope();
        var model = new EntropyBottleneck(2);
        StringAssert.Contains(Assert.ThrowsExactly<InvalidOperationException>(() => model.decompress(new[] { new byte[8] }, new long[] { 1 })).Message,
            "EntropyBottleneck.decompress: there are no coding tables yet");
        model.update();
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => model.compress(zeros(new long[] { 1, 2 }, ScalarType.Int32))).Message, "EntropyBottleneck.compress: x has dtype Int32; expected float16");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => model.compress(zeros(1, 3))).Message, "EntropyBottleneck.compress: x has shape (1, 3); expected (N, 2, …).");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.compress(tensor(new[] { 1f, float.PositiveInfinity }).reshape(1, 2))).Message,
            "EntropyBottleneck.compress: x must be finite");
        Assert.AreEqual("strings", Assert.ThrowsExactly<ArgumentNullException>(() => model.decompress(null!, new long[] { 1 })).ParamName);
        Assert.AreEqual("size", Assert.ThrowsExactly<ArgumentNullException>(() => model.decompress(new[] { new byte[8] }, null!)).ParamName);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentNullException>(() => model.decompress(new byte[][] { model.compress(zeros(1, 2))[0], null! }, Array.Empty<long>())).Message,
            "EntropyBottleneck.decompress: strings[1] is null.");
        // An empty spatial size is allowed: (N, C, 0).
        Tensor empty = zeros(1, 2, 0);
        CollectionAssert.AreEqual(new long[] { 1, 2, 0 }, model.decompress(model.compress(empty), new long[] { 0 }).shape);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new EntropyBottleneck(2, tailMass: 0)).Message, "EntropyBottleneck: tailMass must be in (0, 1); got 0.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new EntropyBottleneck(2, likelihoodBound: -1e-9)).Message, "EntropyBottleneck: likelihoodBound");
    }

    [TestMethod]
    public void NoLeaks()
    {
        using var scope = NewDisposeScope();
        var model = new EntropyBottleneck(2);
        model.update();
        Tensor x = randn(3, 2, 8);
        void Step()
        {
            using var inner = NewDisposeScope();
            model.train();
            (_, Tensor p) = model.forward(x);
            (Bits.total(p) + model.loss()).backward();
            model.eval();
            model.forward(x);
            model.zero_grad();
        }
        Step();
        Step();
        long before = LiveTensors.Count();
        for (int i = 0; i < 10; i++) Step();
        Assert.AreEqual(before, LiveTensors.Count());
    }

    [TestMethod]
    public void EvalForward_KeepsFloat16AndBFloat16()
    {
        using var scope = NewDisposeScope();
        var model = new EntropyBottleneck(2);
        model.eval();
        Tensor x = tensor(new[] { 0.3f, -1.6f, 2.4f, 7.1f }).reshape(1, 2, 2);
        (Tensor reference, Tensor referenceP) = model.forward(x);
        foreach (ScalarType dtype in new[] { ScalarType.Float16, ScalarType.BFloat16 })
        {
            (Tensor yHat, Tensor p) = model.forward(x.to(dtype));
            Assert.AreEqual(dtype, yHat.dtype);
            Assert.AreEqual(dtype, p.dtype);
            TensorAssert.Identical(reference.to(dtype), yHat);
            TensorAssert.Identical(referenceP.to(dtype), p);
        }
    }

    [TestMethod]
    public void UpdateQuantiles_FindsCompressAIsQuantiles()
    {
        // The fixture's bottleneck before CompressAI's update(update_quantiles=True), and the quantiles that search found.
        using var scope = NewDisposeScope();
        Dictionary<string, Tensor> before = CompressAIFixtures.Read("bmshj2018-factorized.before-update.pt");
        Dictionary<string, Tensor> io = CompressAIFixtures.Read("bmshj2018-factorized.io.pt");
        var model = new SoftRound.Tf.Compression.FactorizedPrior(CompressAIFixtures.N, CompressAIFixtures.M);
        model.load_compressai_state_dict(before);
        Assert.IsNull(model.EntropyBottleneck.coding_tables, "a checkpoint saved before update() has no tables");
        Assert.IsTrue(model.update(updateQuantiles: true));
        Tensor found = model.EntropyBottleneck.quantiles.detach();
        Tensor expected = io["quantiles_searched"];
        // Both stop once the bracket is within 1e−3 + 1e−4·|q|, so they agree to about twice that.
        Assert.IsTrue(found.allclose(expected, rtol: 2e-4, atol: 2e-3), $"largest difference {(found - expected).abs().max().item<float>()}");
        // And the logits there are the targets −T, 0, T.
        Tensor logits = model.EntropyBottleneck.logits_cumulative(found.to(ScalarType.Float32));
        Tensor targets = tensor(new[] { -Math.Log(2 / 1e-9 - 1), 0, Math.Log(2 / 1e-9 - 1) }, ScalarType.Float32).reshape(1, 1, 3);
        Assert.IsTrue(logits.allclose(targets.expand_as(logits), rtol: 0, atol: 0.05));
    }

    [TestMethod]
    public void UpdateQuantiles_BadArguments_NameTheParameter()
    {
        var model = new EntropyBottleneck(1);
        foreach ((string name, Action call) in new (string, Action)[]
        {
            ("searchRadius", () => model.update_quantiles(searchRadius: 0)),
            ("rtol", () => model.update_quantiles(rtol: double.NaN)),
            ("atol", () => model.update_quantiles(atol: -1)),
            ("rtol", () => model.update_quantiles(rtol: 0)),
            ("atol", () => model.update_quantiles(atol: 0)),
        })
        {
            var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(call);
            Assert.AreEqual(name, e.ParamName);
            StringAssert.StartsWith(e.Message, "EntropyBottleneck.update_quantiles: ");
        }
    }

    [TestMethod]
    public void Decompress_HugeRequests_AreRefusedBeforeAllocating()
    {
        using var scope = NewDisposeScope();
        var model = new EntropyBottleneck(48);
        model.update();
        // A 65535×65535 image's latents at 1/16: 4096·4096·48 elements, more than one call decodes.
        var e = Assert.ThrowsExactly<InvalidDataException>(() => model.decompress(new[] { new byte[10] }, new long[] { 4096, 4096 }));
        StringAssert.Contains(e.Message, "EntropyBottleneck.decompress: the request is for 805306368 elements; at most 268435456 are decoded in one call.");
        Assert.ThrowsExactly<InvalidDataException>(() => model.decompress(new[] { new byte[10] }, new long[] { long.MaxValue, long.MaxValue }));
        // Within the count, but the untrained tables' symbols cost at least 2.6 bits each: 10 bytes cannot hold 64·64·48.
        e = Assert.ThrowsExactly<InvalidDataException>(() => model.decompress(new[] { new byte[10] }, new long[] { 64, 64 }));
        StringAssert.Contains(e.Message, "EntropyBottleneck.decompress: strings[0] has 10 bytes, but its 196608 symbols need at least");
        // Two images: each stream's own symbols, and the bound sums every channel's least bits: the cost of its likeliest
        // value, −log2(f/2^16), less 2^−13 for rANS's rounding, summed over the 48 channels.
        e = Assert.ThrowsExactly<InvalidDataException>(() => model.decompress(new[] { new byte[10], new byte[10] }, new long[] { 64, 64 }));
        double bits = 4096 * Enumerable.Range(0, 48).Sum(c =>
        {
            int[] row = model.quantized_cdf![c].data<int>().ToArray();
            return -Math.Log2(row.Skip(1).Zip(row, (b, a) => b - a).Max() / 65536.0) - 1.0 / 8192;
        });
        StringAssert.Contains(e.Message, $"strings[0] has 10 bytes, but its 196608 symbols need at least {Math.Ceiling(bits / 8)} with these tables");
    }

    [TestMethod]
    public void Tables_AsCompressAIStoresThem()
    {
        using var scope = NewDisposeScope();
        var model = new EntropyBottleneck(2);
        using (no_grad()) model.quantiles.copy_(tensor(new[] { -2.2f, 0.4f, 3.1f, -1.5f, 0.2f, 1.1f }).reshape(2, 1, 3));
        Assert.IsNull(model.quantized_cdf);
        model.update();
        // Channel 0: −⌈2.6⌉ … ⌈2.7⌉, 7 values; channel 1: −⌈1.7⌉ … ⌈0.9⌉, 4 values.
        CollectionAssert.AreEqual(new[] { -3, -2 }, model.offset!.data<int>().ToArray());
        CollectionAssert.AreEqual(new[] { 9, 6 }, model.cdf_length!.data<int>().ToArray());
        CollectionAssert.AreEqual(model.coding_tables!.table(1).Concat(new int[3]).ToArray(), model.quantized_cdf![1].data<int>().ToArray());
    }
}
