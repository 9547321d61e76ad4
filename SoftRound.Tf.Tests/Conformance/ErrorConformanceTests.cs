using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Tests.Helpers;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Conformance;

/// <summary>
/// Bad arguments to every op and layer: the exception names the op, the parameter and the bad value, and inputs and
/// layer state are unchanged afterwards.
/// </summary>
[TestClass]
public sealed class ErrorConformanceTests
{
    private sealed record BadCall(string Op, string Param, string Shown, Action Call);

    private static readonly Tensor Input = tensor(new[] { 0.3f, 1.7f, -2.2f });

    private static IEnumerable<BadCall> BadCalls()
    {
        foreach (double bad in new[] { double.NaN, double.PositiveInfinity, -1.0 })
        {
            string shown = bad.ToString(System.Globalization.CultureInfo.InvariantCulture);
            yield return new("differentiable_round", "k", shown, () => SoftRoundOps.differentiable_round(Input, bad));
            yield return new("differentiable_round", "k", shown, () => SoftRoundOps.differentiable_round(Input, tensor(new[] { 1f, (float)bad, 2f })));
            yield return new("soft_round", "alpha", shown, () => SoftRoundOps.soft_round(Input, bad));
            yield return new("soft_round", "alpha", shown, () => SoftRoundOps.soft_round(Input, tensor((float)bad)));
            yield return new("soft_round_inverse", "alpha", shown, () => SoftRoundOps.soft_round_inverse(Input, bad));
            yield return new("soft_round_inverse", "alpha", shown, () => SoftRoundOps.soft_round_inverse(Input, tensor((float)bad)));
            yield return new("soft_round_conditional_mean", "alpha", shown, () => SoftRoundOps.soft_round_conditional_mean(Input, bad));
            yield return new("soft_round_conditional_mean", "alpha", shown, () => SoftRoundOps.soft_round_conditional_mean(Input, tensor((float)bad)));
            yield return new("ste_soft_round", "alpha", shown, () => SoftRoundOps.ste_soft_round(Input, bad));
            yield return new("DifferentiableRoundLayer", "k", shown, () => new DifferentiableRoundLayer(bad));
            yield return new("SoftRoundLayer", "alpha", shown, () => new SoftRoundLayer(bad));
            yield return new("QuantizationLayer", "alpha", shown, () => new QuantizationLayer(alpha: bad));
            yield return new("SteepnessSchedule", "start", shown, () => SteepnessSchedule.Linear(bad, 1, 10));
        }
        foreach (double bad in new[] { double.NaN, double.NegativeInfinity })
        {
            string shown = bad.ToString(System.Globalization.CultureInfo.InvariantCulture);
            yield return new("round_st", "offset", shown, () => SoftRoundOps.round_st(Input, tensor((float)bad)));
            yield return new("QuantizationLayer", "offset", shown, () => new QuantizationLayer(offset: tensor((float)bad)));
        }
        yield return new("differentiable_round", "k", "0", () => SoftRoundOps.differentiable_round(Input, 0.0));
        foreach (OpCase op in OpCase.All)
        {
            string param = op.Name is "soft_round_inverse" or "soft_round_conditional_mean" ? "y" : "x";
            yield return new(op.Name, param, "Int64", () => op.Apply(tensor(new long[] { 1, 2 })));
            yield return new(op.Name, param, "Bool", () => op.Apply(tensor(new[] { true })));
        }
    }

    [TestMethod]
    public void EveryBadArgument_IsNamedWithItsOpParameterAndValue_AndTouchesNothing()
    {
        Tensor before = Input.clone();
        foreach (BadCall bad in BadCalls())
        {
            ConformanceReport.Case("errors", () =>
            {
                var e = Assert.Throws<ArgumentException>(bad.Call, $"{bad.Op} {bad.Param} = {bad.Shown}");
                Assert.AreEqual(bad.Param, e.ParamName, bad.Op);
                StringAssert.Contains(e.Message, bad.Op);
                StringAssert.Contains(e.Message, bad.Shown);
                TensorAssert.Identical(before, Input);
            });
        }
    }

    [TestMethod]
    public void LayerState_IsUnchangedAfterABadCall()
    {
        using var scope = NewDisposeScope();
        var layers = new SteepnessLayer[] { new DifferentiableRoundLayer(4, trainable: true), new SoftRoundLayer(3), new QuantizationLayer(QuantizationMode.SteSoftRound, 6) };
        foreach (SteepnessLayer layer in layers)
        {
            ConformanceReport.Case("errors", () =>
            {
                double steepness = layer.steepness;
                var state = layer.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
                Assert.Throws<ArgumentException>(() => layer.steepness = double.NaN);
                Assert.Throws<ArgumentException>(() => layer.call(tensor(new[] { 1, 2 })));
                Assert.AreEqual(steepness, layer.steepness);
                foreach (var (key, value) in layer.state_dict()) TensorAssert.Identical(state[key], value);
            });
        }
    }

    [TestMethod]
    public void Symbols_AreNotDifferentiable()
    {
        using var scope = NewDisposeScope();
        using var layer = new QuantizationLayer(learnOffset: true);
        Tensor x = tensor(new[] { 0.4f, 1.6f }).requires_grad_(true);
        ConformanceReport.Case("errors", () => Assert.IsFalse(layer.symbols(x).requires_grad));
    }
}
