using System;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Quantization;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Quantization;

[TestClass]
public sealed class QuantObserverTests
{
    [TestMethod]
    public void BadInput_NamesTheObserverAndValue_AndLeavesTheRangeAlone()
    {
        using var scope = NewDisposeScope();
        var o = new MinMaxObserver();
        var spec = new QuantSpec(8, axis: 0);
        StringAssert.Contains(Assert.ThrowsExactly<InvalidOperationException>(() => o.calculate_qparams(spec)).Message, "MinMaxObserver.calculate_qparams: no batch has been observed.");
        o.observe(ones(2, 3), spec);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => o.observe(tensor(new[,] { { 1f, float.NaN } }).expand(2, 2), spec)).Message, "MinMaxObserver.observe: x must be finite; got NaN.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => o.observe(ones(3, 3), spec)).Message, "MinMaxObserver.observe: x has 3 channels; the batches before had 2.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => o.observe(zeros(0, 3), spec)).Message, "MinMaxObserver.observe: x is empty.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => o.observe(ones(2), new QuantSpec(8, axis: 1))).Message, "MinMaxObserver.observe: spec.axis = 1 is outside the 1 dimensions of x.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => o.observe(ones(new long[] { 2, 3 }, ScalarType.Int32), spec)).Message, "MinMaxObserver.observe: x has dtype Int32");
        CollectionAssert.AreEqual(new[] { 1.0, 1.0 }, o.range!.Value.low);
        Assert.AreEqual(1, o.batch_count);
    }

    [TestMethod]
    public void AllZeros_GiveTheSmallestScale()
    {
        using var scope = NewDisposeScope();
        var o = new MinMaxObserver();
        o.observe(zeros(5), new QuantSpec(8));
        Assert.AreEqual(1.1920928955078125e-7f, o.calculate_qparams(new QuantSpec(8)).scale.item<float>());
    }

    [TestMethod]
    public void NullSpecs_AndTheEdgesOfEachObserversParameters()
    {
        using var scope = NewDisposeScope();
        var o = new MinMaxObserver();
        Assert.AreEqual("spec", Assert.ThrowsExactly<ArgumentNullException>(() => o.observe(ones(2), null!)).ParamName);
        o.observe(ones(2), new QuantSpec(8));
        Assert.AreEqual("spec", Assert.ThrowsExactly<ArgumentNullException>(() => o.calculate_qparams(null!)).ParamName);
        // Per tensor the proposal has one value; per channel one per channel.
        CollectionAssert.AreEqual(new long[] { 1 }, o.calculate_qparams(new QuantSpec(8)).scale.shape);
        var channels = new MinMaxObserver();
        channels.observe(ones(3, 2), new QuantSpec(8, axis: 0));
        CollectionAssert.AreEqual(new long[] { 3 }, channels.calculate_qparams(new QuantSpec(8, axis: 0)).scale.shape);
        // The largest and smallest parameters allowed are allowed.
        Assert.AreEqual(1.0, new MovingAverageMinMaxObserver(1).averaging_constant);
        Assert.AreEqual(50.0, new PercentileObserver(50).percentile);
        Assert.AreEqual(2, new MseObserver(2).candidates);
        Assert.AreEqual(10000, new MseObserver(10000).candidates);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new MseObserver(10001));
    }

}
