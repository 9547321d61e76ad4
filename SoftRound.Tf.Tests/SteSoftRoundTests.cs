using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests;

[TestClass]
public sealed class SteSoftRoundTests
{
    private static readonly double[] Points = { -2.5, -1.2, -0.5, 0.0, 0.26, 0.5, 0.8, 1.5, 2.97 };

    [TestMethod]
    [DataRow(1.0)]
    [DataRow(5.0)]
    [DataRow(20.0)]
    public void Forward_IsHardRound_Backward_IsSoftRoundsDerivative(double alpha)
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(Points, ScalarType.Float64).requires_grad_(true);
        Tensor y = SoftRoundOps.ste_soft_round(x, alpha);
        TensorAssert.Identical(x.detach().round(), y.detach());
        Tensor weights = linspace(0.5, 1.5, Points.Length, ScalarType.Float64);
        (y * weights).sum().backward();
        double[] w = Reference.Values(weights);
        TensorAssert.Close(Points.Select((v, i) => w[i] * Reference.SoftRoundDx(v, alpha)).ToArray(), x.grad!, 1e-13);
    }

    [TestMethod]
    public void TinyAlpha_GivesTheStraightThroughGradient()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(Points, ScalarType.Float64).requires_grad_(true);
        SoftRoundOps.ste_soft_round(x, 0.0).sum().backward();
        TensorAssert.Close(Enumerable.Repeat(1.0, Points.Length).ToArray(), x.grad!, 0);
    }

    [TestMethod]
    public void BadAlpha_IsRefused()
    {
        using Tensor x = tensor(new[] { 0.3 });
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SoftRoundOps.ste_soft_round(x, double.NegativeInfinity));
        Assert.AreEqual("alpha", e.ParamName);
        StringAssert.Contains(e.Message, "ste_soft_round");
    }
}
