using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Quantization;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Quantization;

[TestClass]
public sealed class MovingAverageMinMaxObserverTests
{
    [TestMethod]
    public void AveragesEachBatchsRange_AsPyTorch()
    {
        // PyTorch 2.6: MovingAverageMinMaxObserver(averaging_constant=0.5, quint8) after these two batches: min −0.25,
        // max 4, scale 0.01666666753590107, zero point 15.
        using var scope = NewDisposeScope();
        var o = new MovingAverageMinMaxObserver(0.5);
        var spec = new QuantSpec(8, signed: false, symmetric: false);
        o.observe(tensor(new[] { -1.5f, 0.2f, 3.0f, -0.7f }), spec);
        o.observe(tensor(new[] { 1.0f, 5.0f }), spec);
        Assert.AreEqual((-0.25, 4.0), (o.range!.Value.low[0], o.range!.Value.high[0]));
        (Tensor s, Tensor z) = o.calculate_qparams(spec);
        Assert.AreEqual(0.01666666753590107f, s.item<float>());
        Assert.AreEqual(15f, z.item<float>());
        Assert.AreEqual(0.01, new MovingAverageMinMaxObserver().averaging_constant);
    }

    [TestMethod]
    [DataRow(0.0)]
    [DataRow(1.5)]
    [DataRow(double.NaN)]
    public void BadConstant_IsRefused(double c)
    {
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new MovingAverageMinMaxObserver(c));
        StringAssert.Contains(e.Message, "MovingAverageMinMaxObserver: averagingConstant must be in (0, 1]");
    }
}
