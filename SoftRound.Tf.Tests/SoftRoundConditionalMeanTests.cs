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
}
