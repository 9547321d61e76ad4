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
        // p = Φ((½ − |ŷ − μ|)/σ') − Φ((−½ − |ŷ − μ|)/σ'), σ' = max(σ, 0.11), floored at 1e−9; eval ŷ = round(y − μ) + μ.
        using var scope = NewDisposeScope();
        var model = new GaussianConditional();
        model.eval();
        double[] y = { 0.3, -2.6, 7.9, 0.0, 40.0, -1.2 }, mu = { 0.1, -3.0, 1.0, 0.45, 0.0, -1.2 }, sigma = { 1.0, 0.05, 2.5, 0.3, 0.5, 1e-4 };
        (Tensor yHat, Tensor p) = model.forward(tensor(y, ScalarType.Float64), tensor(sigma, ScalarType.Float64), tensor(mu, ScalarType.Float64));
        double[] expectedHat = y.Zip(mu, (a, m) => Math.Round(a - m, MidpointRounding.ToEven) + m).ToArray();
        TensorAssert.Close(expectedHat, yHat, 0);
        double[] expected = expectedHat.Select((h, i) =>
        {
            double v = Math.Abs(h - mu[i]), s = Math.Max(sigma[i], 0.11);
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
        int[][] tables = model.quantized_cdf!;
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
    public void BadInput_NamesTheMemberAndValue()
    {
        using var scope = NewDisposeScope();
        var model = new GaussianConditional();
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.forward(zeros(3), tensor(new[] { 1f, 0f, 1f }))).Message,
            "GaussianConditional.forward: scales must be finite and greater than 0; got 0.");
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
            "GaussianConditional: scaleTable[1] is 0.5; the entries must be finite, > 0 and strictly increasing.");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidOperationException>(() => new GaussianConditional(new[] { 1e5 }).update()).Message,
            "GaussianConditional.update: scale_table[0] = 100000 needs");
    }

    [TestMethod]
    public void ToFloat64_KeepsTheScaleTable()
    {
        var model = new GaussianConditional();
        model.to(ScalarType.Float64);
        Assert.AreEqual(ScalarType.Float64, model.scale_table.dtype);
        model.update();
    }
}
