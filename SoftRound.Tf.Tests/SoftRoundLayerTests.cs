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
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new SoftRoundLayer(0.0));
        Assert.AreEqual("alpha", e.ParamName);
        StringAssert.Contains(e.Message, nameof(SoftRoundLayer));
        using var layer = new SoftRoundLayer();
        Assert.AreEqual(5.0, layer.alpha, 1e-14);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => layer.alpha = -1);
        Assert.AreEqual(5.0, layer.alpha, 1e-14);
    }
}
