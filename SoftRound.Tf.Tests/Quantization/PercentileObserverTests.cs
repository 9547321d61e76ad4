using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Quantization;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Quantization;

[TestClass]
public sealed class PercentileObserverTests
{
    [TestMethod]
    public void Range_IsThePercentiles_InterpolatedAsNumpy_AveragedOverBatches()
    {
        using var scope = NewDisposeScope();
        // 1..100: the 99th percentile is 1 + 0.99·99 = 99.01, the 1st 1 + 0.01·99 = 1.99.
        Tensor x = arange(1, 101, ScalarType.Float32);
        var o = new PercentileObserver(99);
        o.observe(x, new QuantSpec(8));
        Assert.AreEqual(1.99, o.range!.Value.low[0], 1e-12);
        Assert.AreEqual(99.01, o.range!.Value.high[0], 1e-12);
        o.observe(x * 3, new QuantSpec(8));
        Assert.AreEqual((99.01 + 3 * 99.01) / 2, o.range!.Value.high[0], 1e-9);
        // Per channel, 100 gives min/max.
        var all = new PercentileObserver(100);
        all.observe(tensor(new[,] { { 1f, -7f, 2f }, { 4f, 0.5f, -1f } }), new QuantSpec(8, axis: 0));
        CollectionAssert.AreEqual(new[] { -7.0, -1.0 }, all.range!.Value.low);
        CollectionAssert.AreEqual(new[] { 2.0, 4.0 }, all.range!.Value.high);
    }

    [TestMethod]
    public void ClipsAnOutlier()
    {
        using var scope = NewDisposeScope();
        Tensor x = cat(new[] { linspace(-1, 1, 10001), tensor(new[] { 40f }) });
        var o = new PercentileObserver(99.9);
        o.observe(x, new QuantSpec(8));
        Assert.IsTrue(o.range!.Value.high[0] < 1.01, $"{o.range!.Value.high[0]}");
    }

    [TestMethod]
    [DataRow(49.0)]
    [DataRow(100.5)]
    public void BadPercentile_IsRefused(double p) =>
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new PercentileObserver(p)).Message, $"PercentileObserver: percentile must be in [50, 100]; got {p}.");
}
