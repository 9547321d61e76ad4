using System;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Internals;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Internals;

[TestClass]
public sealed class OpGuardTests
{
    [TestMethod]
    public void TensorSteepness_OnTheCpu_IsScannedAndTheFirstBadEntryNamed()
    {
        using var scope = NewDisposeScope();
        Tensor x = zeros(3);
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => OpGuard.Steepness("op", "alpha", tensor(new[] { 1f, -2f, float.NaN }), x, allowZero: true));
        Assert.AreEqual("alpha", e.ParamName);
        StringAssert.Contains(e.Message, "-2");
        OpGuard.Steepness("op", "alpha", tensor(new[] { 1f, 0f, 3f }), x, allowZero: true);
    }

    [TestMethod]
    public void TensorSteepness_OnAnotherDevice_IsNotReadToTheHost()
    {
        // A meta tensor has no data: reading it (or computing isfinite on it) throws, so passing means no host read.
        using var scope = NewDisposeScope();
        var meta = new Device(DeviceType.META);
        Tensor alpha = full(3, -1f, device: meta), x = empty(3, device: meta);
        OpGuard.Steepness("op", "alpha", alpha, x, allowZero: true);
        OpGuard.Finite("op", "offset", alpha, x);
        // Shape and dtype are still checked, from metadata.
        Assert.ThrowsExactly<ArgumentException>(() => OpGuard.Steepness("op", "alpha", full(4, 1f, device: meta), x, allowZero: true));
        Assert.ThrowsExactly<ArgumentException>(() => OpGuard.Finite("op", "offset", full(3, 1, ScalarType.Int32, device: meta), x));
    }

    [TestMethod]
    public void Messages_NameTheOpTheParameterTheRuleAndTheValue()
    {
        using var scope = NewDisposeScope();
        string zeroAllowed = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => OpGuard.Steepness("op", "alpha", -2.5, allowZero: true)).Message;
        StringAssert.Contains(zeroAllowed, "op: alpha must be finite and at least 0; got -2.5");
        string positive = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => OpGuard.Steepness("op", "k", 0, allowZero: false)).Message;
        StringAssert.Contains(positive, "op: k must be finite and greater than 0; got 0");
        string notDefined = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => OpGuard.Defined("op", "mode", (QuantizationMode)42)).Message;
        StringAssert.Contains(notDefined, "op: mode is not a QuantizationMode; got 42");
        string shape = Assert.ThrowsExactly<ArgumentException>(() => OpGuard.BroadcastsTo("op", "offset", zeros(2, 4), zeros(3))).Message;
        StringAssert.Contains(shape, "op: offset has shape (2, 4), which does not broadcast to x's shape (3)");
    }
}
