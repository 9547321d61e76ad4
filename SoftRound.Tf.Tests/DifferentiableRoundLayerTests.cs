using System;
using System.IO;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests;

[TestClass]
public sealed class DifferentiableRoundLayerTests
{
    [TestMethod]
    [DataRow(false, ScalarType.Float32)]
    [DataRow(false, ScalarType.Float64)]
    [DataRow(true, ScalarType.Float32)]
    [DataRow(true, ScalarType.Float64)]
    [DataRow(true, ScalarType.BFloat16)]
    public void Forward_EqualsTheOpExactly(bool trainable, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        using var layer = new DifferentiableRoundLayer(7.3, trainable);
        Tensor x = (randn(5, 7) * 4).to(dtype);
        TensorAssert.Identical(SoftRoundOps.differentiable_round(x, layer.k), layer.call(x));
    }

    [TestMethod]
    public void Defaults_AreKTenAndNotTrainable()
    {
        using var layer = new DifferentiableRoundLayer();
        Assert.AreEqual(10.0, layer.k, 1e-14);
        Assert.IsFalse(layer.trainable);
        Assert.AreEqual(0, layer.parameters().Count());
        CollectionAssert.AreEqual(new[] { "log_k" }, layer.state_dict().Keys.ToArray());
    }

    [TestMethod]
    public void Trainable_KIsTheOnlyParameter()
    {
        using var layer = new DifferentiableRoundLayer(4.0, trainable: true);
        Assert.IsTrue(layer.trainable);
        CollectionAssert.AreEqual(new[] { "log_k" }, layer.named_parameters().Select(p => p.name).ToArray());
    }

    [TestMethod]
    public void TrainableK_ReceivesTheChainRuleGradientAndChangesUnderAnOptimizerStep()
    {
        using var scope = NewDisposeScope();
        using var layer = new DifferentiableRoundLayer(4.0, trainable: true);
        double[] xs = { 0.2, 0.7, 1.4, -0.35 };
        Tensor x = tensor(xs, ScalarType.Float64);
        layer.call(x).sum().backward();
        Tensor logK = layer.parameters().Single();
        // d/d(log k) = k · Σ r·σ(z)·σ(−z).
        double expected = 4.0 * xs.Sum(v =>
        {
            double r = v - Math.Floor(v) - 0.5;
            return r * Reference.Sigmoid(4 * r) * Reference.Sigmoid(-4 * r);
        });
        Assert.AreEqual(expected, logK.grad!.item<double>(), 1e-12);

        var optimizer = optim.SGD(layer.parameters(), 0.5);
        optimizer.step();
        Assert.AreEqual(4.0 * Math.Exp(-0.5 * expected), layer.k, 1e-12);
    }

    [TestMethod]
    public void TrainableK_StaysPositiveUnderAHugeStep()
    {
        using var scope = NewDisposeScope();
        using var layer = new DifferentiableRoundLayer(2.0, trainable: true);
        Tensor x = tensor(new[] { 0.9, 1.9, 2.9 }, ScalarType.Float64);
        layer.call(x).sum().backward();
        var optimizer = optim.SGD(layer.parameters(), 1000.0);
        optimizer.step();
        Assert.IsTrue(layer.k > 0 && double.IsFinite(layer.k), $"k = {layer.k}");
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void K_RoundTripsThroughSaveAndLoad(bool trainable)
    {
        using var scope = NewDisposeScope();
        using var trained = new DifferentiableRoundLayer(3.0, trainable);
        trained.k = 17.25;
        using var saved = new MemoryStream();
        trained.save(saved);
        using var restored = new DifferentiableRoundLayer(1.0, trainable);
        restored.load(new MemoryStream(saved.ToArray()));
        Assert.AreEqual(trained.k, restored.k);
        Assert.AreEqual(17.25, restored.k, 1e-12);
        Tensor x = randn(10) * 3;
        TensorAssert.Identical(trained.call(x), restored.call(x));
    }

    [TestMethod]
    public void K_RoundTripsThroughStateDict()
    {
        using var source = new DifferentiableRoundLayer(6.5, trainable: true);
        using var target = new DifferentiableRoundLayer(2.0, trainable: true);
        target.load_state_dict(source.state_dict());
        Assert.AreEqual(source.k, target.k);
    }

    [TestMethod]
    [DataRow(double.NaN)]
    [DataRow(double.PositiveInfinity)]
    [DataRow(0.0)]
    [DataRow(-3.0)]
    public void BadK_IsRefusedByConstructorAndSetter(double bad)
    {
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new DifferentiableRoundLayer(bad));
        Assert.AreEqual("k", e.ParamName);
        StringAssert.Contains(e.Message, nameof(DifferentiableRoundLayer));

        using var layer = new DifferentiableRoundLayer(5.0, trainable: true);
        double before = layer.k;
        Assert.AreEqual("k", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => layer.k = bad).ParamName);
        Assert.AreEqual(before, layer.k);
    }

    [TestMethod]
    public void BadInput_IsRefusedAndLeavesStateUnchanged()
    {
        using var layer = new DifferentiableRoundLayer(5.0, trainable: true);
        using Tensor ints = zeros(3, ScalarType.Int32);
        Assert.ThrowsExactly<ArgumentException>(() => layer.call(ints));
        Assert.AreEqual(5.0, layer.k, 1e-14);
    }

    [TestMethod]
    public void EvalMode_RoundsHardByDefault_OrAppliesTheSoftOp()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(new[] { -1.3, 0.2, 0.45, 0.8, 2.5 }, ScalarType.Float64).requires_grad_(true);
        using var layer = new DifferentiableRoundLayer(10);
        Assert.AreEqual(EvalBehavior.HardRound, layer.eval_behavior);
        layer.eval();
        Tensor y = layer.call(x);
        TensorAssert.Identical(x.detach().round(), y.detach());
        y.sum().backward();
        TensorAssert.Identical(ones_like(x), x.grad!);
        using var soft = new DifferentiableRoundLayer(10, evalBehavior: EvalBehavior.SoftOp);
        soft.eval();
        TensorAssert.Identical(SoftRoundOps.differentiable_round(x.detach(), soft.k), soft.call(x.detach()));
    }

    [TestMethod]
    public void MinSteepness_KeepsATrainableKFromDriftingBelowTheFloor()
    {
        using var scope = NewDisposeScope();
        using var layer = new DifferentiableRoundLayer(10, trainable: true) { min_steepness = 8 };
        Tensor x = tensor(new[] { 0.2, 0.7, 1.4 }, ScalarType.Float64);
        TensorAssert.Identical(SoftRoundOps.differentiable_round(x, layer.k), layer.call(x));
        layer.k = 5;
        TensorAssert.Identical(SoftRoundOps.differentiable_round(x, 8.0), layer.call(x));
    }
}
