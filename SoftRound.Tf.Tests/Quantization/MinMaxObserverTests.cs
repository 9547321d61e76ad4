using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Quantization;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Quantization;

[TestClass]
public sealed class MinMaxObserverTests
{
    private static (float[] s, float[] z) QParams(QuantObserver o, QuantSpec spec)
    {
        (Tensor s, Tensor z) = o.calculate_qparams(spec);
        return (s.data<float>().ToArray(), z.data<float>().ToArray());
    }

    [TestMethod]
    public void MatchesPyTorchsObservers()
    {
        // The numbers are PyTorch 2.6's MinMaxObserver / PerChannelMinMaxObserver.calculate_qparams on the same data.
        using var scope = NewDisposeScope();
        Tensor x = tensor(new[] { -1.5f, 0.2f, 3.0f, -0.7f });
        Tensor w = tensor(new[,] { { 0.5f, -2.0f, 1.0f }, { 0.01f, 0.02f, -0.03f } });
        var o = new MinMaxObserver();
        o.observe(x, new QuantSpec(8));
        Assert.AreEqual((0.0235294122248888f, 0f), (QParams(o, new QuantSpec(8)).s[0], QParams(o, new QuantSpec(8)).z[0]));
        var affine = new QuantSpec(8, signed: false, symmetric: false);
        CollectionAssert.AreEqual(new[] { 0.01764705963432789f }, QParams(o, affine).s);
        CollectionAssert.AreEqual(new[] { 85f }, QParams(o, affine).z);
        CollectionAssert.AreEqual(new[] { 128f }, QParams(o, new QuantSpec(8, signed: false)).z);
        // Affine and narrow, [1, 255]: s = 4.5/254, z = 1 − round(−1.5/s).
        var narrow = new QuantSpec(8, signed: false, symmetric: false, narrowRange: true);
        Assert.AreEqual((float)(4.5 / 254), QParams(o, narrow).s[0]);
        Assert.AreEqual((float)(1 - Math.Round(-1.5 / (4.5 / 254))), QParams(o, narrow).z[0]);
        var perRow = new MinMaxObserver();
        perRow.observe(w, new QuantSpec(8, axis: 0));
        CollectionAssert.AreEqual(new[] { 0.01568627543747425f, 0.0002352941082790494f }, QParams(perRow, new QuantSpec(8, axis: 0)).s);
        var perColumn = new MinMaxObserver();
        QuantSpec columns = affine.per_channel(1);
        perColumn.observe(w, columns);
        (float[] s, float[] z) = QParams(perColumn, columns);
        // PyTorch rounds max − min to float32 before dividing; we round once at the end: within an ulp of its scales.
        float[] pytorch = { 0.0019607844296842813f, 0.007921568118035793f, 0.004039215389639139f };
        for (int c = 0; c < 3; c++) Assert.AreEqual(pytorch[c], s[c], MathF.BitIncrement(pytorch[c]) - pytorch[c], $"channel {c}");
        CollectionAssert.AreEqual(new[] { 0f, 252f, 7f }, z);
    }

    [TestMethod]
    public void Range_IsTheRunningMinimumAndMaximum()
    {
        using var scope = NewDisposeScope();
        var o = new MinMaxObserver();
        var spec = new QuantSpec(8, axis: 1);
        o.observe(tensor(new[,] { { 1f, -2f }, { 3f, 0.5f } }), spec);
        o.observe(tensor(new[,] { { -4f, 0f }, { 2f, 0.25f } }), spec);
        (double[] low, double[] high) = o.range!.Value;
        CollectionAssert.AreEqual(new[] { -4.0, -2.0 }, low);
        CollectionAssert.AreEqual(new[] { 3.0, 0.5 }, high);
        Assert.AreEqual(2, o.batch_count);
        o.reset();
        Assert.IsFalse(o.has_observed);
        Assert.IsNull(o.range);
    }
}
