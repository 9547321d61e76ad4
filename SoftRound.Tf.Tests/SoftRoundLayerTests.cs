using System;
using System.IO;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests;

[TestClass]
public sealed class SoftRoundLayerTests
{
    [TestMethod]
    [DataRow(false, ScalarType.Float32)]
    [DataRow(true, ScalarType.Float64)]
    [DataRow(true, ScalarType.Float16)]
    public void Forward_EqualsTheOpExactly(bool trainable, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        using var layer = new SoftRoundLayer(3.7, trainable);
        Tensor x = (randn(4, 6) * 3).to(dtype);
        TensorAssert.Identical(SoftRoundOps.soft_round(x, layer.alpha), layer.call(x));
    }

    [TestMethod]
    public void TrainableAlpha_ReceivesTheChainRuleGradient()
    {
        using var scope = NewDisposeScope();
        using var layer = new SoftRoundLayer(2.0, trainable: true);
        Tensor x = tensor(new[] { 0.2, 0.7, 1.4, -0.35 }, ScalarType.Float64);
        layer.call(x).sum().backward();
        Tensor a = tensor(2.0, ScalarType.Float64).requires_grad_(true);
        SoftRoundOps.soft_round(x, a).sum().backward();
        // d/d(log α) = α · dy/dα.
        Assert.AreEqual(2.0 * a.grad!.item<double>(), layer.parameters().Single().grad!.item<double>(), 1e-12);
    }

    [TestMethod]
    public void Alpha_RoundTripsThroughSaveAndLoad()
    {
        using var layer = new SoftRoundLayer(5.0, trainable: true);
        layer.alpha = 11.5;
        using var saved = new MemoryStream();
        layer.save(saved);
        using var restored = new SoftRoundLayer(1.0, trainable: true);
        restored.load(new MemoryStream(saved.ToArray()));
        Assert.AreEqual(layer.alpha, restored.alpha);
        CollectionAssert.AreEqual(new[] { "log_alpha" }, restored.state_dict().Keys.ToArray());
    }

    [TestMethod]
    public void BadAlpha_IsRefused()
    {
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new SoftRoundLayer(-0.5));
        Assert.AreEqual("alpha", e.ParamName);
        StringAssert.Contains(e.Message, nameof(SoftRoundLayer));
        using var layer = new SoftRoundLayer();
        Assert.AreEqual(5.0, layer.alpha, 1e-14);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => layer.alpha = -1);
        Assert.AreEqual(5.0, layer.alpha, 1e-14);
    }

    [TestMethod]
    public void EvalMode_RoundsHard_OrAppliesTheSoftOp()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(new[] { -1.3, 0.2, 0.45, 0.8, 2.5 }, ScalarType.Float64).requires_grad_(true);
        using var layer = new SoftRoundLayer(3.0);
        layer.eval();
        Tensor y = layer.call(x);
        TensorAssert.Identical(x.detach().round(), y.detach());
        y.sum().backward();
        TensorAssert.Identical(ones_like(x), x.grad!);
        layer.eval_behavior = EvalBehavior.SoftOp;
        TensorAssert.Identical(SoftRoundOps.soft_round(x.detach(), layer.alpha), layer.call(x.detach()));
        layer.train();
        layer.eval_behavior = EvalBehavior.HardRound;
        TensorAssert.Identical(SoftRoundOps.soft_round(x.detach(), layer.alpha), layer.call(x.detach()));
        Assert.AreEqual("eval_behavior", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => layer.eval_behavior = (EvalBehavior)7).ParamName);
        Assert.AreEqual(EvalBehavior.HardRound, layer.eval_behavior);
    }

    [TestMethod]
    public void AlphaZero_IsTheIdentity_AsTheOpIs()
    {
        using var scope = NewDisposeScope();
        using var layer = new SoftRoundLayer(0.0);
        Assert.AreEqual(0.0, layer.alpha);
        Tensor x = tensor(new[] { -1.3, 0.2, 0.8 }, ScalarType.Float64);
        TensorAssert.Identical(x, layer.call(x));
        layer.alpha = 0;
        Assert.AreEqual(0.0, layer.alpha);
    }

    [TestMethod]
    public void MinSteepness_FloorsTheAppliedAlpha_AndItsGradientIsZeroBelow()
    {
        using var scope = NewDisposeScope();
        using var layer = new SoftRoundLayer(2.0, trainable: true) { min_steepness = 4.0 };
        Tensor x = tensor(new[] { 0.2, 0.7, 1.4 }, ScalarType.Float64);
        Tensor y = layer.call(x);
        TensorAssert.Identical(SoftRoundOps.soft_round(x, 4.0), y);
        y.sum().backward();
        Assert.AreEqual(0.0, layer.parameters().Single().grad!.item<double>());
        Assert.AreEqual(2.0, layer.alpha, 1e-14, "the stored α is not changed by the floor");
        Assert.AreEqual("min_steepness", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => layer.min_steepness = -1).ParamName);
        Assert.AreEqual(4.0, layer.min_steepness);
    }

    [TestMethod]
    public void EvalBehavior_IsKeptFromTheConstructor_AndAFloorOfZeroIsAllowed()
    {
        using var layer = new SoftRoundLayer(3, evalBehavior: EvalBehavior.SoftOp) { min_steepness = 0 };
        Assert.AreEqual(EvalBehavior.SoftOp, layer.eval_behavior);
        Assert.AreEqual(0.0, layer.min_steepness);
    }
}
