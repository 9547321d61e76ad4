using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests;

[TestClass]
public sealed class SoftRoundInverseTests
{
    private static readonly double[] SmoothPoints = { -2.71, -1.2, -0.6, -0.37, 0.003, 0.26, 0.62, 0.8, 1.31, 2.97, 7.45 };

    [TestMethod]
    public void UndoesSoftRound()
    {
        using var scope = NewDisposeScope();
        double[] xs = { -0.75, 0.75, -1.25, 1.25 };
        Tensor x = tensor(xs, ScalarType.Float64);
        TensorAssert.Close(xs, SoftRoundOps.soft_round_inverse(SoftRoundOps.soft_round(x, 2.0), 2.0), 1e-12, 1e-12);
        Tensor dense = linspace(-3.45, 3.45, 139, ScalarType.Float64);
        foreach (double alpha in new[] { 0.0, 0.5, 5.0, 10.0 })
        {
            TensorAssert.Close(Reference.Values(dense), SoftRoundOps.soft_round_inverse(SoftRoundOps.soft_round(dense, alpha), alpha), 1e-9, 1e-9);
        }
    }

    [TestMethod]
    public void LargeAlpha_IsCeilMinusHalf()
    {
        using var scope = NewDisposeScope();
        for (int n = -5; n <= 4; n++)
        {
            Tensor y = linspace(n + 0.001, n + 0.999, 100, ScalarType.Float32);
            Tensor x = SoftRoundOps.soft_round_inverse(y, 5000.0);
            Assert.IsLessThanOrEqualTo(1e-3, (x - (y.ceil() - 0.5)).abs().max().item<float>(), $"n = {n}");
        }
    }

    [TestMethod]
    [DataRow(0.5)]
    [DataRow(5.0)]
    [DataRow(14.0)]
    public void Values_Float64_MatchDoublePrecisionReference(double alpha)
    {
        using Tensor y = tensor(SmoothPoints, ScalarType.Float64);
        TensorAssert.Close(SmoothPoints.Select(v => Reference.SoftRoundInverse(v, alpha)).ToArray(), SoftRoundOps.soft_round_inverse(y, alpha), 1e-13, 1e-13);
    }

    [TestMethod]
    [DataRow(0.5)]
    [DataRow(3.0)]
    [DataRow(12.0)]
    public void Gradient_YAndAlpha_MatchFiniteDifferences(double alpha)
    {
        using Tensor y = tensor(SmoothPoints, ScalarType.Float64);
        using Tensor a = tensor(alpha, ScalarType.Float64);
        GradCheck.Assert(v => SoftRoundOps.soft_round_inverse(v[0], v[1]), y, a);
    }

    [TestMethod]
    public void Gradient_IsTheReciprocalOfSoftRoundsGradient()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(SmoothPoints, ScalarType.Float64);
        Tensor y = SoftRoundOps.soft_round(x, 4.0).requires_grad_(true);
        SoftRoundOps.soft_round_inverse(y, 4.0).sum().backward();
        TensorAssert.Close(SmoothPoints.Select(v => 1 / Reference.SoftRoundDx(v, 4.0)).ToArray(), y.grad!, 1e-9);
    }

    [TestMethod]
    [DataRow(1.5e-3)]
    [DataRow(1e-2)]
    [DataRow(0.3)]
    [DataRow(4.0)]
    // Its two O(1/α) terms cancel to O(α).
    public void AlphaGradient_Float32_StaysAccurateForSmallAlpha(double alpha) =>
        GradCheck.AssertFloat32SteepnessGradient(SoftRoundOps.soft_round_inverse, Reference.SoftRoundInverseDalpha, alpha);

    [TestMethod]
    public void SecondDerivatives_MatchFiniteDifferences()
    {
        using Tensor y = tensor(SmoothPoints, ScalarType.Float64);
        using Tensor a = tensor(2.5, ScalarType.Float64);
        GradCheck.AssertSecondOrder(v => SoftRoundOps.soft_round_inverse(v[0], v[1]), y, a);
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
            double[] grid = Enumerable.Range(-8, 17).Select(i => i * 0.5).Concat(new[] { 0.1, 0.3, -0.2 }).ToArray();
            Tensor y = tensor(grid, dtype).requires_grad_(true);
            Tensor a = tensor(alpha, dtype).requires_grad_(true);
            Tensor x = SoftRoundOps.soft_round_inverse(y, a);
            Assert.IsTrue(x.isfinite().all().item<bool>(), $"{dtype} values");
            x.sum().backward();
            double[] dy = Reference.Values(y.grad!);
            for (int i = 0; i < grid.Length; i++)
            {
                // Above α = 15 the inverse is so steep at integers that its gradient may overflow there.
                bool mayOverflow = alpha > 15 && grid[i] == Math.Floor(grid[i]);
                Assert.IsTrue(mayOverflow || double.IsFinite(dy[i]), $"{dtype} dx/dy at y = {grid[i]}: {dy[i]}");
            }
            if (alpha <= 15) Assert.IsTrue(a.grad!.isfinite().all().item<bool>(), $"{dtype} dx/dα");
        }
    }

    [TestMethod]
    public void BelowThreshold_IsIdentity()
    {
        using var scope = NewDisposeScope();
        Tensor y = tensor(SmoothPoints, ScalarType.Float64).requires_grad_(true);
        Tensor x = SoftRoundOps.soft_round_inverse(y, 1e-4);
        TensorAssert.Identical(y.detach(), x.detach());
        x.sum().backward();
        TensorAssert.Close(Enumerable.Repeat(1.0, SmoothPoints.Length).ToArray(), y.grad!, 0);
    }

    [TestMethod]
    public void BadAlpha_IsRefused()
    {
        using Tensor y = tensor(new[] { 0.3 });
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SoftRoundOps.soft_round_inverse(y, -1.0));
        Assert.AreEqual("alpha", e.ParamName);
        StringAssert.Contains(e.Message, "soft_round_inverse");
        using Tensor ints = zeros(2, ScalarType.Int64);
        Assert.AreEqual("y", Assert.ThrowsExactly<ArgumentException>(() => SoftRoundOps.soft_round_inverse(ints, 1.0)).ParamName);
    }

    [TestMethod]
    [DataRow(true)]
    [DataRow(false)]
    public void AtTheThresholdItself_IsNotTheIdentity(bool kernel)
    {
        using var scope = NewDisposeScope();
        double[] points = { 0.3, 0.9, -1.2 };
        Tensor y = tensor(points, ScalarType.Float64);
        Tensor x = kernel ? SoftRoundOps.soft_round_inverse(y, 1e-3) : SoftRoundOps.soft_round_inverse(y, full(3, 1e-3, ScalarType.Float64));
        TensorAssert.Close(points.Select(v => Reference.SoftRoundInverse(v, 1e-3)).ToArray(), x, 1e-15);
        Assert.IsFalse(x.eq(y).all().item<bool>(), "not the identity at α = 1e−3");
        Tensor mean = kernel ? SoftRoundOps.soft_round_conditional_mean(y, 1e-3) : SoftRoundOps.soft_round_conditional_mean(y, full(3, 1e-3, ScalarType.Float64));
        Assert.IsFalse(mean.eq(y).all().item<bool>(), "nor is the conditional mean");
        Tensor below = kernel ? SoftRoundOps.soft_round_inverse(y, 0.99e-3) : SoftRoundOps.soft_round_inverse(y, full(3, 0.99e-3, ScalarType.Float64));
        TensorAssert.Identical(y, below);
    }
}
