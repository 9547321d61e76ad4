using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests;

[TestClass]
public sealed class RoundStLayerTests
{
    [TestMethod]
    public void Forward_EqualsTheOp_AndPassesGradients()
    {
        using var scope = NewDisposeScope();
        using var layer = new RoundStLayer();
        Tensor x = (randn(5, 3) * 4).requires_grad_(true);
        Tensor y = layer.call(x);
        TensorAssert.Identical(SoftRoundOps.round_st(x.detach()), y.detach());
        y.sum().backward();
        TensorAssert.Identical(ones_like(x), x.grad!);
        Assert.AreEqual(0, layer.parameters().Count());
        Assert.AreEqual(0, layer.state_dict().Count);
    }
}
