using System;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Tests.Helpers;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Compression;

[TestClass]
public sealed class NonNegativeParametrizerTests
{
    [TestMethod]
    public void Init_ThenForward_GivesTheValueBack_AndNeverLessThanTheMinimum()
    {
        using var scope = NewDisposeScope();
        var p = new NonNegativeParametrizer(minimum: 1e-6);
        Assert.AreEqual(Math.Pow(2, -36), p.pedestal);
        Assert.AreEqual(Math.Sqrt(1e-6 + Math.Pow(2, -36)), p.bound, 1e-18);
        Tensor w = tensor(new[] { 0.0, 1e-6, 0.1, 1.0, 37.5 }, ScalarType.Float64);
        TensorAssert.Close(new[] { 1e-6, 1e-6, 0.1, 1.0, 37.5 }, p.forward(p.init(w)), 1e-12, 1e-15);
        // Stored values below the bound (or negative) still give the minimum.
        TensorAssert.Close(new[] { 1e-6, 1e-6 }, p.forward(tensor(new[] { -3.0, 0.0 }, ScalarType.Float64)), 1e-9);
    }

    [TestMethod]
    public void Gradient_IsTwiceTheStoredValue_AndPushesUpFromTheBound()
    {
        using var scope = NewDisposeScope();
        var p = new NonNegativeParametrizer();
        Tensor v = tensor(new[] { 0.7, -2.0, -2.0 }, ScalarType.Float64).requires_grad_(true);
        Tensor g = tensor(new[] { 1.0, 1.0, -1.0 }, ScalarType.Float64);
        p.forward(v).backward(new[] { g });
        // d(v²)/dv = 2v above the bound; at the bound (value b) the gradient passes only when it pushes v up.
        TensorAssert.Close(new[] { 1.4, 0.0, -2 * p.bound }, v.grad!, 1e-12);
    }

    [TestMethod]
    public void BadArguments()
    {
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new NonNegativeParametrizer(-1)).Message,
            "NonNegativeParametrizer: minimum must be finite and at least 0; got -1.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new NonNegativeParametrizer(0, 0)).Message,
            "NonNegativeParametrizer: reparamOffset must be finite and greater than 0; got 0.");
    }
}
