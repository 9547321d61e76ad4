using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Entropy;
using SoftRound.Tf.Tests.Helpers;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Entropy;

[TestClass]
public sealed class LowerBoundTests
{
    [TestMethod]
    public void Value_IsTheMaximum()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(new[] { -1.0, 0.1, 0.2, 0.3, 5.0 });
        TensorAssert.Close(new[] { 0.2, 0.2, 0.2, 0.3, 5.0 }, LowerBound.lower_bound(x, 0.2), 0);
        TensorAssert.Close(new[] { 0.2, 0.2, 0.2, 0.3, 5.0 }, new LowerBound(0.2).call(x), 0);
    }

    [TestMethod]
    public void Gradient_PassesAboveTheBound_OrWhereItPushesUp()
    {
        // Below the bound with g > 0 (a descent step would lower x further) the gradient is 0; with g < 0 it passes.
        using var scope = NewDisposeScope();
        Tensor x = tensor(new[] { -1.0, -1.0, 0.2, 0.2, 3.0, 3.0 }).requires_grad_(true);
        Tensor g = tensor(new[] { 2.0, -2.0, 2.0, -2.0, 2.0, -2.0 });
        LowerBound.lower_bound(x, 0.2).backward(new[] { g });
        TensorAssert.Close(new[] { 0.0, -2.0, 2.0, -2.0, 2.0, -2.0 }, x.grad!, 0);
    }

    [TestMethod]
    public void BadInput_NamesTheMemberAndValue()
    {
        using var scope = NewDisposeScope();
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new LowerBound(double.NaN)).Message, "LowerBound: bound must be finite; got NaN.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => LowerBound.lower_bound(tensor(1.0), double.PositiveInfinity)).Message, "lower_bound: bound must be finite");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => LowerBound.lower_bound(tensor(new[] { 1 }), 0)).Message, "lower_bound: x has dtype Int32");
    }

    [TestMethod]
    public void NoLeaks()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(new[] { -1.0, 2.0 }).requires_grad_(true);
        void Step()
        {
            using var inner = NewDisposeScope();
            LowerBound.lower_bound(x, 0).sum().backward();
        }
        Step();
        long before = LiveTensors.Count();
        for (int i = 0; i < 20; i++) Step();
        Assert.AreEqual(before, LiveTensors.Count());
    }
}
