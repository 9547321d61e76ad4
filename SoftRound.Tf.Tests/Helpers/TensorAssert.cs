using System;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Helpers;

/// <summary>Element-wise tensor assertions that report the first offending index.</summary>
internal static class TensorAssert
{
    /// <summary>Each |actual − expected| ≤ atol + rtol·|expected|; NaN matches NaN and ±∞ must match exactly.</summary>
    public static void Close(double[] expected, Tensor actual, double rtol, double atol = 0)
    {
        double[] a = Reference.Values(actual);
        Assert.HasCount(expected.Length, a);
        for (int i = 0; i < a.Length; i++)
        {
            bool ok = double.IsNaN(expected[i]) ? double.IsNaN(a[i])
                : double.IsInfinity(expected[i]) ? a[i] == expected[i]
                : Math.Abs(a[i] - expected[i]) <= atol + rtol * Math.Abs(expected[i]);
            if (!ok) Assert.Fail($"index {i}: expected {expected[i]:R}, got {a[i]:R}");
        }
    }

    /// <summary>
    /// Same shape and dtype, each |actual − expected| ≤ atol + rtol·|expected|: for what the coder decodes beside the
    /// model's float32 forward (the coding path computes the entropy parameters in float64).
    /// </summary>
    public static void Close(Tensor expected, Tensor actual, double rtol, double atol)
    {
        CollectionAssert.AreEqual(expected.shape, actual.shape, "shape");
        Assert.AreEqual(expected.dtype, actual.dtype, "dtype");
        Close(Reference.Values(expected), actual, rtol, atol);
    }

    /// <summary>Same shape, same dtype and bitwise-equal values (NaN equal to NaN).</summary>
    public static void Identical(Tensor expected, Tensor actual)
    {
        CollectionAssert.AreEqual(expected.shape, actual.shape, "shape");
        Assert.AreEqual(expected.dtype, actual.dtype, "dtype");
        double[] e = Reference.Values(expected), a = Reference.Values(actual);
        for (int i = 0; i < e.Length; i++)
        {
            if (BitConverter.DoubleToInt64Bits(e[i]) != BitConverter.DoubleToInt64Bits(a[i]))
                Assert.Fail($"index {i}: expected {e[i]:R}, got {a[i]:R}");
        }
    }
}
