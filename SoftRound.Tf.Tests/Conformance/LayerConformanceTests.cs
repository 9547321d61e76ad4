using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Conformance;

/// <summary>
/// Every public layer, alone and inside an <c>nn.Sequential</c>, through the module lifecycle: <c>to(dtype)</c> for
/// every supported dtype, <c>to(device)</c>, <c>to(device, dtype)</c>, <c>double()/float()/half()/bfloat16()</c>,
/// <c>train()/eval()</c> and save/load; outputs and gradients (for x and every parameter) follow a float64 twin.
/// </summary>
[TestClass]
public sealed class LayerConformanceTests
{
    private sealed record LayerCase(string Name, Func<nn.Module<Tensor, Tensor>> Create, bool Deterministic = true)
    {
        public override string ToString() => Name;
    }

    private static readonly double[] Points = { -1.3, -0.2, 0.1, 0.3, 0.8, 2.6 };

    private static readonly LayerCase[] Cases =
    {
        new("DifferentiableRoundLayer", () => new DifferentiableRoundLayer(7, trainable: true)),
        new("DifferentiableRoundLayer soft eval", () => new DifferentiableRoundLayer(7, evalBehavior: EvalBehavior.SoftOp)),
        new("SoftRoundLayer", () => new SoftRoundLayer(3, trainable: true)),
        new("SoftRoundInverseLayer", () => new SoftRoundInverseLayer(3, trainable: true)),
        new("SoftRoundConditionalMeanLayer", () => new SoftRoundConditionalMeanLayer(3, trainable: true)),
        new("RoundStLayer", () => new RoundStLayer()),
        new("QuantizationLayer RoundSt, learned offset", () => new QuantizationLayer(QuantizationMode.RoundSt,
            offset: tensor(new[] { 0.25f, -0.1f }).reshape(2, 1), learnOffset: true)),
        new("QuantizationLayer SteSoftRound, fixed offset, step", () => new QuantizationLayer(QuantizationMode.SteSoftRound, alpha: 4,
            offset: tensor(0.125f), stepSize: 0.5)),
        new("QuantizationLayer SoftRoundNoise, learned offset", () => new QuantizationLayer(QuantizationMode.SoftRoundNoise,
            offset: tensor(0.15f), learnOffset: true), Deterministic: false),
        new("QuantizationLayer UniformNoise", () => new QuantizationLayer(), Deterministic: false),
        new("QuantizationLayer DifferentiableRound, learned offset", () => new QuantizationLayer(QuantizationMode.DifferentiableRound, alpha: 6,
            offset: tensor(-0.125f), learnOffset: true)),
    };

    private static readonly ScalarType[] Dtypes = { ScalarType.Float32, ScalarType.Float64, ScalarType.Float16, ScalarType.BFloat16 };

    private static readonly (string Name, Func<nn.Module<Tensor, Tensor>, ScalarType, nn.Module<Tensor, Tensor>> Convert)[] Conversions =
    {
        ("to(dtype)", (m, d) => m.to(d)),
        ("to(device, dtype)", (m, d) => m.to(CPU, d)),
        ("shorthand", (m, d) => d switch
        {
            ScalarType.Float64 => m.@double(),
            ScalarType.Float32 => m.@float(),
            ScalarType.Float16 => m.half(),
            _ => m.bfloat16(),
        }),
    };

    public static IEnumerable<object[]> Names => Cases.Select(c => new object[] { c.Name });

    [TestMethod]
    [DynamicData(nameof(Names))]
    public void ConversionsAloneAndInSequential_OutputsAndGradientsFollow(string name)
    {
        LayerCase layerCase = Cases.Single(c => c.Name == name);
        foreach (ScalarType dtype in Dtypes)
        {
            foreach (var (conversion, convert) in Conversions)
            {
                foreach (bool nested in new[] { false, true })
                {
                    foreach (bool training in new[] { true, false })
                    {
                        if (training && !layerCase.Deterministic) continue;
                        string label = $"{name}, {conversion} {dtype}, {(nested ? "in Sequential" : "alone")}, {(training ? "train" : "eval")}";
                        ConformanceReport.Case("layers", () => FollowsTwin(layerCase, dtype, convert, nested, training, label));
                    }
                }
            }
        }
    }

    [TestMethod]
    [DynamicData(nameof(Names))]
    public void ToDevice_TrainEval_AndSaveLoad_KeepOutputs(string name)
    {
        LayerCase layerCase = Cases.Single(c => c.Name == name);
        using var scope = NewDisposeScope();
        Tensor x = tensor(Points, ScalarType.Float32).reshape(2, 3);
        using var layer = layerCase.Create();
        layer.eval();
        Tensor before = layer.call(x);
        TensorAssert.Identical(before, layer.to(CPU).call(x));
        TensorAssert.Identical(before, layer.to(DeviceType.CPU).call(x));

        using var sequential = nn.Sequential(("q", layerCase.Create()));
        sequential.train();
        Assert.IsTrue(sequential.modules().All(m => m.training), "train() reaches the layer");
        sequential.eval();
        Assert.IsTrue(sequential.modules().All(m => !m.training), "eval() reaches the layer");

        using var saved = new MemoryStream();
        layer.save(saved);
        using var restored = layerCase.Create();
        restored.load(new MemoryStream(saved.ToArray()));
        restored.eval();
        TensorAssert.Identical(before, restored.call(x));
        CollectionAssert.AreEqual(layer.state_dict().Keys.ToArray(), restored.state_dict().Keys.ToArray());
    }

    private static void FollowsTwin(LayerCase layerCase, ScalarType dtype, Func<nn.Module<Tensor, Tensor>, ScalarType, nn.Module<Tensor, Tensor>> convert,
        bool nested, bool training, string label)
    {
        using var scope = NewDisposeScope();
        using var twin = layerCase.Create().to(ScalarType.Float64);
        using var layer = layerCase.Create();
        using var container = nested ? nn.Sequential(("q", layer)) : null;
        nn.Module<Tensor, Tensor> model = container ?? layer;
        int parameters = model.parameters().Count();
        Assert.AreSame(model, convert(model, dtype), label);
        Assert.AreEqual(parameters, model.parameters().Count(), $"{label}: parameters stay parameters");
        foreach (var (key, t) in model.state_dict())
        {
            Assert.AreEqual(dtype, t.dtype, $"{label}: {key} is converted");
        }
        if (training) { model.train(); twin.train(); }
        else { model.eval(); twin.eval(); }

        Tensor x = tensor(Points, ScalarType.Float64).reshape(2, 3).to(dtype).requires_grad_(true);
        Tensor x64 = x.detach().to(ScalarType.Float64).requires_grad_(true);
        Tensor y = model.call(x), expected = twin.call(x64);
        Assert.AreEqual(dtype, y.dtype, $"{label}: output dtype");
        double tolerance = dtype switch { ScalarType.Float64 => 1e-12, ScalarType.Float32 => 1e-5, ScalarType.Float16 => 1e-2, _ => 5e-2 };
        Close(expected, y, tolerance, $"{label}: output");
        Tensor weights = tensor(new[] { 0.5, -1.0, 2.0, 1.5, -0.25, 1.0 }).reshape(2, 3);
        (y * weights.to(dtype)).sum().backward();
        (expected * weights.to(ScalarType.Float64)).sum().backward();
        Assert.AreEqual(dtype, x.grad!.dtype, $"{label}: x.grad dtype");
        Close(x64.grad!, x.grad!, tolerance, $"{label}: x.grad");
        var twinParameters = twin.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (key, p) in layer.named_parameters())
        {
            Tensor? g = p.grad, g64 = twinParameters[key].grad;
            Assert.AreEqual(g64 is null, g is null, $"{label}: {key} gets a gradient as its twin does");
            if (g is null) continue;
            Assert.AreEqual(dtype, g.dtype, $"{label}: {key}.grad dtype");
            Close(g64!, g, tolerance * 10, $"{label}: {key}.grad");
        }
    }

    private static void Close(Tensor expected, Tensor actual, double tolerance, string label)
    {
        double[] e = Reference.Values(expected), a = Reference.Values(actual);
        for (int i = 0; i < e.Length; i++)
        {
            double scale = Math.Max(1, Math.Abs(e[i]));
            if (!(Math.Abs(e[i] - a[i]) <= tolerance * scale)) Assert.Fail($"{label}, index {i}: expected {e[i]:R}, got {a[i]:R}");
        }
    }
}
