using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Entropy;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Entropy;

[TestClass]
public sealed class DeepFactorizedTests
{
    /// <summary>A density with random parameters (so the factors and biases matter), in float64.</summary>
    private static DeepFactorized Randomised(int channels, int seed)
    {
        var d = new DeepFactorized(channels);
        var g = new Generator((ulong)seed);
        using (no_grad())
        {
            foreach (var (_, p) in d.named_parameters()) p.add_(randn(p.shape, generator: g) * 0.5);
        }
        d.to(ScalarType.Float64);
        return d;
    }

    /// <summary>l(x) for one channel, evaluated in double from the parameters, layer by layer as the class describes.</summary>
    private static double Logits(DeepFactorized d, int channel, double x)
    {
        var p = d.named_parameters().ToDictionary(e => e.name, e => e.parameter);
        double[] l = { x };
        for (int k = 0; p.ContainsKey($"matrices.{k}"); k++)
        {
            Tensor h = p[$"matrices.{k}"][channel], b = p[$"biases.{k}"][channel];
            var next = new double[h.shape[0]];
            for (int i = 0; i < next.Length; i++)
            {
                double sum = b[i, 0].item<double>();
                for (int j = 0; j < l.Length; j++) sum += Math.Log(1 + Math.Exp(h[i, j].item<double>())) * l[j];
                next[i] = sum;
            }
            if (p.TryGetValue($"factors.{k}", out var a))
            {
                for (int i = 0; i < next.Length; i++) next[i] += Math.Tanh(a[channel][i, 0].item<double>()) * Math.Tanh(next[i]);
            }
            l = next;
        }
        return l[0];
    }

    [TestMethod]
    public void Initialisation_IsCompressAIs()
    {
        // 64 channels, so that the smallest bias of each layer is below −0.1 and the largest above 0.1 for every draw
        // but one in about 10¹⁴ (with 5, about one draw in 6 failed), and seeded, so that the test does not depend on order.
        const int channels = 64;
        manual_seed(11);
        var d = new DeepFactorized(channels);
        var p = d.named_parameters().ToDictionary(e => e.name, e => e.parameter);
        CollectionAssert.AreEquivalent(new[] { "matrices.0", "matrices.1", "matrices.2", "matrices.3", "matrices.4", "biases.0", "biases.1", "biases.2",
            "biases.3", "biases.4", "factors.0", "factors.1", "factors.2", "factors.3" }, p.Keys.ToArray());
        double scale = Math.Pow(10, 1.0 / 5);
        int[] sizes = { 1, 3, 3, 3, 3, 1 };
        for (int k = 0; k < 5; k++)
        {
            CollectionAssert.AreEqual(new long[] { channels, sizes[k + 1], sizes[k] }, p[$"matrices.{k}"].shape);
            double init = Math.Log(Math.Exp(1 / scale / sizes[k + 1]) - 1);
            Assert.AreEqual(init, p[$"matrices.{k}"].min().item<float>(), 1e-6);
            Assert.AreEqual(init, p[$"matrices.{k}"].max().item<float>(), 1e-6);
            Assert.IsTrue(p[$"biases.{k}"].abs().max().item<float>() <= 0.5f);
            Assert.IsTrue(p[$"biases.{k}"].min().item<float>() < -0.1f && p[$"biases.{k}"].max().item<float>() > 0.1f, "biases are uniform on (−½, ½)");
            if (k < 4) Assert.AreEqual(0f, p[$"factors.{k}"].abs().max().item<float>());
        }
    }

    [TestMethod]
    public void LogitsCumulative_IsTheNetwork()
    {
        using var scope = NewDisposeScope();
        DeepFactorized d = Randomised(3, 1);
        double[] xs = { -12.5, -1.3, 0, 0.7, 4.4, 30 };
        Tensor x = tensor(xs, ScalarType.Float64).repeat(3, 1, 1);
        Tensor l = d.logits_cumulative(x);
        for (int c = 0; c < 3; c++)
        {
            for (int i = 0; i < xs.Length; i++) Assert.AreEqual(Logits(d, c, xs[i]), l[c, 0, i].item<double>(), 1e-12 * Math.Max(1, Math.Abs(Logits(d, c, xs[i]))));
        }
    }

    [TestMethod]
    public void DensityMembers_AreConsistent()
    {
        using var scope = NewDisposeScope();
        DeepFactorized d = Randomised(2, 2);
        Tensor x = tensor(new[] { -6.0, -2.5, -0.4, 0.0, 0.9, 3.3, 7.0, -1.1, 0.2, 2.0, 5.0, -3.0 }, ScalarType.Float64).reshape(6, 2);
        double[] l = x.data<double>().Select((v, i) => Logits(d, i % 2, v)).ToArray();
        TensorAssert.Close(l.Select(v => Reference.Sigmoid(v)).ToArray(), d.cdf(x), 1e-12);
        TensorAssert.Close(l.Select(v => Math.Log(Reference.Sigmoid(v))).ToArray(), d.log_cdf(x), 1e-12, 1e-14);
        TensorAssert.Close(l.Select(v => Math.Log(Reference.Sigmoid(-v))).ToArray(), d.log_survival(x), 1e-12, 1e-14);
        // The density is the derivative of the cdf (autograd), and the quantile inverts the cdf.
        Tensor xg = x.clone().requires_grad_(true);
        d.cdf(xg).sum().backward();
        TensorAssert.Close(xg.grad!.log().data<double>().ToArray(), d.log_prob(x), 1e-11);
        TensorAssert.Close(x.data<double>().ToArray(), d.quantile(d.cdf(x)), 1e-9, 1e-12);
        // The interval mass is F(x + ½) − F(x − ½), and its log.
        double[] mass = x.data<double>().Select((v, i) => Reference.Sigmoid(Logits(d, i % 2, v + 0.5)) - Reference.Sigmoid(Logits(d, i % 2, v - 0.5))).ToArray();
        TensorAssert.Close(mass, d.interval_mass(x), 1e-10);
        TensorAssert.Close(mass.Select(v => Math.Log(v)).ToArray(), d.log_interval_mass(x), 1e-10);
    }

    [TestMethod]
    public void FarTails_KeepThePositiveMassAndAFiniteLog()
    {
        using var scope = NewDisposeScope();
        DeepFactorized d = Randomised(1, 3);
        double[] xs = { -400.0, -60.0, 60.0, 400.0 };
        Tensor x = tensor(xs, ScalarType.Float64).reshape(4, 1);
        Tensor naive = d.cdf(x + 0.5) - d.cdf(x - 0.5);
        Assert.AreEqual(0.0, naive[3, 0].item<double>(), "the naive difference in the upper tail");
        // In the tail the logits are on one side: log(σ(h) − σ(l)) = log σ(h) + log1p(−e^(log σ(l) − log σ(h))) with
        // h ≥ l the logits of the tail, log σ(t) = −log1p(e^(−t)) − max(−t, 0)… evaluated in double from the network.
        static double LogSigmoid(double t) => t >= 0 ? -Math.Log(1 + Math.Exp(-t)) : t - Math.Log(1 + Math.Exp(t));
        double[] expected = xs.Select(v =>
        {
            double a = Logits(d, 0, v - 0.5), b = Logits(d, 0, v + 0.5);
            (double high, double low) = a + b > 0 ? (-a, -b) : (b, a);
            return LogSigmoid(high) + Math.Log(-double.ExpM1(LogSigmoid(low) - LogSigmoid(high)));
        }).ToArray();
        Assert.IsTrue(expected.All(double.IsFinite) && expected[0] < -30 && expected[3] < -30, "the points are in the far tails");
        TensorAssert.Close(expected, d.log_interval_mass(x), 1e-9);
        TensorAssert.Close(expected.Select(Math.Exp).ToArray(), d.interval_mass(x), 1e-9);
    }

    [TestMethod]
    public void Quantile_ReachesFarBeyondTheInitialBracket()
    {
        using var scope = NewDisposeScope();
        DeepFactorized d = Randomised(2, 5);
        // The bracket starts at ±init_scale = ±10 and doubles; these quantiles lie far outside it (the upper ones where
        // 1 − p is still well resolved in double, since p near 1 fixes x only to about ε/(1 − p)).
        Tensor x = tensor(new[] { -300.0, 30.0, 45.0, -120.0 }, ScalarType.Float64).reshape(2, 2);
        Tensor p = d.cdf(x);
        Assert.IsTrue(p.gt(0).all().item<bool>() && p.lt(1 - 1e-6).all().item<bool>());
        TensorAssert.Close(x.data<double>().ToArray(), d.quantile(p), 1e-9);
    }

    [TestMethod]
    public void ParameterGradients_MatchFiniteDifferences_ForEveryMember()
    {
        using var scope = NewDisposeScope();
        DeepFactorized d = Randomised(2, 6);
        Tensor x = tensor(new[] { -2.5, 0.4, 1.3, -0.2, 3.1, 6.0 }, ScalarType.Float64).reshape(3, 2);
        var members = new (string name, Func<Tensor, Tensor> f)[]
        {
            ("cdf", d.cdf), ("log_cdf", d.log_cdf), ("log_survival", d.log_survival), ("log_prob", d.log_prob),
            ("interval_mass", d.interval_mass), ("log_interval_mass", d.log_interval_mass),
        };
        var weights = tensor(new[] { 0.7, -1.1, 0.4, 1.3, -0.6, 0.9 }, ScalarType.Float64).reshape(3, 2);
        foreach (var (name, f) in members)
        {
            d.zero_grad();
            (f(x) * weights).sum().backward();
            foreach (var (pname, p) in d.named_parameters())
            {
                Assert.IsNotNull(p.grad, $"{name}: {pname} has no gradient");
                // Central difference at the parameter entry that matters most.
                long at = p.grad.abs().reshape(-1).argmax().item<long>();
                double h = 1e-6, analytic = p.grad.reshape(-1)[at].item<double>();
                double Loss(double delta)
                {
                    using var inner = NewDisposeScope();
                    using var noGrad = no_grad();
                    p.reshape(-1)[at].add_(delta);
                    double value = (f(x) * weights).sum().item<double>();
                    p.reshape(-1)[at].sub_(delta);
                    return value;
                }
                double numeric = (Loss(h) - Loss(-h)) / (2 * h);
                Assert.AreNotEqual(0.0, analytic, $"{name}: {pname}");
                Assert.AreEqual(numeric, analytic, 1e-6 * Math.Max(1, Math.Abs(numeric)), $"{name}: {pname}");
            }
        }
        // logits_cumulative with stopGradient leaves the parameters out.
        d.zero_grad();
        Tensor xg = x.T.unsqueeze(1).clone().requires_grad_(true);
        d.logits_cumulative(xg, stopGradient: true).sum().backward();
        Assert.IsTrue(d.parameters().All(p => p.grad is null || p.grad.abs().max().item<double>() == 0));
        Assert.IsTrue(xg.grad!.abs().min().item<double>() > 0);
    }

    [TestMethod]
    public void LogProb_GradientsMatchFiniteDifferences()
    {
        using var scope = NewDisposeScope();
        DeepFactorized d = Randomised(2, 4);
        Tensor x = tensor(new[] { -1.5, 0.3, 2.2, -0.7 }, ScalarType.Float64).reshape(2, 2).requires_grad_(true);
        GradCheck.Assert(v => d.log_prob(v[0]), x);
        GradCheck.Assert(v => d.log_interval_mass(v[0]), x);
    }

    [TestMethod]
    public void BadArguments()
    {
        using var scope = NewDisposeScope();
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new DeepFactorized(0)).Message, "DeepFactorized: channels must be at least 1; got 0.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new DeepFactorized(2, new[] { 3, 0 })).Message, "filters[1] must be at least 1; got 0.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new DeepFactorized(2, initScale: -1)).Message, "initScale must be finite and greater than 0; got -1.");
        var d = new DeepFactorized(2);
        Assert.AreEqual(1, new DeepFactorized(2, new[] { 1, 1 }).filters[1], "a width of 1 is allowed");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => d.cdf(zeros(4, 3))).Message, "DeepFactorized.cdf: x has shape (4, 3); its last dimension must be the 2 channels.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => d.cdf(zeros(new long[] { 4, 2 }, ScalarType.Int32))).Message, "DeepFactorized.cdf: x");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => d.quantile(zeros(new long[] { 4, 2 }, ScalarType.Int32))).Message, "DeepFactorized.quantile: p");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => d.quantile(full(4, 3, 0.5))).Message, "DeepFactorized.quantile: x has shape (4, 3); its last dimension must be the 2 channels.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => d.logits_cumulative(zeros(2, 4))).Message, "DeepFactorized.logits_cumulative: x has shape (2, 4); expected (2, 1, M).");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => d.logits_cumulative(zeros(3, 1, 4))).Message, "DeepFactorized.logits_cumulative: x has shape (3, 1, 4); expected (2, 1, M).");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => d.logits_cumulative(zeros(2, 2, 4))).Message, "DeepFactorized.logits_cumulative: x has shape (2, 2, 4); expected (2, 1, M).");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => d.logits_cumulative(zeros(new long[] { 2, 1, 4 }, ScalarType.Int64))).Message, "DeepFactorized.logits_cumulative: x");
    }

    [TestMethod]
    public void Softplus_IsLibtorchsSoftplus_ValuesAndGradients_AndStaysFiniteFarOut()
    {
        using var scope = NewDisposeScope();
        foreach (ScalarType dtype in new[] { ScalarType.Float32, ScalarType.Float64 })
        {
            Tensor grid = cat(new[] { linspace(-120, 120, 4801, dtype), tensor(new[] { -1e30, -0.0, 0.0, 19.999, 20.0, 20.001, 1e30 }, dtype) });
            Tensor x = grid.clone().requires_grad_(), z = grid.clone().requires_grad_();
            Tensor ours = DeepFactorized.Softplus(x), theirs = nn.functional.softplus(z);
            // Within two units in the last place (or the smallest normal number, where exp(x) is subnormal): the same exp
            // and log1p, one fused kernel against three.
            double ulp = dtype == ScalarType.Float32 ? 1.2e-7 : 2.3e-16, tiny = dtype == ScalarType.Float32 ? 1.2e-38 : 2.3e-308;
            Tensor off = (ours - theirs).abs().gt(theirs.abs() * 2 * ulp + tiny);
            Assert.IsFalse(off.any().item<bool>(), $"{dtype}: at {(off.any().item<bool>() ? grid[off.nonzero()[0]].ToDouble() : 0)}");
            ours.sum().backward();
            theirs.sum().backward();
            Assert.IsTrue(x.grad!.isfinite().all().item<bool>());
            Tensor ourGrad = x.grad!, theirGrad = z.grad!;
            Assert.IsTrue((ourGrad - theirGrad).abs().le(theirGrad.abs() * 2 * ulp + tiny).all().item<bool>(), $"{dtype}: gradients differ by {(ourGrad - theirGrad).abs().max().ToDouble()}");
            Assert.AreEqual(0.5, ourGrad[4801 + 1].ToDouble());
            Assert.AreEqual(1e30, ours[^1].ToDouble(), 1e30 * ulp);
        }
    }
}
