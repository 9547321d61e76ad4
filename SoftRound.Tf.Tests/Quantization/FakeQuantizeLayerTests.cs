using System;
using System.IO;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Quantization;
using SoftRound.Tf.Tests.Helpers;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Quantization;

[TestClass]
public sealed class FakeQuantizeLayerTests
{
    [TestMethod]
    public void LearnedScale_StartsFromLsq_OnTheFirstBatch_ThenFollowsItsGradient()
    {
        using var scope = NewDisposeScope();
        var layer = new FakeQuantizeLayer(new QuantSpec(4));
        Tensor x = tensor(new[] { -1.5f, 0.2f, 3.0f, -0.7f });
        Assert.IsFalse(layer.is_initialized);
        Tensor y = layer.forward(x);
        float s = 2 * 5.4f / 4 / MathF.Sqrt(7);
        Assert.AreEqual(s, layer.scale.item<float>(), 1e-6f);
        TensorAssert.Identical(QuantizationOps.fake_quantize(x, tensor(new[] { s }), null, new QuantSpec(4)), y.detach());
        y.sum().backward();
        Assert.IsNotNull(layer.scale.grad);
        // A second batch does not move a learned scale.
        layer.forward(x * 10);
        Assert.AreEqual(s, layer.scale.item<float>(), 1e-6f);
        Assert.IsTrue(layer.learns_scale);
        Assert.IsFalse(layer.learns_zero_point);
        Assert.IsNull(layer.zero_point);
    }

    [TestMethod]
    public void ObservedScale_FollowsEveryTrainingBatch_AndEvalFreezesIt()
    {
        using var scope = NewDisposeScope();
        var layer = new FakeQuantizeLayer(new QuantSpec(8), learnScale: false, observer: new MinMaxObserver());
        layer.forward(tensor(new[] { -1f, 2f }));
        Assert.AreEqual(2 / 127.5f, layer.scale.item<float>(), 1e-9f);
        layer.forward(tensor(new[] { 4f }));
        Assert.AreEqual(4 / 127.5f, layer.scale.item<float>(), 1e-9f);
        layer.eval();
        layer.forward(tensor(new[] { 40f }));
        Assert.AreEqual(4 / 127.5f, layer.scale.item<float>(), 1e-9f);
        Assert.AreEqual(1, layer.observer.batch_count - 1);
        Assert.IsFalse(layer.learns_scale);
    }

    [TestMethod]
    public void Eval_BeforeAnyBatch_Throws_AndFakeQuantOff_PassesTheInput()
    {
        using var scope = NewDisposeScope();
        var layer = new FakeQuantizeLayer(new QuantSpec(8, axis: 1), channels: 3);
        layer.eval();
        StringAssert.Contains(Assert.ThrowsExactly<InvalidOperationException>(() => layer.forward(ones(2, 3))).Message, "FakeQuantizeLayer.forward: the scale has not been set");
        layer.train();
        layer.fake_quant_enabled = false;
        Tensor x = randn(2, 3);
        TensorAssert.Identical(x, layer.forward(x));
        Assert.IsTrue(layer.is_initialized);
        CollectionAssert.AreEqual(new long[] { 3 }, layer.scale.shape);
    }

    [TestMethod]
    public void LearnedZeroPoint_GetsLsqPlusGradient_AndTheScaleStaysPositive()
    {
        using var scope = NewDisposeScope();
        var spec = new QuantSpec(4, signed: false, symmetric: false);
        var layer = new FakeQuantizeLayer(spec, learnZeroPoint: true, observer: new MinMaxObserver());
        Tensor x = tensor(new[] { -1f, 0.5f, 2f });
        layer.forward(x);
        Assert.AreEqual(3f / 15, layer.scale.item<float>(), 1e-7f);
        Assert.AreEqual(5f, layer.zero_point!.item<float>());
        // Outside the grid the zero point's gradient is −s·g per unit of dy.
        Tensor y = layer.forward(tensor(new[] { 10f }));
        y.sum().backward();
        Assert.AreEqual(-(3f / 15) / MathF.Sqrt(15), layer.zero_point!.grad!.item<float>(), 1e-6f);
        using (no_grad()) layer.scale.fill_(-1);
        layer.forward(x);
        Assert.AreEqual(1.1920928955078125e-7f, layer.scale.item<float>());
    }

    [TestMethod]
    public void SaveAndLoad_RestoreTheScaleAndItsInitialisation()
    {
        using var scope = NewDisposeScope();
        var spec = new QuantSpec(4, signed: false, symmetric: false, axis: 0);
        var layer = new FakeQuantizeLayer(spec, channels: 2, learnZeroPoint: true);
        Tensor x = tensor(new[,] { { -1f, 2f, 0.3f }, { 5f, 6f, 7f } });
        Tensor y = layer.forward(x).detach();
        var saved = new MemoryStream();
        layer.save(saved);
        var restored = new FakeQuantizeLayer(spec, channels: 2, learnZeroPoint: true);
        restored.load(new MemoryStream(saved.ToArray()));
        restored.eval();
        Assert.IsTrue(restored.is_initialized);
        TensorAssert.Identical(y, restored.forward(x));
    }

    [TestMethod]
    public void BadArguments_NameTheLayerAndValue()
    {
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new FakeQuantizeLayer(new QuantSpec(8), channels: 4)).Message,
            "FakeQuantizeLayer: channels must be ≥ 1, and 1 for a per-tensor spec; got 4 for int8 symmetric per tensor [-128, 127].");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new FakeQuantizeLayer(new QuantSpec(8, axis: 0), channels: 0)).Message, "got 0");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => new FakeQuantizeLayer(new QuantSpec(8), learnZeroPoint: true)).Message, "FakeQuantizeLayer: learnZeroPoint needs an affine spec");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new FakeQuantizeLayer(new QuantSpec(8), steepness: 0)).Message, "steepness");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new FakeQuantizeLayer(new QuantSpec(8), gradScale: double.NaN)).Message, "gradScale");
        Assert.ThrowsExactly<ArgumentNullException>(() => new FakeQuantizeLayer(null!));
        using var scope = NewDisposeScope();
        var layer = new FakeQuantizeLayer(new QuantSpec(8));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => layer.forward(ones(new long[] { 2 }, ScalarType.Int64))).Message, "FakeQuantizeLayer.forward: x has dtype Int64");
        Assert.IsFalse(layer.is_initialized);
    }

    [TestMethod]
    public void NoLeaks()
    {
        using var scope = NewDisposeScope();
        var layer = new FakeQuantizeLayer(new QuantSpec(4, axis: 1), channels: 5, rounding: RoundingGradient.DifferentiableRound);
        Tensor x = randn(8, 5).requires_grad_(true);
        void Step()
        {
            using var inner = NewDisposeScope();
            layer.forward(x).square().sum().backward();
        }
        Step();
        long before = LiveTensors.Count();
        for (int i = 0; i < 20; i++) Step();
        Assert.AreEqual(before, LiveTensors.Count());
    }

    [TestMethod]
    public void Defaults_AndTheirChecks()
    {
        using var scope = NewDisposeScope();
        Assert.IsInstanceOfType<MovingAverageMinMaxObserver>(new FakeQuantizeLayer(new QuantSpec(8), learnScale: false).observer);
        Assert.IsInstanceOfType<LsqObserver>(new FakeQuantizeLayer(new QuantSpec(8)).observer);
        var affine = new FakeQuantizeLayer(new QuantSpec(8, signed: false, symmetric: false), learnZeroPoint: true);
        Assert.IsTrue(affine.learns_zero_point);
        Assert.AreSame(affine.get_parameter("zero_point"), affine.zero_point);
        var fixedZero = new FakeQuantizeLayer(new QuantSpec(8, signed: false, symmetric: false));
        Assert.IsFalse(fixedZero.learns_zero_point);
        Assert.AreEqual(128f, fixedZero.zero_point!.item<float>());
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new FakeQuantizeLayer(new QuantSpec(8), rounding: (RoundingGradient)9)).Message, "FakeQuantizeLayer: rounding");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new FakeQuantizeLayer(new QuantSpec(8), gradScale: 0)).Message, "FakeQuantizeLayer: gradScale");
    }

}
