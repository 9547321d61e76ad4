using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests;

[TestClass]
public sealed class SoftRoundConditionalMeanTests
{
    private static readonly double[] SmoothPoints = { -2.21, -1.7, -0.1, 0.13, 0.76, 1.3, 1.81, 2.47, 7.95 };

    [TestMethod]
    public void LargeAlpha_IsRound()
    {
        using var scope = NewDisposeScope();
        for (int n = -5; n <= 4; n++)
        {
            Tensor y = linspace(n + 0.001, n + 0.999, 100, ScalarType.Float32);
            Tensor x = SoftRoundOps.soft_round_conditional_mean(y, 5000.0);
            Assert.IsLessThanOrEqualTo(1e-3, (x - y.round()).abs().max().item<float>(), $"n = {n}");
        }
    }

    [TestMethod]
    [DataRow(0.5)]
    [DataRow(5.0)]
    [DataRow(14.0)]
    public void Values_Float64_MatchDoublePrecisionReference(double alpha)
    {
        using Tensor y = tensor(SmoothPoints, ScalarType.Float64);
        TensorAssert.Close(SmoothPoints.Select(v => Reference.SoftRoundConditionalMean(v, alpha)).ToArray(),
            SoftRoundOps.soft_round_conditional_mean(y, alpha), 1e-13, 1e-13);
    }

    [TestMethod]
    public void Gradient_YAndAlpha_MatchFiniteDifferences()
    {
        using Tensor y = tensor(SmoothPoints, ScalarType.Float64);
        using Tensor a = tensor(3.0, ScalarType.Float64);
        GradCheck.Assert(v => SoftRoundOps.soft_round_conditional_mean(v[0], v[1]), y, a);
    }

    [TestMethod]
    public void SecondDerivatives_MatchFiniteDifferences()
    {
        using Tensor y = tensor(SmoothPoints, ScalarType.Float64);
        using Tensor a = tensor(2.0, ScalarType.Float64);
        GradCheck.AssertSecondOrder(v => SoftRoundOps.soft_round_conditional_mean(v[0], v[1]), y, a);
    }

    [TestMethod]
    public void Float32_ShiftsInComputePrecision()
    {
        using var scope = NewDisposeScope();
        Tensor y = tensor(SmoothPoints.Select(v => (float)v).ToArray()).to(ScalarType.BFloat16);
        Tensor x = SoftRoundOps.soft_round_conditional_mean(y, 4.0);
        Assert.AreEqual(ScalarType.BFloat16, x.dtype);
        Tensor expected = SoftRoundOps.soft_round_conditional_mean(y.to(ScalarType.Float32), 4.0).to(ScalarType.BFloat16);
        TensorAssert.Identical(expected, x);
    }

    [TestMethod]
    public void BadInput_IsRefusedNamingTheOp()
    {
        using Tensor y = tensor(new[] { 0.3 });
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SoftRoundOps.soft_round_conditional_mean(y, double.NaN)).Message,
            "soft_round_conditional_mean");
        using Tensor wide = ones(3);
        Assert.ThrowsExactly<ArgumentException>(() => SoftRoundOps.soft_round_conditional_mean(y.expand(2), wide));
    }

    [TestMethod]
    [DataRow(10.0 / 3)]
    [DataRow(5.0)]
    [DataRow(10.0)]
    public void SlopeOverAPeriod_HasMeanOne_AndTheSecondMomentThatLimitsAnnealing(double alpha)
    {
        // For y uniform over a period, the slope's mean is 1 (x advances by one per period) and its second moment is
        // E[(dx/dy)²] = (2·tanh(α/2)/α)·(½ + sinh(α)/(2α)): about 1.45 at α = 10/3, 3.13 at 5 and 110 at 10. That
        // variance, passed to every gradient, is why the main example stops annealing at T = 0.2.
        using var scope = NewDisposeScope();
        const int n = 400_000;
        Tensor y = (arange(n, ScalarType.Float64) + 0.5) / n;
        Tensor yg = y.requires_grad_(true);
        SoftRoundOps.soft_round_conditional_mean(yg, alpha).sum().backward();
        Tensor slope = yg.grad!;
        Assert.AreEqual(1.0, slope.mean().item<double>(), 1e-4, $"mean {slope.mean().item<double>():R}");
        double expected = 2 * Math.Tanh(alpha / 2) / alpha * (0.5 + Math.Sinh(alpha) / (2 * alpha));
        Assert.AreEqual(expected, slope.square().mean().item<double>(), expected * 1e-3);
    }

    [TestMethod]
    public void TensorAlphaOfZero_IsAccepted_AndIsTheIdentity()
    {
        using var scope = NewDisposeScope();
        Tensor y = tensor(new[] { -1.3, 0.2, 0.8 }, ScalarType.Float64);
        TensorAssert.Identical(y, SoftRoundOps.soft_round_conditional_mean(y, tensor(0.0, ScalarType.Float64)));
    }
}
