using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Internals;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Internals;

/// <summary>Reading values out of tensors: the direct read and the converted one agree, in row-major order.</summary>
[TestClass]
public sealed class ScalarsTests
{
    [TestMethod]
    public void Values_EveryLayoutAndDtype_InRowMajorOrder()
    {
        using var scope = NewDisposeScope();
        double[] expected = { 0.1, -2.5, 3e-30, 1e30, double.NaN, double.PositiveInfinity };
        Tensor d = tensor(expected).reshape(2, 3);
        CollectionAssert.AreEqual(expected, Scalars.Values(d), "float64, contiguous");
        CollectionAssert.AreEqual(expected.Select(v => (double)(float)v).ToArray(), Scalars.Values(d.to(ScalarType.Float32)), "float32, contiguous");
        CollectionAssert.AreEqual(expected.Select(v => (double)(float)v).ToArray(), Scalars.Values(d.to(ScalarType.Float32).requires_grad_(true)), "requiring a gradient");
        double[] transposed = { 0.1, 1e30, -2.5, double.NaN, 3e-30, double.PositiveInfinity };
        CollectionAssert.AreEqual(transposed, Scalars.Values(d.t()), "float64, transposed");
        CollectionAssert.AreEqual(transposed.Select(v => (double)(float)v).ToArray(), Scalars.Values(d.t().to(ScalarType.Float32)), "float32, transposed");
        CollectionAssert.AreEqual(new[] { 0.5, -2.5 }, Scalars.Values(tensor(new[] { 0.5, -2.5 }).to(ScalarType.Float16)), "float16");
        CollectionAssert.AreEqual(new[] { 7.0, 7.0, 7.0 }, Scalars.Values(tensor(7f).expand(3)), "an expanded scalar");
        CollectionAssert.AreEqual(new[] { 4.0 }, Scalars.Values(tensor(4.0)), "0-dim");
        Assert.AreEqual(0, Scalars.Values(zeros(0)).Length, "empty");
    }
}
