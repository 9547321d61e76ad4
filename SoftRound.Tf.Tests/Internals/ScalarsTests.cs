using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Internals;
using TorchSharp;
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
        Assert.AreEqual(0, Scalars.Values(zeros(0, 3, 2)).Length, "empty, 3-dim");
        Assert.AreEqual(0, Scalars.Values(zeros(new long[] { 2, 0 }, ScalarType.Float64)).Length, "empty, float64");
    }

    [TestMethod]
    public void First_ReadsTheFirstElement_OfEveryLayoutAndDtype()
    {
        using var scope = NewDisposeScope();
        Assert.AreEqual(2.5, Scalars.First(tensor(new[] { 2.5f, 1f })));
        Assert.AreEqual(-0.1, Scalars.First(tensor(new[] { -0.1, 3.0 }).reshape(2, 1)));
        Assert.AreEqual(3.0, Scalars.First(tensor(new[] { -0.1, 3.0 }).flip(0)), "a view that starts inside its storage");
        Assert.AreEqual(7.0, Scalars.First(tensor(7f).expand(4, 5)), "an expanded scalar");
        Assert.AreEqual(1.5, Scalars.First(tensor(1.5).to(ScalarType.Float16)), "float16");
        Assert.AreEqual(-2.0, Scalars.First(tensor(new[] { -2.0, 1, 3, 4 }).reshape(2, 2).to(ScalarType.Float16)), "float16, 2-dim");
        Assert.AreEqual(4.0, Scalars.First(tensor(4.0)), "0-dim");
    }

    [TestMethod]
    public void CpuFloatAndDouble_AreReadWithoutALibtorchOperation_OtherDtypesThroughOne()
    {
        using var scope = NewDisposeScope();
        Tensor f = tensor(new[] { 1f, 2f, 3f, 4f }).reshape(2, 2).t(), d = tensor(new[] { 1.0, 2.0 }), h = d.to(ScalarType.Float16);
        Tensor g = tensor(3f).expand(8);
        Assert.AreEqual(0, Created(() => { Scalars.Values(f); Scalars.Values(d); Scalars.First(g); Scalars.First(d); }), "float32 and float64");
        Assert.IsTrue(Created(() => Scalars.Values(h)) > 0, "float16 is converted by libtorch");
        Assert.IsTrue(Created(() => Scalars.First(h)) > 0, "float16 is converted by libtorch");
    }

    /// <summary>Tensors created while <paramref name="action"/> runs, counted by TorchSharp inside and outside dispose scopes.</summary>
    private static long Created(System.Action action)
    {
        var stats = DisposeScopeManager.Statistics.TensorStatistics;
        long before = stats.CreatedInScopeCount + stats.CreatedOutsideScopeCount;
        action();
        return stats.CreatedInScopeCount + stats.CreatedOutsideScopeCount - before;
    }
}
