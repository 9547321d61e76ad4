using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Quantization;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Quantization;

[TestClass]
public sealed class MseObserverTests
{
    private static double Error(Tensor x, double scale, QuantSpec spec)
    {
        using var scope = NewDisposeScope();
        return (QuantizationOps.fake_quantize(x, tensor(scale), null, spec) - x).square().sum().item<float>();
    }

    [TestMethod]
    public void ChoosesTheCandidateWithTheLeastError_AndClipsAnOutlier()
    {
        using var scope = NewDisposeScope();
        Tensor x = cat(new[] { randn(new long[] { 4000 }, generator: new Generator(2)), tensor(new[] { 30f }) });
        var spec = new QuantSpec(4);
        var o = new MseObserver(50);
        o.observe(x, spec);
        double chosen = o.calculate_qparams(spec).scale.item<float>();
        double best = Error(x, chosen, spec);
        double max = 30 / 7.5;
        for (int k = 1; k <= 50; k++) Assert.IsTrue(best <= Error(x, max * k / 50, spec) * (1 + 1e-5), $"r = {k}/50");
        Assert.IsTrue(chosen < max / 3, $"{chosen}");
    }

    [TestMethod]
    public void PerChannel_EachChannelChoosesItsOwnRatio()
    {
        using var scope = NewDisposeScope();
        Tensor a = randn(new long[] { 1, 2000 }, generator: new Generator(3));
        Tensor x = cat(new[] { a, a * 10 }, 0);
        var spec = new QuantSpec(3, axis: 0);
        var o = new MseObserver();
        o.observe(x, spec);
        float[] s = o.calculate_qparams(spec).scale.data<float>().ToArray();
        Assert.AreEqual(10, s[1] / s[0], 1e-4);
    }

    [TestMethod]
    public void DataOnTheAffineGrid_KeepsItsFullRange_AndBatchesAreAveraged()
    {
        // 0, 0.1, …, 1.5 lie exactly on the uint4 grid of [0, 1.5] (Z = 0): only the last candidate, the full range,
        // quantizes them without error. A second batch on [0, 3] averages the ranges to [0, 2.25].
        using var scope = NewDisposeScope();
        var spec = new QuantSpec(4, signed: false, symmetric: false);
        var o = new MseObserver(10);
        o.observe(arange(16, ScalarType.Float64) * 0.1, spec);
        Assert.AreEqual(0, o.range!.Value.low[0]);
        Assert.AreEqual(1.5, o.range!.Value.high[0], 1e-12);
        o.observe(arange(16, ScalarType.Float64) * 0.2, spec);
        Assert.AreEqual(0, o.range!.Value.low[0]);
        Assert.AreEqual(2.25, o.range!.Value.high[0], 1e-12);
    }

    [TestMethod]
    public void BadCandidates_AreRefused() =>
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new MseObserver(1)).Message, "MseObserver: candidates must be in [2, 10000]; got 1.");
}
