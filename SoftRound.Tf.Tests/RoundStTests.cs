using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests;

[TestClass]
public sealed class RoundStTests
{
    [TestMethod]
    [DataRow(ScalarType.Float32)]
    [DataRow(ScalarType.Float64)]
    public void RoundsHalfToEven(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(new[] { -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49, -0.51, 3.7 }, dtype);
        TensorAssert.Close(new[] { -2.0, -2.0, -0.0, 0.0, 2.0, 2.0, 0.0, -1.0, 4.0 }, SoftRoundOps.round_st(x), 0);
    }

    [TestMethod]
    public void Offset_ShiftsTheGrid()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(new[] { 0.1, 0.9, 1.3, -0.6 }, ScalarType.Float64);
        Tensor o = tensor(0.25, ScalarType.Float64);
        // round(x − ¼) + ¼
        TensorAssert.Close(new[] { 0.25, 1.25, 1.25, -0.75 }, SoftRoundOps.round_st(x, o), 1e-15);
        Tensor perChannel = tensor(new[] { 0.0, 0.5 }, ScalarType.Float64).reshape(2, 1);
        Tensor grid = tensor(new[] { 0.8, 1.2, 0.8, 1.2 }, ScalarType.Float64).reshape(2, 2);
        TensorAssert.Close(new[] { 1.0, 1.0, 0.5, 1.5 }, SoftRoundOps.round_st(grid, perChannel), 1e-15);
    }

    [TestMethod]
    public void Gradient_PassesTheIncomingGradientUnchanged()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(new[] { 0.3, 1.7, double.PositiveInfinity, double.NaN, -4.2 }, ScalarType.Float64).requires_grad_(true);
        Tensor o = tensor(0.1, ScalarType.Float64).requires_grad_(true);
        Tensor weights = tensor(new[] { 0.5, -2.0, 3.0, 7.0, 1.25 }, ScalarType.Float64);
        (SoftRoundOps.round_st(x, o) * weights).sum().backward();
        TensorAssert.Identical(weights, x.grad!);
        TensorAssert.Identical(zeros_like(o), o.grad!);
    }

    [TestMethod]
    [DataRow(true, 1, DisplayName = "x requires a gradient, 1-element offset")]
    [DataRow(true, 3, DisplayName = "x requires a gradient, 3-element offset")]
    [DataRow(false, 1, DisplayName = "x does not, 1-element offset")]
    [DataRow(false, 3, DisplayName = "x does not, 3-element offset")]
    public void OffsetGradient_IsZero_WhateverRequiresAGradient(bool xRequiresGrad, int offsetElements)
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(new[] { 0.3, 1.7, -4.2 }, ScalarType.Float64).requires_grad_(xRequiresGrad);
        Tensor o = full(offsetElements, 0.1, ScalarType.Float64).requires_grad_(true);
        Tensor y = SoftRoundOps.round_st(x, o);
        Assert.IsTrue(y.requires_grad, "the output has a gradient whenever the offset requires one");
        TensorAssert.Close(new[] { 0.1, 2.1, -3.9 }, y, 1e-15);
        y.sum().backward();
        TensorAssert.Identical(zeros_like(o), o.grad!);
        if (xRequiresGrad) TensorAssert.Identical(ones_like(x), x.grad!);
    }

    [TestMethod]
    public void SpecialValues_PassThrough()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(new[] { double.PositiveInfinity, double.NegativeInfinity, double.NaN, -0.0, 16777217.0 }, ScalarType.Float32);
        double[] y = Reference.Values(SoftRoundOps.round_st(x));
        Assert.AreEqual(double.PositiveInfinity, y[0]);
        Assert.AreEqual(double.NegativeInfinity, y[1]);
        Assert.IsTrue(double.IsNaN(y[2]));
        Assert.IsTrue(double.IsNegative(y[3]) && y[3] == 0, "−0.0 stays −0.0");
        Assert.AreEqual(16777216.0, y[4]);
    }

    [TestMethod]
    [DataRow(ScalarType.Float16)]
    [DataRow(ScalarType.BFloat16)]
    public void HalfPrecision_ReturnsItsDtype(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(new[] { 0.4, 1.6, -2.5 }).to(dtype).requires_grad_(true);
        Tensor y = SoftRoundOps.round_st(x);
        Assert.AreEqual(dtype, y.dtype);
        TensorAssert.Close(new[] { 0.0, 2.0, -2.0 }, y, 0);
        y.sum().backward();
        Assert.AreEqual(dtype, x.grad!.dtype);
        TensorAssert.Close(new[] { 1.0, 1.0, 1.0 }, x.grad!, 0);
    }

    [TestMethod]
    public void BadOffset_IsRefused()
    {
        using var scope = NewDisposeScope();
        Tensor x = zeros(2, 3);
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SoftRoundOps.round_st(x, tensor(new[] { 0.1f, float.NaN, 0.2f })));
        Assert.AreEqual("offset", e.ParamName);
        StringAssert.Contains(e.Message, "round_st");
        Assert.AreEqual("offset", Assert.ThrowsExactly<ArgumentException>(() => SoftRoundOps.round_st(x, zeros(2))).ParamName);
        Assert.AreEqual("offset", Assert.ThrowsExactly<ArgumentException>(() => SoftRoundOps.round_st(x, zeros(3, ScalarType.Int32))).ParamName);
        Assert.AreEqual("x", Assert.ThrowsExactly<ArgumentException>(() => SoftRoundOps.round_st(zeros(2, ScalarType.Bool))).ParamName);
    }

    [TestMethod]
    [DataRow(ScalarType.Float32)]
    [DataRow(ScalarType.Float64)]
    public void NegativeValuesRoundingToZero_KeepTheirSign_InTheVectorPathToo(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        Tensor x = full(64, -0.3, dtype);
        foreach (double y in Reference.Values(SoftRoundOps.round_st(x)))
        {
            Assert.IsTrue(y == 0 && double.IsNegative(y), "round(−0.3) = −0.0, as torch.round");
        }
    }
}
