using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests;

[TestClass]
public sealed class PerturbAndApplyTests
{
    private static readonly double[] Points = { -1.3, -0.2, 0.0, 0.45, 0.9, 2.6 };

    private static Tensor Cube(Tensor t) => t.pow(3);

    [TestMethod]
    public void Value_IsFAtXPlusU()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(Points, ScalarType.Float64).requires_grad_(true);
        Tensor u = tensor(new[] { 0.1, -0.4, 0.3, 0.0, -0.05, 0.49 }, ScalarType.Float64);
        double[] xs = Points, us = Reference.Values(u);
        Tensor y = SoftRoundOps.perturb_and_apply(Cube, x, u);
        TensorAssert.Close(xs.Select((v, i) => Math.Pow(v + us[i], 3)).ToArray(), y, 1e-15);
    }

    [TestMethod]
    public void ExpectedGradient_IsFAtXPlusHalfMinusFAtXMinusHalf()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(Points, ScalarType.Float64).requires_grad_(true);
        Tensor weights = linspace(0.5, 2, Points.Length, ScalarType.Float64);
        (SoftRoundOps.perturb_and_apply(Cube, x) * weights).sum().backward();
        double[] w = Reference.Values(weights);
        TensorAssert.Close(Points.Select((v, i) => w[i] * (Math.Pow(v + 0.5, 3) - Math.Pow(v - 0.5, 3))).ToArray(), x.grad!, 1e-13);
    }

    [TestMethod]
    public void ExpectedGradient_MatchesAMonteCarloAverageOfFiniteDifferences()
    {
        // d/dx E_u[f(x + u)] estimated as the mean over u of (f(x + u + h) − f(x + u − h)) / 2h.
        using var scope = NewDisposeScope();
        Func<Tensor, Tensor> f = t => SoftRoundOps.soft_round(t, 4.0);
        Tensor x = tensor(Points, ScalarType.Float64).requires_grad_(true);
        SoftRoundOps.perturb_and_apply(f, x).sum().backward();

        using var generator = new Generator(7);
        const int samples = 20000;
        const double h = 1e-5;
        Tensor u = rand(new long[] { samples, Points.Length }, ScalarType.Float64, generator: generator) - 0.5;
        Tensor at = x.detach().unsqueeze(0) + u;
        Tensor estimate;
        using (no_grad()) estimate = ((f(at + h) - f(at - h)) / (2 * h)).mean(new long[] { 0 });
        // The derivative of soft_round at α = 4 lies in [0.07, 2.1]: the Monte-Carlo error is about 0.8/√20000.
        TensorAssert.Close(Reference.Values(estimate), x.grad!, 0, atol: 0.03);
    }

    [TestMethod]
    public void WithoutExpectedGradients_XGetsTheGradientAtXPlusU()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(Points, ScalarType.Float64).requires_grad_(true);
        Tensor u = full(Points.Length, 0.25, ScalarType.Float64);
        SoftRoundOps.perturb_and_apply(Cube, x, u, expectedGrads: false).sum().backward();
        TensorAssert.Close(Points.Select(v => 3 * Math.Pow(v + 0.25, 2)).ToArray(), x.grad!, 1e-14);
    }

    [TestMethod]
    public void TensorsInsideF_GetOrdinaryGradients()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(Points, ScalarType.Float64).requires_grad_(true);
        Tensor w = tensor(2.0, ScalarType.Float64).requires_grad_(true);
        Tensor u = full(Points.Length, -0.1, ScalarType.Float64);
        SoftRoundOps.perturb_and_apply(t => w * t.square(), x, u).sum().backward();
        Assert.AreEqual(Points.Sum(v => (v - 0.1) * (v - 0.1)), w.grad!.item<double>(), 1e-13);
        TensorAssert.Close(Points.Select(v => 2.0 * ((v + 0.5) * (v + 0.5) - (v - 0.5) * (v - 0.5))).ToArray(), x.grad!, 1e-14);
    }

    [TestMethod]
    public void BroadcastingF_SumsXsGradientBack()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(new[] { 0.2, 1.1 }, ScalarType.Float64).requires_grad_(true);
        Tensor rows = tensor(new[] { 0.0, 1.0, 2.0 }, ScalarType.Float64).reshape(3, 1);
        Tensor y = SoftRoundOps.perturb_and_apply(t => t * rows, x);
        CollectionAssert.AreEqual(new long[] { 3, 2 }, y.shape);
        y.sum().backward();
        // Σ over rows of r·((x + ½) − (x − ½)) = 0 + 1 + 2.
        TensorAssert.Close(new[] { 3.0, 3.0 }, x.grad!, 1e-15);
    }

    [TestMethod]
    public void DefaultNoise_IsUniformOnMinusHalfToHalf_AndFollowsTheSeed()
    {
        using var scope = NewDisposeScope();
        Tensor x = zeros(100000, ScalarType.Float64);
        manual_seed(42);
        Tensor first = SoftRoundOps.perturb_and_apply(t => t, x);
        manual_seed(42);
        Tensor second = SoftRoundOps.perturb_and_apply(t => t, x);
        TensorAssert.Identical(first, second);
        Assert.IsGreaterThanOrEqualTo(-0.5, first.min().item<double>());
        Assert.IsLessThan(0.5, first.max().item<double>());
        Assert.AreEqual(0.0, first.mean().item<double>(), 0.005);
        Assert.AreEqual(1.0 / 12, first.var().item<double>(), 0.002);
    }

    [TestMethod]
    public void NoGraph_WhenXNeedsNoGradient()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(Points, ScalarType.Float64);
        Assert.IsFalse(SoftRoundOps.perturb_and_apply(Cube, x).requires_grad);
    }

    [TestMethod]
    public void BadArguments_AreRefused()
    {
        using var scope = NewDisposeScope();
        Tensor x = zeros(2, 3);
        Assert.ThrowsExactly<ArgumentNullException>(() => SoftRoundOps.perturb_and_apply(null!, x));
        Assert.AreEqual("u", Assert.ThrowsExactly<ArgumentException>(() => SoftRoundOps.perturb_and_apply(Cube, x, zeros(3, 3))).ParamName);
        Assert.AreEqual("x", Assert.ThrowsExactly<ArgumentException>(() => SoftRoundOps.perturb_and_apply(Cube, zeros(2, ScalarType.Int8))).ParamName);
        Tensor leaf = zeros(2, 3).requires_grad_(true);
        var e = Assert.ThrowsExactly<ArgumentException>(() => SoftRoundOps.perturb_and_apply(t => t.sum(), leaf));
        StringAssert.Contains(e.Message, "perturb_and_apply");
    }

    [TestMethod]
    public void WithInput_GivesXPlusUToo_AsTensorflowCompressionDoes()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(Points, ScalarType.Float64).requires_grad_(true);
        Tensor u = tensor(new[] { 0.1, -0.4, 0.3, 0.0, -0.05, 0.49 }, ScalarType.Float64);
        Tensor y = SoftRoundOps.perturb_and_apply(Cube, x, out Tensor xPlusU, u);
        TensorAssert.Identical(x.detach() + u, xPlusU.detach());
        TensorAssert.Identical(SoftRoundOps.perturb_and_apply(Cube, x.detach(), u), y.detach());
        (y.sum() + xPlusU.sum()).backward();
        // The expected gradient through y, plus 1 through x + u.
        TensorAssert.Close(Points.Select(v => Math.Pow(v + 0.5, 3) - Math.Pow(v - 0.5, 3) + 1).ToArray(), x.grad!, 1e-13);
    }

    [TestMethod]
    public void WithInput_DrawsOneNoiseForBoth_InTheInputsDtype()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(Points).to(ScalarType.Float16);
        Tensor y = SoftRoundOps.perturb_and_apply(t => t, x, out Tensor xPlusU);
        Assert.AreEqual(ScalarType.Float16, xPlusU.dtype);
        TensorAssert.Identical(xPlusU, y);
        Tensor noise = xPlusU.to(ScalarType.Float32) - x.to(ScalarType.Float32);
        Assert.IsTrue(noise.abs().max().item<float>() <= 0.5f + 1e-2f);
    }

    [TestMethod]
    public void BadNoiseAndABadF_AreRefusedNamingThem()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(Points, ScalarType.Float64).requires_grad_(true);
        var e = Assert.ThrowsExactly<ArgumentException>(() => SoftRoundOps.perturb_and_apply(Cube, x, tensor(new[] { 0, 0, 0, 0, 0, 0 })));
        Assert.AreEqual("u", e.ParamName);
        // f must be element-wise: an output x does not broadcast to is refused, naming it.
        var shape = Assert.ThrowsExactly<ArgumentException>(() => SoftRoundOps.perturb_and_apply(t => t.sum(), x));
        StringAssert.Contains(shape.Message, "f(x + u)");
    }
}
