using System;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Quantization;

namespace SoftRound.Tf.Tests.Quantization;

[TestClass]
public sealed class QuantSpecTests
{
    [TestMethod]
    [DataRow(8, true, false, -128, 127, 0)]
    [DataRow(8, true, true, -127, 127, 0)]
    [DataRow(8, false, false, 0, 255, 128)]
    [DataRow(8, false, true, 1, 255, 128)]
    [DataRow(4, true, false, -8, 7, 0)]
    [DataRow(2, true, false, -2, 1, 0)]
    [DataRow(2, true, true, -1, 1, 0)]
    [DataRow(3, false, false, 0, 7, 4)]
    [DataRow(16, true, false, -32768, 32767, 0)]
    [DataRow(16, false, false, 0, 65535, 32768)]
    public void Grid_FollowsTheBitsSignAndRange(int bits, bool signed, bool narrow, int qmin, int qmax, int zero)
    {
        var spec = new QuantSpec(bits, signed, narrowRange: narrow);
        Assert.AreEqual((qmin, qmax, zero, qmax - qmin + 1), (spec.qmin, spec.qmax, spec.symmetric_zero_point, spec.levels));
    }

    [TestMethod]
    public void PerChannel_AndPerTensor_KeepTheRest_AndRecordsCompareByValue()
    {
        var spec = new QuantSpec(4, signed: false, symmetric: false, narrowRange: true);
        QuantSpec channels = spec.per_channel(0);
        Assert.AreEqual(0, channels.axis);
        Assert.AreEqual(spec, channels.per_tensor());
        Assert.AreNotEqual(spec, channels);
        Assert.AreEqual("uint4 affine narrow per channel (axis 0) [1, 15]", channels.ToString());
        Assert.AreEqual("int8 symmetric per tensor [-128, 127]", new QuantSpec(8).ToString());
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(17)]
    [DataRow(0)]
    [DataRow(-3)]
    public void BitsOutOfRange_AreRefused(int bits)
    {
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new QuantSpec(bits));
        Assert.AreEqual("bits", e.ParamName);
        StringAssert.Contains(e.Message, $"QuantSpec: bits must be in [2, 16]; got {bits}.");
    }
}
