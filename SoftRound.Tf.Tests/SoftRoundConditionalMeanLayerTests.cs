using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Tests.Helpers;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests;

[TestClass]
public sealed class SoftRoundConditionalMeanLayerTests
{
    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void Forward_EqualsTheOp_InTrainingAndEval(bool trainable)
    {
        using var scope = NewDisposeScope();
        using var layer = new SoftRoundConditionalMeanLayer(6.0, trainable);
        Tensor y = tensor(new[] { -1.3, 0.2, 0.45, 0.8, 2.5 }, ScalarType.Float64);
        TensorAssert.Identical(SoftRoundOps.soft_round_conditional_mean(y, layer.alpha), layer.call(y));
        layer.eval();
        TensorAssert.Identical(SoftRoundOps.soft_round_conditional_mean(y, layer.alpha), layer.call(y));
        Assert.AreEqual(trainable ? 1 : 0, layer.parameters().Count());
    }

    [TestMethod]
    public void AlphaZero_IsAccepted_NegativeIsNot()
    {
        using var scope = NewDisposeScope();
        using var layer = new SoftRoundConditionalMeanLayer(0);
        Tensor y = tensor(new[] { -1.3, 0.2 }, ScalarType.Float64);
        TensorAssert.Identical(y, layer.call(y));
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new SoftRoundConditionalMeanLayer(double.NaN));
        Assert.AreEqual("alpha", e.ParamName);
    }
}
