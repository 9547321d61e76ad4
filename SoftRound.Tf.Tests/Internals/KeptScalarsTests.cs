using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp;
using static SoftRound.Tf.Internals.KeptScalars;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Internals;

[TestClass]
public sealed class KeptScalarsTests
{
    [TestMethod]
    public void S_IsOneObjectPerValue_WithItsTypeAndItsSignOfZero()
    {
        Assert.AreSame(S(0.5), S(0.5));
        Assert.AreSame(S(2), S(2L));
        Assert.AreNotSame(S(2), S(2.0));
        Assert.AreNotSame(S(0.0), S(-0.0));
        Assert.AreEqual(0.5, S(0.5).ToDouble());
        Assert.IsTrue(double.IsNegative(S(-0.0).ToDouble()));
        Assert.AreEqual(-3L, S(-3).ToInt64());
        Assert.AreEqual(ScalarType.Int64, S(2).Type);
        Assert.AreEqual(ScalarType.Float64, S(2.0).Type);
    }

    [TestMethod]
    public void S_ComputesAsTheImplicitScalarOfTheSameLiteral()
    {
        using var scope = NewDisposeScope();
        Tensor integers = tensor(new long[] { 3, -4 });
        Tensor halves = tensor(new[] { 1.5f, -2.5f });
        // An integer Scalar keeps an integer tensor integral; a floating one promotes it, as `x * 2.0` does.
        Assert.AreEqual(ScalarType.Int64, (integers * S(2)).dtype);
        Assert.AreEqual(ScalarType.Float32, (integers * S(2.0)).dtype);
        CollectionAssert.AreEqual(new long[] { 6, -8 }, (integers * S(2)).data<long>().ToArray());
        TensorAssert.Identical(halves * 0.5, halves * S(0.5));
        TensorAssert.Identical(1 - halves, S(1) - halves);
    }

    [TestMethod]
    public void AddWithOne_AndMinus_ComputeAsTorchSharpsOperators_BitForBit()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(new[] { 0.1f, -0.0f, 0.0f, 1e30f, -3.75f, float.NaN, float.PositiveInfinity, 1.17549435e-38f });
        Tensor y = tensor(new[] { 0.2f, 0.0f, -0.0f, -1e30f, 1e-8f, 1f, 1f, -1.17549435e-38f });
        TensorAssert.Identical(x + y, x.add(y, One));
        TensorAssert.Identical(x + S(0.3), x.add(S(0.3), One));
        TensorAssert.Identical(S(0.3) - x, S(0.3).Minus(x));
        TensorAssert.Identical(S(-0.0) - y, S(-0.0).Minus(y));
        Tensor integers = tensor(new long[] { 3, -4 });
        Assert.AreEqual(ScalarType.Int64, S(2).Minus(integers).dtype);
        CollectionAssert.AreEqual(new long[] { -1, 6 }, S(2).Minus(integers).data<long>().ToArray());
        CollectionAssert.AreEqual(new long[] { 6, -8 }, integers.add(integers, One).data<long>().ToArray());
    }
}
