using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Tests.Helpers;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests;

[TestClass]
public sealed class SoftRoundInverseLayerTests
{
    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void Forward_EqualsTheOp_InTrainingAndEval(bool trainable)
    {
        using var scope = NewDisposeScope();
        using var layer = new SoftRoundInverseLayer(3.5, trainable);
        Tensor y = tensor(new[] { -1.3, 0.2, 0.45, 0.8, 2.5 }, ScalarType.Float64);
        TensorAssert.Identical(SoftRoundOps.soft_round_inverse(y, layer.alpha), layer.call(y));
        layer.eval();
        TensorAssert.Identical(SoftRoundOps.soft_round_inverse(y, layer.alpha), layer.call(y));
        Assert.AreEqual(trainable ? 1 : 0, layer.parameters().Count());
    }

    [TestMethod]
    public void UndoesSoftRoundLayer()
    {
        using var scope = NewDisposeScope();
        using var forward = new SoftRoundLayer(4.0, evalBehavior: EvalBehavior.SoftOp);
        using var inverse = new SoftRoundInverseLayer(4.0);
        Tensor x = tensor(new[] { -1.3, 0.2, 0.45, 0.8, 2.6 }, ScalarType.Float64);
        TensorAssert.Close(Reference.Values(x), inverse.call(forward.call(x)), 1e-14);
    }

    [TestMethod]
    public void AlphaZero_IsAccepted_NegativeIsNot()
    {
        using var scope = NewDisposeScope();
        using var layer = new SoftRoundInverseLayer(0);
        Tensor y = tensor(new[] { -1.3, 0.2 }, ScalarType.Float64);
        TensorAssert.Identical(y, layer.call(y));
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new SoftRoundInverseLayer(-1));
        Assert.AreEqual("alpha", e.ParamName);
        StringAssert.Contains(e.Message, nameof(SoftRoundInverseLayer));
    }
}
