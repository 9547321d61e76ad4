using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Performance;
using TorchSharp;
using TorchSharp.Modules;
using SoftRound.Tf.Tests.Helpers;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Performance;

[TestClass]
public sealed class MkldnnCheckTests
{
    /// <summary>
    /// A 3 → 4 channel 3×3 convolution that is wrong whenever oneDNN is enabled: its output is scaled by
    /// <paramref name="scale"/> and shifted by <paramref name="shift"/> (so its gradients are scaled too), as oneDNN's
    /// broken kernels are wrong and libtorch's are not. It computes in float64, so that this machine's own oneDNN
    /// kernels play no part.
    /// </summary>
    private sealed class WrongWithOneDnn(double scale, double shift) : Convolution("WrongWithOneDnn", 3, 4, new long[] { 3, 3 }, new long[] { 1, 1 },
        new long[] { 1, 1 }, null, new long[] { 1, 1 }, false, new long[] { 0, 0 }, 1, true, PaddingModes.Zeros, null, null)
    {
        public int Calls { get; private set; }

        public override Tensor forward(Tensor input)
        {
            Calls++;
            // In float64, which oneDNN never computes: right on every machine, forward and backward.
            Tensor y = nn.functional.conv2d(input.to(float64), weight!.to(float64), bias!.to(float64), stride, padding, dilation, groups).to(float32);
            return MkldnnBackend.enabled ? y * scale + shift : y;
        }
    }

    private static Sequential Model() => nn.Sequential(
        ("conv", nn.Conv2d(3, 8, 3, padding: 1)),
        ("bn", nn.BatchNorm2d(8)),
        ("relu", nn.ReLU()),
        ("up", nn.Sequential(("deconv", nn.ConvTranspose2d(8, 4, 5, stride: 2, padding: 2, output_padding: 1)))),
        ("pool", nn.AvgPool2d(2)),
        ("last", nn.Conv2d(4, 2, 1)));

    [TestMethod]
    public void Check_ReportsEveryConvolution_InForwardOrder_WithTheInputItReceives()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        Sequential model = Model();
        MkldnnCheck verdict = MkldnnBackend.check(model, rand(2, 3, 10, 12));
        CollectionAssert.AreEqual(new[] { "conv", "up.deconv", "last" }, verdict.layers.Select(l => l.name).ToArray());
        CollectionAssert.AreEqual(new[] { "Conv2d", "ConvTranspose2d", "Conv2d" }, verdict.layers.Select(l => l.kind).ToArray());
        CollectionAssert.AreEqual(new long[] { 2, 3, 10, 12 }, verdict.layers[0].input_shape);
        CollectionAssert.AreEqual(new long[] { 2, 8, 10, 12 }, verdict.layers[1].input_shape);
        CollectionAssert.AreEqual(new long[] { 2, 4, 10, 12 }, verdict.layers[2].input_shape);
        foreach (MkldnnCheck.Layer layer in verdict.layers)
        {
            Assert.IsTrue(layer.output_error >= 0 && layer.input_gradient_error >= 0 && layer.weight_gradient_error >= 0, layer.ToString());
            Assert.AreEqual(new[] { layer.output_error, layer.input_gradient_error, layer.weight_gradient_error }.Max(), layer.worst);
        }
        Assert.AreEqual(verdict.layers.All(l => l.worst <= 1e-4), verdict.passed);
    }

    [TestMethod]
    public void Check_ComparesWithOneDnnOn_WhateverTheSetting_AndRestoresIt()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        var wrong = new WrongWithOneDnn(1.5, 1);
        using (MkldnnBackend.flags(enabled: true))
        {
            Assert.IsFalse(MkldnnBackend.check(nn.Sequential(("wrong", wrong)), rand(1, 3, 6, 6)).passed);
        }
        // The check enables oneDNN for its first pass whatever the setting, and restores the setting.
        using (MkldnnBackend.flags(enabled: false))
        {
            MkldnnCheck verdict = MkldnnBackend.check(nn.Sequential(("wrong", wrong)), rand(1, 3, 6, 6));
            Assert.IsFalse(verdict.passed);
            Assert.IsFalse(MkldnnBackend.enabled);
        }
    }

    [TestMethod]
    public void Check_FindsAWrongOutput_AndWrongGradients_AndNamesTheLayer()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        // Shifted only: the output is wrong by 0.01 / max |y|, the gradients are right.
        MkldnnCheck shifted = MkldnnBackend.check(nn.Sequential(("a", nn.Conv2d(3, 3, 1)), ("b", new WrongWithOneDnn(1, 0.01))), rand(2, 3, 8, 8));
        Assert.IsFalse(shifted.passed);
        MkldnnCheck.Layer bad = shifted.failures.Single();
        Assert.AreEqual("b", bad.name);
        Assert.IsTrue(bad.output_error > 1e-3 && bad.output_error < 1, bad.ToString());
        Assert.IsTrue(bad.input_gradient_error < 1e-5 && bad.weight_gradient_error < 1e-5, bad.ToString());
        StringAssert.Contains(shifted.ToString(), "failed in 1 of 2 layers");
        StringAssert.Contains(shifted.ToString(), "b (WrongWithOneDnn, input 2×3×8×8)");
        // Scaled by 1.001: output and both gradients wrong by 1e−3 relative.
        MkldnnCheck.Layer scaled = MkldnnBackend.check(new WrongWithOneDnn(1.001, 0), rand(2, 3, 8, 8)).layers.Single();
        foreach (double error in new[] { scaled.output_error, scaled.input_gradient_error, scaled.weight_gradient_error })
            Assert.AreEqual(1e-3, error, 2e-5, scaled.ToString());
        // A NaN where libtorch has none counts as an infinite error.
        MkldnnCheck.Layer nan = MkldnnBackend.check(new WrongWithOneDnn(double.NaN, 0), rand(1, 3, 4, 4), backward: false).layers.Single();
        Assert.AreEqual(double.PositiveInfinity, nan.output_error);
        // Within a looser tolerance, the shifted layer passes.
        Assert.IsTrue(MkldnnBackend.check(new WrongWithOneDnn(1, 0.01), rand(2, 3, 8, 8), tolerance: 1).passed);
    }

    [TestMethod]
    public void Check_WithoutBackward_OrAFrozenWeight_LeavesThoseErrorsUnchecked()
    {
        using var scope = NewDisposeScope();
        manual_seed(4);
        var frozen = new WrongWithOneDnn(1.001, 0);
        MkldnnCheck.Layer forwardOnly = MkldnnBackend.check(frozen, rand(1, 3, 5, 5), backward: false).layers.Single();
        Assert.IsTrue(double.IsNaN(forwardOnly.input_gradient_error) && double.IsNaN(forwardOnly.weight_gradient_error));
        Assert.AreEqual(1e-3, forwardOnly.worst, 2e-5);
        frozen.weight!.requires_grad = false;
        MkldnnCheck.Layer noWeight = MkldnnBackend.check(frozen, rand(1, 3, 5, 5)).layers.Single();
        Assert.AreEqual(1e-3, noWeight.input_gradient_error, 2e-5);
        Assert.IsTrue(double.IsNaN(noWeight.weight_gradient_error));
        Assert.IsFalse(frozen.weight!.requires_grad);
    }

    [TestMethod]
    public void Check_LeavesTheModelTheInputAndTheSettingAsTheyWere_AndLeaksNothing()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        Sequential model = Model();
        model.train();
        Tensor input = rand(2, 3, 10, 12);
        Tensor inputBefore = input.clone();
        var bn = (BatchNorm2d)model.named_modules().Single(m => m.name == "bn").module;
        Tensor meanBefore = bn.running_mean!.clone(), varianceBefore = bn.running_var!.clone();
        foreach (bool setting in new[] { true, false })
        {
            MkldnnBackend.enabled = setting;
            long before = LiveTensors.Count();
            MkldnnCheck verdict = MkldnnBackend.check(model, input, repeats: 3);
            Assert.AreEqual(before, LiveTensors.Count(), "live tensors");
            Assert.AreEqual(3, verdict.layers.Count);
            Assert.AreEqual(setting, MkldnnBackend.enabled);
        }
        MkldnnBackend.enabled = true;
        Assert.IsTrue(model.training && model.modules().All(m => m.training));
        // A model in mixed modes keeps each module's own.
        bn.eval();
        MkldnnBackend.check(model, input, backward: false, repeats: 1);
        Assert.IsTrue(model.training && !bn.training && model.modules().Where(m => m != bn).All(m => m.training));
        Assert.IsTrue(input.equal(inputBefore).all().item<bool>());
        Assert.IsTrue(bn.running_mean!.equal(meanBefore).all().item<bool>() && bn.running_var!.equal(varianceBefore).all().item<bool>());
        Assert.IsTrue(model.parameters().All(p => p.grad is null));
        Assert.IsFalse(input.requires_grad);
    }

    [TestMethod]
    public void Check_RunsEachLayerOncePerRepeat_WithOneDnnAndWithout()
    {
        using var scope = NewDisposeScope();
        foreach (int repeats in new[] { 1, 3 })
        {
            var layer = new WrongWithOneDnn(1, 0);
            MkldnnCheck verdict = MkldnnBackend.check(layer, rand(1, 3, 4, 4), repeats: repeats);
            // Once to capture its input, then twice a repeat.
            Assert.AreEqual(1 + 2 * repeats, layer.Calls);
            Assert.AreEqual("", verdict.layers.Single().name);
            Assert.IsTrue(verdict.passed);
        }
    }

    [TestMethod]
    public void Check_AZeroReference_GivesTheAbsoluteError()
    {
        using var scope = NewDisposeScope();
        var layer = new WrongWithOneDnn(1, 0);
        using (no_grad())
        {
            layer.weight!.zero_();
            layer.bias!.zero_();
        }
        Assert.AreEqual(0.0, MkldnnBackend.check(layer, zeros(1, 3, 4, 4), backward: false).layers.Single().output_error);
        var shifted = new WrongWithOneDnn(1, 0.5);
        using (no_grad())
        {
            shifted.weight!.zero_();
            shifted.bias!.zero_();
        }
        Assert.AreEqual(0.5, MkldnnBackend.check(shifted, zeros(1, 3, 4, 4), backward: false).layers.Single().output_error, 1e-7);
    }

    [TestMethod]
    public void Passed_IncludesAnErrorEqualToTheTolerance_AndToStringListsEachFailureOnItsLine()
    {
        var atTolerance = new MkldnnCheck.Layer("a", "Conv2d", new long[] { 1, 3, 4, 4 }, 1e-4, 0, double.NaN);
        var above = new MkldnnCheck.Layer("b.c", "ConvTranspose2d", new long[] { 2, 8, 5, 5 }, 0.5, double.PositiveInfinity, 1e-7);
        var check = new MkldnnCheck(new[] { atTolerance }, 1e-4);
        Assert.IsTrue(check.passed);
        Assert.AreEqual(0, check.failures.Count());
        Assert.AreEqual(1e-4, atTolerance.worst);
        var failing = new MkldnnCheck(new[] { atTolerance, above, above with { name = "d" } }, 1e-4);
        Assert.IsFalse(failing.passed);
        Assert.AreEqual(double.PositiveInfinity, above.worst);
        string n = Environment.NewLine;
        Assert.AreEqual($"oneDNN's convolutions failed in 2 of 3 layers (tolerance 0.0001):{n}" +
            $"  b.c (ConvTranspose2d, input 2×8×5×5): output 0.5, input gradient Infinity, weight gradient 1e-07{n}" +
            "  d (ConvTranspose2d, input 2×8×5×5): output 0.5, input gradient Infinity, weight gradient 1e-07", failing.ToString());
        Assert.AreEqual("a (Conv2d, input 1×3×4×4): output 0.0001, input gradient 0, weight gradient NaN", atTolerance.ToString());
    }

    [TestMethod]
    public void Check_AModelWithoutConvolutions_Passes()
    {
        using var scope = NewDisposeScope();
        MkldnnCheck verdict = MkldnnBackend.check(nn.Sequential(nn.Flatten(), nn.Linear(12, 3)), rand(2, 3, 2, 2));
        Assert.AreEqual(0, verdict.layers.Count);
        Assert.IsTrue(verdict.passed);
        Assert.AreEqual("oneDNN's convolutions passed: 0 layers within 0.0001", verdict.ToString());
    }

    [TestMethod]
    public void Check_BadArguments_AreRefused_NamingTheParameter()
    {
        using var scope = NewDisposeScope();
        Sequential model = Model();
        Assert.AreEqual("model", Assert.ThrowsExactly<ArgumentNullException>(() => MkldnnBackend.check<Tensor>(null!, rand(1, 3, 4, 4))).ParamName);
        Assert.AreEqual("input", Assert.ThrowsExactly<ArgumentNullException>(() => MkldnnBackend.check(model, null!)).ParamName);
        var dtype = Assert.ThrowsExactly<ArgumentException>(() => MkldnnBackend.check(model, rand(1, 3, 4, 4, dtype: float64)));
        Assert.AreEqual("input", dtype.ParamName);
        StringAssert.Contains(dtype.Message, "MkldnnBackend.check: input must be float32");
        StringAssert.Contains(dtype.Message, "Float64");
        var repeats = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => MkldnnBackend.check(model, rand(1, 3, 4, 4), repeats: 0));
        Assert.AreEqual("repeats", repeats.ParamName);
        StringAssert.Contains(repeats.Message, "got 0");
        foreach (double tolerance in new[] { 0, -1, double.NaN, double.PositiveInfinity })
        {
            var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => MkldnnBackend.check(model, rand(1, 3, 4, 4), tolerance: tolerance));
            Assert.AreEqual("tolerance", e.ParamName);
            StringAssert.Contains(e.Message, "MkldnnBackend.check: tolerance must be finite and > 0");
        }
    }
}
