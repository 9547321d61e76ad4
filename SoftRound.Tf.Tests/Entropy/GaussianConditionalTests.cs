using System;
using System.IO;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Entropy;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Entropy;

[TestClass]
public sealed class GaussianConditionalTests
{
    /// <summary>−Φ⁻¹(5e−10), from mpmath at 30 digits: the half-width of each table in scales (tail mass 1e−9).</summary>
    private const double Multiplier = 6.10941020486939713993543529844;

    private static double Phi(double z)
    {
        using var scope = NewDisposeScope();
        return new NormalDensity(tensor(0.0, ScalarType.Float64), tensor(1.0, ScalarType.Float64)).cdf(tensor(z, ScalarType.Float64)).item<double>();
    }

    [TestMethod]
    public void GetScaleTable_IsCompressAIs()
    {
        double[] table = GaussianConditional.get_scale_table();
        Assert.AreEqual(64, table.Length);
        Assert.AreEqual(0.11, table[0], 1e-15);
        Assert.AreEqual(256, table[^1], 1e-12);
        Assert.AreEqual(Math.Exp((Math.Log(0.11) + Math.Log(256)) / 2), Math.Sqrt(table[31] * table[32]), 1e-12);
    }

    [TestMethod]
    public void Likelihood_IsCompressAIsFormula()
    {
        // p = Φ((½ − |ŷ − μ|)/σ') − Φ((−½ − |ŷ − μ|)/σ'), σ' = max(σ, 0.11f) (CompressAI's float32 bound), floored at
        // 1e−9; eval ŷ = round(y − μ) + μ.
        using var scope = NewDisposeScope();
        var model = new GaussianConditional();
        model.eval();
        double[] y = { 0.3, -2.6, 7.9, 0.0, 40.0, -1.2 }, mu = { 0.1, -3.0, 1.0, 0.45, 0.0, -1.2 }, sigma = { 1.0, 0.05, 2.5, 0.3, 0.5, 1e-4 };
        (Tensor yHat, Tensor p) = model.forward(tensor(y, ScalarType.Float64), tensor(sigma, ScalarType.Float64), tensor(mu, ScalarType.Float64));
        double[] expectedHat = y.Zip(mu, (a, m) => Math.Round(a - m, MidpointRounding.ToEven) + m).ToArray();
        TensorAssert.Close(expectedHat, yHat, 0);
        double[] expected = expectedHat.Select((h, i) =>
        {
            double v = Math.Abs(h - mu[i]), s = Math.Max(sigma[i], (double)0.11f);
            return Math.Max(Phi((0.5 - v) / s) - Phi((-0.5 - v) / s), 1e-9);
        }).ToArray();
        TensorAssert.Close(expected, p, 1e-13);
    }

    [TestMethod]
    public void BuildIndexes_PicksTheFirstTableAtOrAboveTheScale()
    {
        using var scope = NewDisposeScope();
        var model = new GaussianConditional(new[] { 0.2, 0.5, 1.0, 4.0 });
        double[] s = { 0.01, 0.2, 0.2001, 0.5, 0.7, 1.0, 3.9, 4.0, 100.0 };
        // CompressAI: start at the last index and step down once for every table entry but the last that is ≥ the scale.
        int[] expected = s.Select(v => 3 - new[] { 0.2, 0.5, 1.0 }.Count(t => Math.Max(v, 0.11) <= t)).ToArray();
        CollectionAssert.AreEqual(expected, model.build_indexes(tensor(s, ScalarType.Float64)).data<int>().ToArray());
    }

    [TestMethod]
    public void Update_TablesSpanTheTailMass()
    {
        using var scope = NewDisposeScope();
        var model = new GaussianConditional(new[] { 0.11, 1.0, 256.0 });
        Assert.IsNull(model.quantized_cdf);
        Assert.IsTrue(model.update());
        Assert.IsFalse(model.update(force: false));
        // Table j holds |v| ≤ ⌈σ_j·6.1094…⌉ = 1, 7, 1565: 2c + 1 values, the escape and the leading 0.
        int[][] tables = Tables(model.coding_tables!);
        CollectionAssert.AreEqual(new[] { 1, 7, 1565 }.Select(c => 2 * c + 3).ToArray(), tables.Select(t => t.Length).ToArray());
        CollectionAssert.AreEqual(new[] { 1, 7, 1565 }, new[] { 0.11, 1.0, 256.0 }.Select(v => (int)Math.Ceiling(v * Multiplier)).ToArray());
        // The middle frequency of the unit-scale table is the mass of [−½, ½] under N(0, 1) in 16 bits, give or take the
        // few units the repair to a total of 2^16 moves.
        int[] unit = tables[1];
        double centre = Phi(0.5) - Phi(-0.5);
        Assert.AreEqual(centre * 65536, unit[8] - unit[7], 4);
    }

    [TestMethod]
    public void CompressDecompress_EqualsTheEvalForward()
    {
        using var scope = NewDisposeScope();
        var model = new GaussianConditional();
        model.eval();
        model.update();
        var g = new Generator(4);
        foreach (long[] shape in new[] { new long[] { 1, 5 }, new long[] { 3, 2, 4, 4 }, new long[] { 2, 7 } })
        {
            Tensor scales = rand(shape, generator: g) * 20 + 0.01f;
            Tensor means = randn(shape, generator: g) * 3;
            Tensor y = means + randn(shape, generator: g) * scales;
            y.view(-1)[0] = 5e5f;
            Tensor indexes = model.build_indexes(scales);
            foreach (Tensor? m in new[] { means, null })
            {
                byte[][] strings = model.compress(y, indexes, m);
                Tensor decoded = model.decompress(strings, indexes, m);
                TensorAssert.Identical(model.forward(y, scales, m).x_hat, decoded);
            }
        }
    }

    [TestMethod]
    public void Compress_WritesWithinHalfAPercentOfTheEstimate()
    {
        // Latents drawn from the model's own Gaussians, with scales on the table: the bits written against −Σ log2 p.
        using var scope = NewDisposeScope();
        var model = new GaussianConditional();
        model.eval();
        model.update();
        var g = new Generator(8);
        Tensor table = model.scale_table;
        Tensor scales = table[randint(0, 40, new long[] { 1, 200_000 }, generator: g)];
        Tensor means = randn(1, 200_000, generator: g) * 4;
        Tensor y = means + randn(1, 200_000, generator: g) * scales;
        (_, Tensor p) = model.forward(y, scales, means);
        double estimate = Bits.total(p.to(ScalarType.Float64)).item<double>();
        double written = model.compress(y, model.build_indexes(scales), means)[0].Length * 8.0;
        Console.WriteLine($"written {written} bits, estimated {estimate:F0} bits ({(written / estimate - 1) * 100:F3} %)");
        Assert.IsTrue(written <= estimate * 1.005 + 64, $"written {written} bits for an estimate of {estimate}");
    }

    [TestMethod]
    public void SoftRoundNoise_PricesTheSoftRoundedLatent()
    {
        using var scope = NewDisposeScope();
        var model = new GaussianConditional(mode: QuantizationMode.SoftRoundNoise, alpha: 2);
        Tensor y = tensor(new[] { 0.3, -1.7, 2.2 }, ScalarType.Float64);
        Tensor mu = tensor(new[] { 0.1, 0.0, 1.5 }, ScalarType.Float64);
        Tensor sigma = tensor(new[] { 0.8, 2.0, 0.3 }, ScalarType.Float64);
        (Tensor yHat, Tensor p) = model.forward(y, sigma, mu);
        var density = new SoftRoundAdapter(new NormalDensity(tensor(0.0, ScalarType.Float64), sigma), 2);
        TensorAssert.Close(density.interval_mass(yHat - mu).data<double>().ToArray(), p, 1e-14);
        Assert.IsTrue((yHat - (SoftRoundOps.soft_round(y - mu, 2) + mu)).abs().max().item<double>() <= 0.5);
    }

    [TestMethod]
    public void XHatModeRoundSt_GivesTheRoundedValuesAStraightThroughGradient_AndKeepsTheProxysLikelihoods()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(new[] { -2.7, -0.4, 0.3, 1.6, 4.2 }, ScalarType.Float64).requires_grad_();
        Tensor scales = tensor(new[] { 0.5, 1.0, 2.0, 0.8, 3.0 }, ScalarType.Float64);
        Tensor means = tensor(new[] { 0.1, -0.3, 0.0, 0.5, 1.0 }, ScalarType.Float64);
        var proxy = new GaussianConditional(mode: QuantizationMode.SoftRoundNoise, alpha: 3);
        var mixed = new GaussianConditional(mode: QuantizationMode.SoftRoundNoise, alpha: 3) { x_hat_mode = QuantizationMode.RoundSt };
        proxy.quantizer.generator = new Generator(7);
        mixed.quantizer.generator = new Generator(7);
        (Tensor noisy, Tensor pProxy) = proxy.forward(x, scales, means);
        (Tensor rounded, Tensor pMixed) = mixed.forward(x, scales, means);
        // round(x − μ) + μ: −2.8 → −3, −0.1 → 0, 0.3 → 0, 1.1 → 1, 3.2 → 3.
        TensorAssert.Close(new[] { -2.9, -0.3, 0.0, 1.5, 4.0 }, rounded, 1e-15);
        Assert.IsTrue((noisy - rounded).abs().max().item<double>() > 0.05, "the proxy's values are not rounded");
        CollectionAssert.AreEqual(pProxy.data<double>().ToArray(), pMixed.data<double>().ToArray());
        Tensor weights = tensor(new[] { 1.0, -2.0, 3.0, 0.5, -1.5 }, ScalarType.Float64);
        Tensor gradient = autograd.grad(new[] { (rounded * weights).sum() }, new[] { x })[0];
        CollectionAssert.AreEqual(weights.data<double>().ToArray(), gradient.data<double>().ToArray());
        mixed.eval();
        proxy.eval();
        CollectionAssert.AreEqual(proxy.forward(x, scales, means).x_hat.data<double>().ToArray(), mixed.forward(x, scales, means).x_hat.data<double>().ToArray());
    }

    [TestMethod]
    public void XHatMode_NotAQuantizationMode_IsRefused_AndTheModeKept()
    {
        var model = new GaussianConditional { x_hat_mode = QuantizationMode.SteSoftRound };
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.x_hat_mode = (QuantizationMode)99).Message,
            "GaussianConditional.x_hat_mode: x_hat_mode is not a QuantizationMode; got 99.");
        Assert.AreEqual(QuantizationMode.SteSoftRound, model.x_hat_mode);
        model.x_hat_mode = null;
        Assert.IsNull(model.x_hat_mode);
    }

    [TestMethod]
    public void BadInput_NamesTheMemberAndValue()
    {
        using var scope = NewDisposeScope();
        var model = new GaussianConditional();
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.forward(zeros(3), tensor(new[] { 1f, float.NaN, 1f }))).Message,
            "GaussianConditional.forward: scales must be finite; got NaN.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.forward(tensor(new[] { float.PositiveInfinity }), ones(1))).Message,
            "GaussianConditional.forward: x must be finite; got Infinity.");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidOperationException>(() => model.compress(zeros(1, 2), zeros(new long[] { 1, 2 }, ScalarType.Int32))).Message,
            "GaussianConditional.compress: there are no coding tables yet; call update() first.");
        model.update();
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.compress(zeros(1, 2), tensor(new[] { 0, 64 }).reshape(1, 2))).Message,
            "GaussianConditional.compress: an index is 64; expected 0 to 63.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => model.compress(zeros(1, 2), tensor(new[] { 0 }).reshape(1, 1))).Message,
            "GaussianConditional.compress: indexes has dtype Int32 and shape (1, 1); expected int32 or int64 of shape (1, 2).");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => model.decompress(new[] { new byte[5] }, tensor(new[] { 0, 1 }).reshape(2, 1))).Message,
            "indexes has shape (2, 1) for 1 streams");
        byte[][] strings = model.compress(randn(1, 30) * 3, full(new long[] { 1, 30 }, 20, ScalarType.Int32));
        Assert.ThrowsExactly<InvalidDataException>(() => model.decompress(new[] { strings[0][..^4] }, full(new long[] { 1, 30 }, 20, ScalarType.Int32)));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new GaussianConditional(new[] { 1.0, 0.5 })).Message,
            "GaussianConditional: scaleTable[1] is 0.5; the entries must be finite, > 0 and strictly increasing in float32.");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidOperationException>(() => new GaussianConditional(new[] { 1e5 }).update()).Message,
            "GaussianConditional.update: scale_table[0] = 100000 needs");
    }

    [TestMethod]
    public void Update_WithoutForce_BuildsOnlyTheFirstTime_AndTheEscapeHoldsTheTailMass()
    {
        using var scope = NewDisposeScope();
        // Tail mass 2Φ(−1): each table spans |v| ≤ ⌈σ⌉, and the escape holds 2Φ(−(c + ½)/σ) of the mass.
        double tailMass = 2 * Phi(-1);
        double[] scales = { 0.6, 2.3, 7.5 };
        var model = new GaussianConditional(scales, tailMass: tailMass);
        Assert.IsTrue(model.update(force: false), "the first update builds the tables");
        Assert.IsFalse(model.update(force: false));
        Assert.IsTrue(model.update());
        int[][] tables = Tables(model.coding_tables!);
        for (int j = 0; j < scales.Length; j++)
        {
            int c = (int)Math.Ceiling(scales[j]);
            Assert.AreEqual(2 * c + 3, tables[j].Length, $"table {j}");
            double escape = 2 * Phi(-(c + 0.5) / scales[j]);
            Assert.AreEqual(escape * 65536, tables[j][^1] - tables[j][^2], 3 + 0.002 * escape * 65536, $"table {j}'s escape");
        }
    }

    [TestMethod]
    public void Update_TablesUpTo65533Values()
    {
        using var scope = NewDisposeScope();
        // With tail mass 2Φ(−1) a table spans |v| ≤ ⌈σ⌉: σ = 32765.5 gives 65533 values, the most an odd span can have
        // beside the escape; σ = 32766.5 would need 65535.
        double tailMass = 2 * Phi(-1);
        var largest = new GaussianConditional(new[] { 32765.5 }, tailMass: tailMass);
        largest.update();
        Assert.AreEqual(65535, largest.coding_tables!.length(0));
        StringAssert.Contains(Assert.ThrowsExactly<InvalidOperationException>(() => new GaussianConditional(new[] { 32766.5 }, tailMass: tailMass).update()).Message,
            "GaussianConditional.update: scale_table[0] = 32766.5 needs 65535 values for tail mass");
        StringAssert.EndsWith(Assert.ThrowsExactly<InvalidOperationException>(() => new GaussianConditional(new[] { 32766.5 }, tailMass: tailMass).update()).Message,
            "at most 65534 can be tabled.");
    }

    [TestMethod]
    public void TrainingWithNoise_AndEvalWithSoftRound_ArePricedByTheNormalIntervalMass()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(new[] { -2.7, -0.4, 0.3, 1.6, 4.2 }, ScalarType.Float64);
        Tensor scales = tensor(new[] { 0.5, 1.0, 2.0, 0.8, 3.0 }, ScalarType.Float64);
        Tensor means = tensor(new[] { 0.1, -0.3, 0.0, 0.5, 1.0 }, ScalarType.Float64);
        foreach ((QuantizationMode mode, bool training) in new[] { (QuantizationMode.UniformNoise, true), (QuantizationMode.SoftRoundNoise, false) })
        {
            var model = new GaussianConditional(mode: mode, alpha: 2);
            model.train(training);
            (Tensor y, Tensor p) = model.forward(x, scales, means);
            double[] ys = y.data<double>().ToArray(), s = scales.data<double>().ToArray(), m = means.data<double>().ToArray();
            double[] expected = ys.Select((v, i) => Phi((v - m[i] + 0.5) / s[i]) - Phi((v - m[i] - 0.5) / s[i])).ToArray();
            TensorAssert.Close(expected, p, 1e-12, 1e-15);
        }
    }

    [TestMethod]
    public void BadConstruction_NamesTheParameterAndValue()
    {
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new GaussianConditional(Array.Empty<double>())).Message, "GaussianConditional: scaleTable is empty.");
        foreach (double[] table in new[] { new[] { -1.0 }, new[] { 0.0 }, new[] { double.PositiveInfinity }, new[] { 0.5, 0.5 } })
        {
            var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new GaussianConditional(table));
            Assert.AreEqual("scaleTable", e.ParamName);
            StringAssert.Contains(e.Message, $"scaleTable[{table.Length - 1}] is {table[^1]}; the entries must be finite, > 0 and strictly increasing in float32.");
        }
        Assert.AreEqual("scaleBound", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new GaussianConditional(scaleBound: 0)).ParamName);
        Assert.AreEqual("scaleBound", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new GaussianConditional(scaleBound: -0.1)).ParamName);
        foreach (double tail in new[] { 0.0, 1.0, 1.5, double.NaN })
        {
            StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new GaussianConditional(tailMass: tail)).Message, $"GaussianConditional: tailMass must be in (0, 1); got {tail}.");
        }
        Assert.AreEqual("likelihoodBound", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new GaussianConditional(likelihoodBound: -1e-9)).ParamName);
        Assert.AreEqual(0.0, new GaussianConditional(likelihoodBound: 0).likelihood_bound);
    }

    [TestMethod]
    public void BadArguments_OfEveryMember_NameTheMemberAndParameter()
    {
        using var scope = NewDisposeScope();
        var model = new GaussianConditional();
        Tensor nan = tensor(new[] { 0f, float.NaN });
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => model.forward(zeros(new long[] { 2 }, ScalarType.Int32), ones(2))).Message, "GaussianConditional.forward: x has dtype Int32; expected float16");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.forward(zeros(2), ones(2), nan)).Message, "GaussianConditional.forward: means must be finite; got NaN.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.build_indexes(tensor(new[] { 1f, float.NegativeInfinity }))).Message, "GaussianConditional.build_indexes: scales must be finite; got -Infinity.");
        model.update();
        Tensor indexes = zeros(new long[] { 2 }, ScalarType.Int32);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => model.compress(zeros(new long[] { 2 }, ScalarType.Int64), indexes)).Message, "GaussianConditional.compress: x has dtype Int64; expected float16");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => model.compress(tensor(1f), indexes)).Message, "GaussianConditional.compress: x is 0-dim; expected a batch dimension first.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.compress(nan, indexes)).Message, "GaussianConditional.compress: x must be finite; got NaN.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.compress(zeros(2), indexes, nan)).Message, "GaussianConditional.compress: means must be finite; got NaN.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentNullException>(() => model.compress(zeros(2), null!)).Message, "GaussianConditional.compress: indexes is null.");
        // One stream per element of a 1-dim batch decodes; bad arguments to decompress name it.
        Tensor x = tensor(new[] { 2.2f, -3.9f });
        byte[][] strings = model.compress(x, indexes);
        TensorAssert.Identical(x.round(), model.decompress(strings, indexes));
        Assert.AreEqual("strings", Assert.ThrowsExactly<ArgumentNullException>(() => model.decompress(null!, indexes)).ParamName);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentNullException>(() => model.decompress(new[] { strings[0], null! }, indexes)).Message, "GaussianConditional.decompress: strings[1] is null.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentNullException>(() => model.decompress(strings, null!)).Message, "GaussianConditional.decompress: indexes is null.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.decompress(strings, tensor(new[] { 0, 99 }))).Message, "GaussianConditional.decompress: an index is 99; expected 0 to 63.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.decompress(strings, indexes, nan)).Message, "GaussianConditional.decompress: means must be finite; got NaN.");
    }

    [TestMethod]
    public void ToFloat64_KeepsTheScaleTable()
    {
        var model = new GaussianConditional();
        model.to(ScalarType.Float64);
        Assert.AreEqual(ScalarType.Float64, model.scale_table.dtype);
        model.update();
    }

    [TestMethod]
    public void NonPositiveScales_AreBounded_WithCompressAIsGradientRule()
    {
        // CompressAI's mbt2018-mean ends h_s in a plain convolution: scales ≤ 0 must price as σ' = the bound, and their
        // gradient pass only where a descent step would raise them (incoming gradient < 0). A bound of 1 makes both
        // cases clear: at ŷ = 0 a larger σ lowers p, at ŷ = 2 it raises p.
        using var scope = NewDisposeScope();
        var model = new GaussianConditional(scaleBound: 1.0);
        model.eval();
        Tensor scales = tensor(new[] { -3f, 0f, 0.5f, -1f, 1.5f }, requires_grad: true);
        Tensor y = tensor(new[] { 0f, 0f, 0f, 2f, 0f });
        (_, Tensor p) = model.forward(y, scales);
        double F(double v, double s) => -Math.Log(Phi((0.5 - v) / s) - Phi((-0.5 - v) / s));
        double[] expected = new[] { (0.0, 1.0), (0, 1), (0, 1), (2, 1), (0, 1.5) }.Select(c => Math.Exp(-F(c.Item1, c.Item2))).ToArray();
        TensorAssert.Close(expected, p, 1e-5);
        p.log().neg().sum().backward();
        float[] g = scales.grad!.data<float>().ToArray();
        double h = 1e-4;
        double Slope(double v, double s) => (F(v, s + h) - F(v, s - h)) / (2 * h);
        // Below the bound at ŷ = 0: −log p's gradient is positive, so blocked.
        CollectionAssert.AreEqual(new[] { 0f, 0f, 0f }, g[..3]);
        Assert.IsGreaterThan(0, Slope(0, 1));
        // Below the bound at ŷ = 2: negative, so passed, with the slope at the bound; above the bound: the slope there.
        Assert.AreEqual(Slope(2, 1), g[3], 1e-3 * Math.Abs(g[3]));
        Assert.IsLessThan(0f, g[3]);
        Assert.AreEqual(Slope(0, 1.5), g[4], 1e-3 * Math.Abs(g[4]));
    }

    [TestMethod]
    public void BuildIndexes_ScalesAtOrBelowTheBound_UseTableEntry0()
    {
        using var scope = NewDisposeScope();
        var model = new GaussianConditional();
        float above = MathF.BitIncrement(0.11f);
        CollectionAssert.AreEqual(new[] { 0, 0, 0, 0, 1 }, model.build_indexes(tensor(new[] { -5f, 0f, 0.01f, 0.11f, above })).data<int>().ToArray());
        // In float64 the comparison is with the float32 table's values, as CompressAI promotes them: 0.11 lies above 0.11f.
        CollectionAssert.AreEqual(new[] { 0, 1 }, model.build_indexes(tensor(new[] { (double)0.11f, 0.11 }, ScalarType.Float64)).data<int>().ToArray());
    }

    [TestMethod]
    public void BuildIndexes_OfViews_EqualThoseOfContiguousCopies()
    {
        using var scope = NewDisposeScope();
        var model = new GaussianConditional();
        Tensor scales = rand(new long[] { 6, 7 }, generator: manual_seed(3)) * 40 - 5;
        Tensor view = scales.t();
        Assert.IsFalse(view.is_contiguous());
        TensorAssert.Identical(model.build_indexes(view.contiguous()), model.build_indexes(view));
        TensorAssert.Identical(model.build_indexes(scales[.., 1..4].contiguous()), model.build_indexes(scales[.., 1..4]));
    }

    [TestMethod]
    public void UpdateScaleTable_ReplacesTheTableAndRebuilds_OnlyWhenForcedOrWithoutTables()
    {
        using var scope = NewDisposeScope();
        var model = new GaussianConditional(new[] { 0.5, 1.0 });
        Assert.IsTrue(model.update_scale_table(new[] { 0.2, 0.4, 8.0 }));
        CollectionAssert.AreEqual(new[] { 0.2f, 0.4f, 8f }, model.scale_table.data<float>().ToArray());
        Assert.AreEqual(3, model.coding_tables!.count);
        Assert.IsFalse(model.update_scale_table(new[] { 1.0 }), "tables exist and force is false");
        Assert.AreEqual(3, model.coding_tables!.count);
        Assert.IsTrue(model.update_scale_table(new[] { 1.0 }, force: true));
        Assert.AreEqual(1, model.coding_tables!.count);
        // A bad table is refused before anything changes.
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.update_scale_table(new[] { 1.0, 1.0 + 1e-9 }, force: true));
        StringAssert.Contains(e.Message, "GaussianConditional.update_scale_table: scaleTable[1] is 1.000000001; the entries must be finite, > 0 and strictly increasing in float32.");
        // A table too wide for its tail mass fails in update(): the previous table and tables stay.
        var narrow = new GaussianConditional(new[] { 1.0 }, tailMass: 2 * Phi(-1));
        narrow.update();
        Assert.ThrowsExactly<InvalidOperationException>(() => narrow.update_scale_table(new[] { 1.0, 40000.0 }, force: true));
        CollectionAssert.AreEqual(new[] { 1f }, narrow.scale_table.data<float>().ToArray());
        Assert.AreEqual(1, narrow.coding_tables!.count);
        narrow.compress(zeros(1, 3), zeros(new long[] { 1, 3 }, ScalarType.Int32));
    }

    [TestMethod]
    public void UpdateScaleTable_InsideADisposeScope_LeavesTheModuleItsTable()
    {
        var model = new GaussianConditional(new[] { 0.5, 1.0 });
        using (NewDisposeScope()) model.update_scale_table(new[] { 0.2, 0.4, 8.0 }, force: true);
        // The new buffer outlives the scope it was made in (it was disposed with it: "Tensor invalid -- empty handle").
        CollectionAssert.AreEqual(new[] { 0.2f, 0.4f, 8f }, model.scale_table.data<float>().ToArray());
        using var scope = NewDisposeScope();
        Tensor indexes = model.build_indexes(tensor(new[] { 0.3f, 5f }).reshape(1, 2));
        CollectionAssert.AreEqual(new[] { 1, 2 }, indexes.data<int>().ToArray());
        model.Dispose();
    }

    [TestMethod]
    public void Tables_AsCompressAIStoresThem()
    {
        using var scope = NewDisposeScope();
        var model = new GaussianConditional(new[] { 0.3, 2.0 });
        Assert.IsNull(model.quantized_cdf);
        Assert.IsNull(model.offset);
        Assert.IsNull(model.cdf_length);
        model.update();
        QuantizedCdf cdfs = model.coding_tables!;
        // ⌈0.3·6.109⌉ = 2 and ⌈2·6.109⌉ = 13: tables of 5 and 27 values, each with the escape and the leading 0.
        CollectionAssert.AreEqual(new[] { -2, -13 }, model.offset!.data<int>().ToArray());
        CollectionAssert.AreEqual(new[] { 7, 29 }, model.cdf_length!.data<int>().ToArray());
        Tensor padded = model.quantized_cdf!;
        CollectionAssert.AreEqual(new long[] { 2, 29 }, padded.shape);
        CollectionAssert.AreEqual(cdfs.table(0).Concat(new int[22]).ToArray(), padded[0].data<int>().ToArray());
        CollectionAssert.AreEqual(cdfs.table(1), padded[1].data<int>().ToArray());
        // The three describe the same tables again.
        QuantizedCdf again = EntropyTables.ParsePadded(padded, model.cdf_length!, model.offset!);
        CollectionAssert.AreEqual(cdfs.table(1), again.table(1));
        Assert.AreEqual(-13, again.offset(1));
    }

    [TestMethod]
    public void Decompress_StreamsTooShortForTheirSymbols_AreRefusedBeforeDecoding()
    {
        using var scope = NewDisposeScope();
        var model = new GaussianConditional(new[] { 5.0 });
        model.update();
        // Every symbol of a σ = 5 table costs at least −log2 of its likeliest value's frequency, about 3.9 bits: a
        // 5-byte stream cannot hold 100 of them.
        var e = Assert.ThrowsExactly<InvalidDataException>(() => model.decompress(new[] { new byte[5] }, zeros(new long[] { 1, 100 }, ScalarType.Int32)));
        StringAssert.Contains(e.Message, "GaussianConditional.decompress: strings[0] has 5 bytes, but its 100 symbols need at least");
    }

    private static int[][] Tables(QuantizedCdf cdfs) => Enumerable.Range(0, cdfs.count).Select(cdfs.table).ToArray();

    [TestMethod]
    public void Float64Indexer_GivesBuildIndexesIndexes_AtTheTablesEntriesAndTheBound()
    {
        using var scope = NewDisposeScope();
        using var model = new GaussianConditional();
        double[] table = model.scale_table.to(ScalarType.Float64).data<double>().ToArray();
        var random = new Random(4);
        // Every entry, its neighbours one ulp away, the bound and below it, far above the table, and random scales.
        double[] scales = table.SelectMany(t => new[] { t, Math.BitDecrement(t), Math.BitIncrement(t) })
            .Concat(new[] { (double)0.11f, 0.11, 0.109, 0, -3, 1e300 })
            .Concat(Enumerable.Range(0, 500).Select(_ => Math.Exp(random.NextDouble() * 8 - 3))).ToArray();
        var indexes = new int[scales.Length];
        model.Float64Indexer()(scales, indexes);
        CollectionAssert.AreEqual(model.build_indexes(tensor(scales, ScalarType.Float64)).data<int>().ToArray(), indexes);
        Assert.AreEqual(table.Length - 1, indexes.Max());
        Assert.AreEqual(0, indexes.Min());
        // The table is read when the indexer is made.
        GaussianConditional.ScaleIndexer before = model.Float64Indexer();
        model.update_scale_table(new[] { 0.5, 1, 2 }, force: true);
        var after = new int[1];
        before(new[] { 1.5 }, after);
        Assert.AreNotEqual(model.build_indexes(tensor(new[] { 1.5 }, ScalarType.Float64)).item<int>(), after[0]);
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => before(new[] { 1.0, double.NaN }, new int[2]));
        Assert.AreEqual(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.build_indexes(tensor(new[] { 1.0, double.NaN }, ScalarType.Float64))).Message, error.Message);
    }

}
