using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests;

[TestClass]
public sealed class SoftRoundTests
{
    private static readonly double[] SmoothPoints = { -2.71, -1.2, -0.6, -0.37, 0.003, 0.26, 0.62, 0.8, 1.31, 2.97, 7.45 };

    // Integers and half-integers included: soft_round is smooth everywhere.
    private static readonly double[] Grid = Enumerable.Range(-8, 17).Select(i => i * 0.5).Concat(new[] { 0.1, -0.3, 1.7 }).ToArray();

    private static Tensor Grad(Tensor y, Tensor x)
    {
        y.sum().backward();
        return x.grad!;
    }

    [TestMethod]
    public void TinyAlpha_IsTheIdentity()
    {
        using var scope = NewDisposeScope();
        Tensor x = linspace(-3, 3, 61, ScalarType.Float64);
        TensorAssert.Identical(x, SoftRoundOps.soft_round(x, 1e-13));
    }

    [TestMethod]
    public void LargeAlpha_IsRound()
    {
        using var scope = NewDisposeScope();
        for (int n = -5; n <= 4; n++)
        {
            Tensor x = linspace(n - 0.499, n + 0.499, 100, ScalarType.Float32);
            Tensor y = SoftRoundOps.soft_round(x, 2000.0);
            Assert.IsLessThanOrEqualTo(0.02, (y - x.round()).abs().max().item<float>(), $"n = {n}");
        }
    }

    [TestMethod]
    [DataRow(0.5)]
    [DataRow(2.0)]
    [DataRow(5.0)]
    [DataRow(16.0)]
    public void Values_Float64_MatchDoublePrecisionReference(double alpha)
    {
        using Tensor x = tensor(Grid, ScalarType.Float64);
        using Tensor y = SoftRoundOps.soft_round(x, alpha);
        TensorAssert.Close(Grid.Select(v => Reference.SoftRound(v, alpha)).ToArray(), y, rtol: 1e-14, atol: 1e-14);
    }

    [TestMethod]
    public void Gradient_AtAlphaFive_MatchesTheAnalyticValues()
    {
        using var scope = NewDisposeScope();
        // r = 0 at half-integers: α/(2·tanh(α/2)); r = ±½ at integers: α/sinh(α).
        Tensor x = tensor(new[] { 0.5, -1.5, 0.0, 2.0, -3.0 }, ScalarType.Float64).requires_grad_(true);
        double[] dx = Reference.Values(Grad(SoftRoundOps.soft_round(x, 5.0), x));
        Assert.AreEqual(2.5339, dx[0], 1e-4);
        Assert.AreEqual(5 / (2 * Math.Tanh(2.5)), dx[1], 1e-14);
        Assert.AreEqual(0.06738, dx[2], 1e-5);
        Assert.AreEqual(5 / Math.Sinh(5), dx[3], 1e-14);
        Assert.AreEqual(5 / Math.Sinh(5), dx[4], 1e-14);
    }

    [TestMethod]
    [DataRow(0.5)]
    [DataRow(3.0)]
    [DataRow(12.0)]
    public void Gradient_XAndAlpha_MatchFiniteDifferences(double alpha)
    {
        using Tensor x = tensor(SmoothPoints, ScalarType.Float64);
        using Tensor a = tensor(alpha, ScalarType.Float64);
        GradCheck.Assert(v => SoftRoundOps.soft_round(v[0], v[1]), x, a);
        GradCheck.Assert(v => SoftRoundOps.soft_round(v[0], alpha), x);
    }

    [TestMethod]
    public void Gradient_BroadcastAlpha_MatchesFiniteDifferences()
    {
        using Tensor x = tensor(SmoothPoints.Take(9).ToArray(), ScalarType.Float64).reshape(3, 3);
        using Tensor a = tensor(new[] { 0.7, 4.0, 9.0 }, ScalarType.Float64).reshape(3, 1);
        GradCheck.Assert(v => SoftRoundOps.soft_round(v[0], v[1]), x, a);
    }

    [TestMethod]
    [DataRow(1.5e-3)]
    [DataRow(1e-2)]
    [DataRow(0.3)]
    [DataRow(4.0)]
    // Its numerator cancels to O(α³): a float32 evaluation of the textbook form gives 0 at α = 1.5e−3.
    public void AlphaGradient_Float32_StaysAccurateForSmallAlpha(double alpha) =>
        GradCheck.AssertFloat32SteepnessGradient(SoftRoundOps.soft_round, Reference.SoftRoundDalpha, alpha);

    [TestMethod]
    public void SecondDerivative_WithSteepnessAsANumber_MatchesFiniteDifferences()
    {
        using Tensor x = tensor(SmoothPoints, ScalarType.Float64);
        GradCheck.AssertSecondOrder(v => SoftRoundOps.soft_round(v[0], 2.5), x);
    }

    [TestMethod]
    public void SecondDerivatives_MatchFiniteDifferences()
    {
        using Tensor x = tensor(SmoothPoints, ScalarType.Float64);
        using Tensor a = tensor(2.5, ScalarType.Float64);
        GradCheck.AssertSecondOrder(v => SoftRoundOps.soft_round(v[0], v[1]), x, a);
    }

    [TestMethod]
    public void BelowThreshold_IsIdentityWithUnitGradientAndZeroAlphaGradient()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(Grid, ScalarType.Float64).requires_grad_(true);
        Tensor a = tensor(5e-4, ScalarType.Float64).requires_grad_(true);
        Tensor y = SoftRoundOps.soft_round(x, a);
        TensorAssert.Identical(x.detach(), y.detach());
        y.sum().backward();
        TensorAssert.Close(Enumerable.Repeat(1.0, Grid.Length).ToArray(), x.grad!, 0);
        Assert.AreEqual(0.0, a.grad!.item<double>());
    }

    [TestMethod]
    public void MixedAlphaTensor_AppliesTheThresholdPerEntry()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(new[] { 0.3, 0.3 }, ScalarType.Float64);
        Tensor a = tensor(new[] { 0.0, 4.0 }, ScalarType.Float64);
        TensorAssert.Close(new[] { 0.3, Reference.SoftRound(0.3, 4.0) }, SoftRoundOps.soft_round(x, a), 1e-15);
    }

    [TestMethod]
    [DataRow(0.0)]
    [DataRow(1e-6)]
    [DataRow(1e-2)]
    [DataRow(5.0)]
    [DataRow(1e6)]
    public void ValuesAndGradients_AreFiniteOnIntegersAndHalfIntegers(double alpha)
    {
        foreach (ScalarType dtype in new[] { ScalarType.Float32, ScalarType.Float64 })
        {
            using var scope = NewDisposeScope();
            Tensor x = tensor(Grid, dtype).requires_grad_(true);
            Tensor a = tensor(alpha, dtype).requires_grad_(true);
            Tensor y = SoftRoundOps.soft_round(x, a);
            y.sum().backward();
            Assert.IsTrue(y.isfinite().all().item<bool>(), $"{dtype} values");
            Assert.IsTrue(x.grad!.isfinite().all().item<bool>(), $"{dtype} dy/dx");
            Assert.IsTrue(a.grad!.isfinite().all().item<bool>(), $"{dtype} dy/dα");
        }
    }

    [TestMethod]
    public void IsContinuousAtIntegersAndPassesThroughHalfIntegers()
    {
        using var scope = NewDisposeScope();
        const double eps = 1e-9;
        Tensor x = tensor(new[] { 2 - eps, 2 + eps, 2.5, -0.5 }, ScalarType.Float64);
        double[] y = Reference.Values(SoftRoundOps.soft_round(x, 7.0));
        Assert.AreEqual(y[0], y[1], 1e-8);
        Assert.AreEqual(2.5, y[2], 1e-15);
        Assert.AreEqual(-0.5, y[3], 1e-15);
    }

    [TestMethod]
    [DataRow(ScalarType.Float32)]
    [DataRow(ScalarType.Float64)]
    public void SpecialValues_FollowTheRules(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        double huge = dtype == ScalarType.Float32 ? 16777216.0 : 9007199254740992.0;
        Tensor x = tensor(new[] { double.PositiveInfinity, double.NegativeInfinity, double.NaN, -0.0, huge, -huge }, dtype)
            .requires_grad_(true);
        Tensor y = SoftRoundOps.soft_round(x, 5.0);
        double[] v = Reference.Values(y);
        Assert.AreEqual(double.PositiveInfinity, v[0]);
        Assert.AreEqual(double.NegativeInfinity, v[1]);
        Assert.IsTrue(double.IsNaN(v[2]));
        Assert.AreEqual(Reference.SoftRound(0.0, 5), v[3], 1e-7);
        Assert.AreEqual(huge, v[4]);
        Assert.AreEqual(-huge, v[5]);
        double[] dx = Reference.Values(Grad(y, x));
        Assert.AreEqual(0.0, dx[0]);
        Assert.AreEqual(0.0, dx[1]);
        Assert.IsTrue(double.IsNaN(dx[2]));
        Assert.IsTrue(dx.Skip(3).All(double.IsFinite));
    }

    [TestMethod]
    [DataRow(double.NaN, "NaN")]
    [DataRow(double.PositiveInfinity, "Infinity")]
    [DataRow(-0.5, "-0.5")]
    public void BadAlpha_IsRefusedNamingAlphaAndValue(double alpha, string shown)
    {
        using Tensor x = tensor(new[] { 0.3 });
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SoftRoundOps.soft_round(x, alpha));
        Assert.AreEqual("alpha", e.ParamName);
        StringAssert.Contains(e.Message, "soft_round");
        StringAssert.Contains(e.Message, $"got {shown}.");
        using Tensor a = tensor(new[] { alpha });
        Assert.AreEqual("alpha", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SoftRoundOps.soft_round(x, a)).ParamName);
    }

    [TestMethod]
    [DataRow(true)]
    [DataRow(false)]
    public void AtTheThresholdItself_IsNotTheIdentity(bool kernel)
    {
        // α = 1e−3 is the first α that soft rounds: y − x is about 1e−8 there, which float64 resolves.
        using var scope = NewDisposeScope();
        double[] points = { 0.3, 0.9, -1.2 };
        Tensor x = tensor(points, ScalarType.Float64);
        Tensor y = kernel ? SoftRoundOps.soft_round(x, 1e-3) : SoftRoundOps.soft_round(x, full(3, 1e-3, ScalarType.Float64));
        TensorAssert.Close(points.Select(v => Reference.SoftRound(v, 1e-3)).ToArray(), y, 1e-15);
        Assert.IsFalse(y.eq(x).all().item<bool>(), "not the identity at α = 1e−3");
        Tensor below = kernel ? SoftRoundOps.soft_round(x, 0.99e-3) : SoftRoundOps.soft_round(x, full(3, 0.99e-3, ScalarType.Float64));
        TensorAssert.Identical(x, below);
    }
}
