using System;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace SoftRound.Tf.Tests;

[TestClass]
public sealed class SteepnessScheduleTests
{
    [TestMethod]
    public void Linear_InterpolatesAndHoldsTheEndValue()
    {
        var s = SteepnessSchedule.Linear(2.0, 10.0, steps: 100);
        Assert.AreEqual(2.0, s.at(0));
        Assert.AreEqual(6.0, s.at(50), 1e-12);
        Assert.AreEqual(10.0, s.at(100));
        Assert.AreEqual(10.0, s.at(1_000_000));
    }

    [TestMethod]
    public void Exponential_MultipliesByAConstantFactorPerStep()
    {
        var s = SteepnessSchedule.Exponential(2.0, 2000.0, steps: 3);
        Assert.AreEqual(2.0, s.at(0), 1e-12);
        Assert.AreEqual(20.0, s.at(1), 1e-12);
        Assert.AreEqual(200.0, s.at(2), 1e-10);
        Assert.AreEqual(2000.0, s.at(3), 1e-9);
    }

    [TestMethod]
    public void Cosine_StartsAndEndsFlat()
    {
        var s = SteepnessSchedule.Cosine(10.0, 2.0, steps: 100);
        Assert.AreEqual(10.0, s.at(0), 1e-12);
        Assert.AreEqual(6.0, s.at(50), 1e-12);
        Assert.AreEqual(2.0 + 8.0 * (1 + Math.Cos(Math.PI * 0.25)) / 2, s.at(25), 1e-12);
        Assert.AreEqual(2.0, s.at(100), 1e-12);
    }

    [TestMethod]
    public void TemperatureSpace_RunsTheCurveInTAndYieldsOneOverT()
    {
        var s = SteepnessSchedule.Linear(0.3, 0.1, steps: 10, ScheduleSpace.Temperature);
        Assert.AreEqual(1 / 0.3, s.at(0), 1e-12);
        Assert.AreEqual(1 / 0.2, s.at(5), 1e-12);
        Assert.AreEqual(10.0, s.at(10), 1e-12);
    }

    [TestMethod]
    public void Apply_SetsTheLayersSteepness()
    {
        var s = SteepnessSchedule.Linear(0.3, 0.1, steps: 4, ScheduleSpace.Temperature);
        using var layer = new SoftRoundLayer(5.0);
        using var quantizer = new QuantizationLayer(QuantizationMode.SoftRoundNoise);
        for (long step = 0; step <= 4; step++)
        {
            s.apply(layer, step);
            s.apply(quantizer, step);
            Assert.AreEqual(s.at(step), layer.alpha, 1e-12);
            Assert.AreEqual(s.at(step), quantizer.alpha, 1e-12);
        }
    }

    [TestMethod]
    public void BadArguments_AreRefusedNamingThem()
    {
        Assert.AreEqual("start", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SteepnessSchedule.Linear(0, 1, 10)).ParamName);
        Assert.AreEqual("end", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SteepnessSchedule.Cosine(1, double.NaN, 10)).ParamName);
        Assert.AreEqual("steps", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SteepnessSchedule.Exponential(1, 2, 0)).ParamName);
        Assert.AreEqual("curve", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new SteepnessSchedule((ScheduleCurve)7, 1, 2, 3)).ParamName);
        Assert.AreEqual("space", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new SteepnessSchedule(ScheduleCurve.Linear, 1, 2, 3, (ScheduleSpace)9)).ParamName);
        var s = SteepnessSchedule.Linear(1, 2, 10);
        Assert.AreEqual("step", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => s.at(-1)).ParamName);
        Assert.ThrowsExactly<ArgumentNullException>(() => s.apply(null!, 0));
    }

    [TestMethod]
    public void BadArguments_MessagesNameTheMemberAndTheValue()
    {
        Assert.AreEqual("end", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SteepnessSchedule.Linear(1, 0, 10)).ParamName);
        string steps = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SteepnessSchedule.Linear(1, 2, -4)).Message;
        StringAssert.Contains(steps, "SteepnessSchedule");
        StringAssert.Contains(steps, "-4");
        string step = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SteepnessSchedule.Linear(1, 2, 10).at(-3)).Message;
        StringAssert.Contains(step, "SteepnessSchedule.at");
        StringAssert.Contains(step, "-3");
    }
}
