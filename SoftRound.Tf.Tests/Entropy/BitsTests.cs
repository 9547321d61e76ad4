using System;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Entropy;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Entropy;

[TestClass]
public sealed class BitsTests
{
    [TestMethod]
    public void Total_PerElement_PerPixel()
    {
        using var scope = NewDisposeScope();
        Tensor y = tensor(new[] { 0.5, 0.25, 0.125 }, ScalarType.Float64);
        Tensor z = tensor(new[] { 1.0 / 16 }, ScalarType.Float64);
        Assert.AreEqual(6.0, Bits.total(y).item<double>(), 1e-15);
        Assert.AreEqual(10.0, Bits.total(y, z).item<double>(), 1e-14);
        Assert.AreEqual(2.5, Bits.per_element(y, z).item<double>(), 1e-14);
        Assert.AreEqual(10.0 / 64, Bits.per_pixel(64, y, z).item<double>(), 1e-14);
    }

    [TestMethod]
    public void Gradient_IsMinusOneOverPLn2()
    {
        using var scope = NewDisposeScope();
        Tensor p = tensor(new[] { 0.5, 0.25 }, ScalarType.Float64).requires_grad_(true);
        Bits.total(p).backward();
        Assert.AreEqual(-1 / (0.5 * Math.Log(2)), p.grad![0].item<double>(), 1e-14);
        Assert.AreEqual(-1 / (0.25 * Math.Log(2)), p.grad![1].item<double>(), 1e-14);
    }

    [TestMethod]
    public void BadInput()
    {
        using var scope = NewDisposeScope();
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => Bits.total()).Message, "Bits.total: no likelihoods given.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Bits.per_pixel(0, tensor(0.5))).Message, "Bits.per_pixel: pixels must be positive; got 0.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => Bits.per_element(empty(0))).Message, "Bits.per_element: the likelihoods have no entries.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => Bits.total(tensor(0.5), tensor(new[] { 1 }))).Message, "Bits.total: likelihoods[1] has dtype Int32");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => Bits.per_element(tensor(new[] { 1 }))).Message, "Bits.per_element: likelihoods[0] has dtype Int32");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => Bits.per_pixel(4, tensor(new[] { 1 }))).Message, "Bits.per_pixel: likelihoods[0] has dtype Int32");
        Assert.AreEqual("likelihoods", Assert.ThrowsExactly<ArgumentNullException>(() => Bits.total(null!)).ParamName);
    }
}
