using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Compression;

[TestClass]
public sealed class GDNTests
{
    /// <summary>A layer with random β &gt; 0 and γ ≥ 0 (set through the parametrizer's init), in float64.</summary>
    private static (GDN layer, double[] beta, double[,] gamma) Random(int channels, bool inverse, int seed)
    {
        var layer = new GDN(channels, inverse);
        var r = new System.Random(seed);
        double[] beta = Enumerable.Range(0, channels).Select(_ => 0.2 + r.NextDouble()).ToArray();
        var gamma = new double[channels, channels];
        for (int i = 0; i < channels; i++) for (int j = 0; j < channels; j++) gamma[i, j] = r.NextDouble() * 0.3;
        var p = new NonNegativeParametrizer();
        layer.to(ScalarType.Float64);
        using (no_grad())
        {
            layer.beta.copy_(new NonNegativeParametrizer(1e-6).init(tensor(beta, ScalarType.Float64)));
            layer.gamma.copy_(p.init(tensor(gamma.Cast<double>().ToArray(), ScalarType.Float64).reshape(channels, channels)));
        }
        return (layer, beta, gamma);
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void Forward_IsTheFormula_AtEveryRank_AndForAnEmptyBatch(bool inverse)
    {
        using var scope = NewDisposeScope();
        (GDN layer, double[] beta, double[,] gamma) = Random(3, inverse, 4);
        foreach (long[] shape in new[] { new long[] { 2, 3, 4, 5 }, new long[] { 4, 3 }, new long[] { 2, 3, 5 }, new long[] { 2, 3, 2, 2, 3 }, new long[] { 0, 3, 4, 4 } })
        {
            Tensor x = randn(shape, ScalarType.Float64, generator: new Generator(5));
            Tensor y = layer.call(x);
            CollectionAssert.AreEqual(shape, y.shape);
            if (x.numel() == 0) continue;
            // Channels second: each (n, position) pair is one channel vector.
            long positions = shape.Skip(2).Aggregate(1L, (a, b) => a * b);
            double[] xs = x.data<double>().ToArray(), expected = new double[xs.Length];
            for (long n = 0; n < shape[0]; n++)
            for (long p = 0; p < positions; p++)
            for (int i = 0; i < 3; i++)
            {
                long At(int c) => (n * 3 + c) * positions + p;
                double norm = beta[i];
                for (int j = 0; j < 3; j++) norm += gamma[i, j] * xs[At(j)] * xs[At(j)];
                expected[At(i)] = inverse ? xs[At(i)] * Math.Sqrt(norm) : xs[At(i)] / Math.Sqrt(norm);
            }
            TensorAssert.Close(expected, y, 1e-12);
        }
    }

    [TestMethod]
    public void Initialisation_IsCompressAIs()
    {
        using var scope = NewDisposeScope();
        var layer = new GDN(4);
        // β = 1 and γ = 0.1·I: y = x / √(1 + 0.1·x²) channel by channel.
        Tensor x = tensor(new[] { 1f, -2f, 0f, 3f }).reshape(1, 4);
        TensorAssert.Close(new[] { 1 / Math.Sqrt(1.1), -2 / Math.Sqrt(1.4), 0, 3 / Math.Sqrt(1.9) }, layer.call(x), 1e-6);
        CollectionAssert.AreEquivalent(new[] { "beta", "gamma" }, layer.named_parameters().Select(p => p.name).ToArray());
        Assert.AreEqual("IGDN", new GDN(2, inverse: true).GetName());
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void Gradients_MatchFiniteDifferences(bool inverse)
    {
        using var scope = NewDisposeScope();
        (GDN layer, _, _) = Random(2, inverse, 3);
        Tensor x = randn(new long[] { 2, 2, 3 }, ScalarType.Float64, generator: new Generator(4)).requires_grad_(true);
        GradCheck.Assert(v => layer.call(v[0]), x);
        // The parameters' gradients against central differences of Σ w·y.
        Tensor weights = randn(new long[] { 2, 2, 3 }, ScalarType.Float64, generator: new Generator(5));
        Tensor L() => (layer.call(x.detach()) * weights).sum();
        layer.zero_grad();
        L().backward();
        foreach (var (name, p) in layer.named_parameters())
        {
            double[] grad = p.grad!.data<double>().ToArray();
            for (int i = 0; i < grad.Length; i++)
            {
                double h = 1e-6, plus, minus;
                using (no_grad())
                {
                    p.view(-1)[i] += h;
                    plus = L().item<double>();
                    p.view(-1)[i] -= 2 * h;
                    minus = L().item<double>();
                    p.view(-1)[i] += h;
                }
                Assert.AreEqual((plus - minus) / (2 * h), grad[i], 1e-6 + 1e-4 * Math.Abs(grad[i]), $"{name}[{i}]");
            }
        }
    }

    [TestMethod]
    public void OneChannel_AndAZeroGamma_FollowTheFormula()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(new[] { -3.0, -0.5, 0, 0.25, 2 }).reshape(1, 1, 5);
        double[] values = x.data<double>().ToArray();
        // β starts at 1 and γ at gammaInit·I: y = x/√(1 + γx²), and with γ = 0 the identity.
        double[] y = new GDN(1).to(ScalarType.Float64).call(x).data<double>().ToArray();
        double[] identity = new GDN(1, gammaInit: 0).to(ScalarType.Float64).call(x).data<double>().ToArray();
        for (int i = 0; i < values.Length; i++)
        {
            Assert.AreEqual(values[i] / Math.Sqrt(1 + 0.1 * values[i] * values[i]), y[i], 1e-6);
            Assert.AreEqual(values[i], identity[i], 1e-6);
        }
    }

    [TestMethod]
    public void BadInput()
    {
        using var scope = NewDisposeScope();
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new GDN(0)).Message, "GDN: channels must be at least 1; got 0.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new GDN(2, betaMin: 0)).Message, "GDN: betaMin must be finite and greater than 0; got 0.");
        StringAssert.StartsWith(Assert.ThrowsExactly<ArgumentException>(() => new GDN(3).call(zeros(1, 2, 4, 4))).Message, "GDN.forward: x has shape (1, 2, 4, 4); expected (N, 3, …).");
        StringAssert.StartsWith(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new GDN(2, inverse: true, gammaInit: -0.5)).Message, "IGDN: gammaInit must be finite and at least 0; got -0.5.");
        StringAssert.StartsWith(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new GDN(2, gammaInit: double.NaN)).Message, "GDN: gammaInit must be finite and at least 0; got NaN.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => new GDN(2, inverse: true).call(zeros(new long[] { 1, 2 }, ScalarType.Int32))).Message, "IGDN.forward: x has dtype Int32");
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void NoLeaks(bool inverse)
    {
        using var scope = NewDisposeScope();
        var layer = new GDN(3, inverse);
        Tensor x = randn(2, 3, 5, 5).requires_grad_(true);
        void Step()
        {
            using var inner = NewDisposeScope();
            layer.call(x).square().sum().backward();
            layer.zero_grad();
        }
        Step();
        long before = LiveTensors.Count();
        for (int i = 0; i < 20; i++) Step();
        Assert.AreEqual(before, LiveTensors.Count());
    }
}
