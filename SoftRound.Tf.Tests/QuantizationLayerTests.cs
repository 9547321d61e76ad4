using System;
using System.IO;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Internals;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests;

[TestClass]
public sealed class QuantizationLayerTests
{
    private static readonly double[] Points = { -1.3, -0.2, 0.05, 0.45, 0.9, 2.6 };

    private static Tensor Noise(Tensor x, ulong seed)
    {
        using var generator = new Generator(seed);
        return UniformNoise.Like(x, generator);
    }

    [TestMethod]
    public void StartsInTrainingMode_WithUniformNoise()
    {
        using var layer = new QuantizationLayer();
        Assert.IsTrue(layer.training);
        Assert.AreEqual(QuantizationMode.UniformNoise, layer.mode);
        Assert.AreEqual(5.0, layer.alpha, 1e-14);
        Assert.IsNull(layer.offset);
    }

    [TestMethod]
    public void UniformNoise_AddsSeededNoiseWithUnitGradient()
    {
        using var scope = NewDisposeScope();
        using var layer = new QuantizationLayer(QuantizationMode.UniformNoise) { generator = new Generator(3) };
        Tensor x = tensor(Points, ScalarType.Float64).requires_grad_(true);
        Tensor y = layer.call(x);
        TensorAssert.Identical(x.detach() + Noise(x, 3), y.detach());
        y.sum().backward();
        TensorAssert.Identical(ones_like(x), x.grad!);
    }

    [TestMethod]
    public void RoundSt_RoundsAroundTheOffset()
    {
        using var scope = NewDisposeScope();
        using var layer = new QuantizationLayer(QuantizationMode.RoundSt, offset: tensor(0.25, ScalarType.Float64));
        Tensor x = tensor(Points, ScalarType.Float64).requires_grad_(true);
        Tensor y = layer.call(x);
        TensorAssert.Close(Points.Select(v => Math.Round(v - 0.25, MidpointRounding.ToEven) + 0.25).ToArray(), y, 1e-15);
        y.sum().backward();
        TensorAssert.Identical(ones_like(x), x.grad!);
    }

    [TestMethod]
    public void SoftRoundNoise_IsSoftRoundAroundTheOffsetPlusNoise_AndTeachesALearnedOffset()
    {
        using var scope = NewDisposeScope();
        using var layer = new QuantizationLayer(QuantizationMode.SoftRoundNoise, alpha: 3.0, offset: tensor(0.1, ScalarType.Float64), learnOffset: true)
        {
            generator = new Generator(11),
        };
        Tensor x = tensor(Points, ScalarType.Float64).requires_grad_(true);
        Tensor y = layer.call(x);
        double[] u = Reference.Values(Noise(x, 11));
        TensorAssert.Close(Points.Select((v, i) => Reference.SoftRound(v - 0.1, 3.0) + 0.1 + u[i]).ToArray(), y, 1e-14);
        y.sum().backward();
        TensorAssert.Close(Points.Select(v => Reference.SoftRoundDx(v - 0.1, 3.0)).ToArray(), x.grad!, 1e-13);
        // dy/do = 1 − soft_round'(x − o), summed over the entries.
        Assert.AreEqual(Points.Sum(v => 1 - Reference.SoftRoundDx(v - 0.1, 3.0)), layer.offset!.grad!.item<double>(), 1e-12);
    }

    [TestMethod]
    public void SteSoftRound_RoundsWithSoftRoundsGradient()
    {
        using var scope = NewDisposeScope();
        using var layer = new QuantizationLayer(QuantizationMode.SteSoftRound, alpha: 6.0);
        Tensor x = tensor(Points, ScalarType.Float64).requires_grad_(true);
        Tensor y = layer.call(x);
        TensorAssert.Identical(x.detach().round(), y.detach());
        y.sum().backward();
        TensorAssert.Close(Points.Select(v => Reference.SoftRoundDx(v, 6.0)).ToArray(), x.grad!, 1e-13);
    }

    [TestMethod]
    public void DifferentiableRound_IsTheSigmoidRoundAroundTheCentre()
    {
        using var scope = NewDisposeScope();
        using var layer = new QuantizationLayer(QuantizationMode.DifferentiableRound, alpha: 7.0, offset: tensor(0.25, ScalarType.Float64));
        Tensor x = tensor(Points, ScalarType.Float64).requires_grad_(true);
        Tensor y = layer.call(x);
        TensorAssert.Close(Points.Select(v => Reference.DifferentiableRound(v - 0.25, 7.0) + 0.25).ToArray(), y, 1e-14);
        y.sum().backward();
        TensorAssert.Close(Points.Select(v => Reference.DifferentiableRoundDx(v - 0.25, 7.0)).ToArray(), x.grad!, 1e-13);
    }

    [TestMethod]
    [DataRow(QuantizationMode.UniformNoise)]
    [DataRow(QuantizationMode.RoundSt)]
    [DataRow(QuantizationMode.SoftRoundNoise)]
    [DataRow(QuantizationMode.SteSoftRound)]
    [DataRow(QuantizationMode.DifferentiableRound)]
    public void EvalMode_RoundsAroundTheOffset_AndTrainModeComesBack(QuantizationMode mode)
    {
        using var scope = NewDisposeScope();
        Tensor perChannel = tensor(new[] { 0.0, 0.3 }, ScalarType.Float32).reshape(2, 1);
        using var layer = new QuantizationLayer(mode, offset: perChannel);
        Tensor x = tensor(new[] { 0.4f, 1.6f, 0.4f, 1.6f }).reshape(2, 2);
        layer.eval();
        Assert.IsFalse(layer.training);
        TensorAssert.Close(new[] { 0.0, 2.0, 0.3, 1.3 }, layer.call(x), 1e-7);
        layer.train();
        Assert.IsTrue(layer.training);
        if (mode is QuantizationMode.UniformNoise or QuantizationMode.SoftRoundNoise)
        {
            Tensor noisy = layer.call(x);
            Assert.IsFalse(noisy.equal(noisy.round()).all().item<bool>(), "training adds noise again");
        }
    }

    [TestMethod]
    public void Symbols_AreInt32AndDequantizeToTheEvalOutput()
    {
        using var scope = NewDisposeScope();
        using var layer = new QuantizationLayer(offset: tensor(0.25f));
        layer.eval();
        Tensor x = tensor(new[] { -3.6f, -0.3f, 0.2f, 0.8f, 7.74f });
        Tensor symbols = layer.symbols(x);
        Assert.AreEqual(ScalarType.Int32, symbols.dtype);
        CollectionAssert.AreEqual(new[] { -4, -1, 0, 1, 7 }, symbols.data<int>().ToArray());
        TensorAssert.Identical(layer.call(x), layer.dequantize(symbols));
    }

    [TestMethod]
    [DataRow(ScalarType.Float32, 1.0)]
    [DataRow(ScalarType.Float32, 0.37)]
    [DataRow(ScalarType.Float64, 1.0)]
    [DataRow(ScalarType.Float64, 0.37)]
    public void RowForms_GiveTheTensorFormsSymbolsAndValues_TiesAndStepsIncluded(ScalarType dtype, double step)
    {
        using var scope = NewDisposeScope();
        using var layer = new QuantizationLayer(stepSize: step);
        layer.eval();
        var random = new Random(3);
        // Means in float64 as a coder's are; x in its dtype, some of it exactly half a step from a grid point (ties),
        // some a float32 rounding away from one.
        double[] means = Enumerable.Range(0, 400).Select(_ => random.NextDouble() * 20 - 10).ToArray();
        double[] x = means.Select((m, i) => (i % 4) switch
        {
            0 => (float)m + (float)(step * (i % 9 - 4.5)),
            1 => m + step * (i % 7 - 3.5),
            2 => m + random.NextDouble() * 30 - 15,
            _ => BitConverter.Int64BitsToDouble(BitConverter.DoubleToInt64Bits(m + step * 0.5) + 1),
        }).ToArray();
        Tensor xs = tensor(x, ScalarType.Float64).to(dtype), ms = tensor(means, ScalarType.Float64);
        double[] held = xs.to(ScalarType.Float64).data<double>().ToArray();
        var symbols = new int[x.Length];
        layer.Symbols(held, means, dtype == ScalarType.Float64, symbols);
        CollectionAssert.AreEqual(layer.symbols(xs, ms).data<int>().ToArray(), symbols);
        Assert.IsTrue(symbols.Distinct().Count() > 20, "the draw spans many symbols");
        var values = new double[x.Length];
        layer.Dequantize(symbols, means, values);
        CollectionAssert.AreEqual(layer.dequantize(tensor(symbols), ms).data<double>().ToArray(), values);
    }

    [TestMethod]
    public void RowSymbols_RefuseWhatTheTensorFormRefuses_WithItsParameterAndMessage()
    {
        using var scope = NewDisposeScope();
        using var layer = new QuantizationLayer();
        var symbols = new int[2];
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => layer.Symbols(new[] { 1.0, 3e9 }, new[] { 0.0, 0.0 }, true, symbols));
        Assert.AreEqual("x", error.ParamName);
        Assert.AreEqual(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => layer.symbols(tensor(new[] { 1.0, 3e9 }))).Message, error.Message);
        // The largest int32 is a symbol.
        layer.Symbols(new[] { 2147483647.0 }, new[] { 0.0 }, true, symbols.AsSpan(0, 1));
        Assert.AreEqual(int.MaxValue, symbols[0]);
        Assert.AreEqual(int.MaxValue, layer.symbols(tensor(new[] { 2147483647.0 })).item<int>());
        // A mean that is not finite gives no symbol either (the tensor form checks x only, and would cast NaN).
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => layer.Symbols(new[] { 1.0 }, new[] { double.NaN }, false, symbols.AsSpan(0, 1)));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => layer.Symbols(new[] { 1.0 }, new[] { double.NegativeInfinity }, true, symbols.AsSpan(0, 1)));
    }

    [TestMethod]
    public void Symbols_RefuseNonFiniteAndOversizedValues()
    {
        using var scope = NewDisposeScope();
        using var layer = new QuantizationLayer();
        Assert.AreEqual("x", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => layer.symbols(tensor(new[] { 1f, float.NaN }))).ParamName);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => layer.symbols(tensor(new[] { 3e9 }))).Message, "int32");
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void OffsetAndAlpha_RoundTripThroughSaveAndLoad(bool learnOffset)
    {
        using var layer = new QuantizationLayer(QuantizationMode.SoftRoundNoise, alpha: 7.0, offset: tensor(new[] { 0.1f, -0.2f }), learnOffset: learnOffset);
        using var saved = new MemoryStream();
        layer.save(saved);
        using var restored = new QuantizationLayer(QuantizationMode.SoftRoundNoise, alpha: 1.0, offset: zeros(2), learnOffset: learnOffset);
        restored.load(new MemoryStream(saved.ToArray()));
        Assert.AreEqual(layer.alpha, restored.alpha);
        TensorAssert.Identical(layer.offset!.detach(), restored.offset!.detach());
        Assert.AreEqual(learnOffset ? 1 : 0, restored.parameters().Count());
    }

    [TestMethod]
    public void BadArguments_AreRefusedAndStateStaysUnchanged()
    {
        Assert.AreEqual("mode", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new QuantizationLayer((QuantizationMode)42)).ParamName);
        Assert.AreEqual("alpha", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new QuantizationLayer(alpha: -2)).ParamName);
        Assert.AreEqual("offset", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new QuantizationLayer(offset: tensor(float.PositiveInfinity))).ParamName);
        Assert.AreEqual("offset", Assert.ThrowsExactly<ArgumentException>(() => new QuantizationLayer(offset: tensor(1))).ParamName);

        using var layer = new QuantizationLayer(QuantizationMode.RoundSt, offset: zeros(3));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => layer.mode = (QuantizationMode)9);
        Assert.AreEqual(QuantizationMode.RoundSt, layer.mode);
        using Tensor wrongShape = zeros(2, 4);
        Assert.AreEqual("offset", Assert.ThrowsExactly<ArgumentException>(() => layer.call(wrongShape)).ParamName);
    }

    [TestMethod]
    [DataRow(true)]
    [DataRow(false)]
    public void RoundSt_LearnedOffsetGetsAZeroGradient_InTrainingAndEval(bool training)
    {
        using var scope = NewDisposeScope();
        using var layer = new QuantizationLayer(QuantizationMode.RoundSt, offset: tensor(new[] { 0.1, 0.3 }, ScalarType.Float64), learnOffset: true);
        if (!training) layer.eval();
        foreach (bool xRequiresGrad in new[] { true, false })
        {
            layer.zero_grad();
            Tensor x = tensor(new[] { 0.4, 1.6 }, ScalarType.Float64).requires_grad_(xRequiresGrad);
            layer.call(x).sum().backward();
            TensorAssert.Identical(zeros(2, ScalarType.Float64), layer.offset!.grad!);
        }
    }

    [TestMethod]
    public void Means_TakeThePlaceOfTheOffset_InForwardSymbolsAndDequantize()
    {
        using var scope = NewDisposeScope();
        using var layer = new QuantizationLayer(QuantizationMode.RoundSt, offset: tensor(0.25, ScalarType.Float64));
        Tensor x = tensor(new[] { -1.3, 0.2, 0.9, 2.6 }, ScalarType.Float64).requires_grad_(true);
        Tensor means = tensor(new[] { 0.1, -0.4, 0.5, 2.0 }, ScalarType.Float64).requires_grad_(true);
        double[] expected = { -0.9, 0.6, 0.5, 3.0 };   // round(x − μ) + μ
        Tensor y = layer.forward(x, means);
        TensorAssert.Close(expected, y, 1e-15);
        y.sum().backward();
        TensorAssert.Identical(ones_like(x), x.grad!);
        TensorAssert.Identical(zeros_like(means), means.grad!);
        layer.eval();
        Tensor symbols = layer.symbols(x.detach(), means.detach());
        CollectionAssert.AreEqual(new[] { -1, 1, 0, 1 }, symbols.data<int>().ToArray());
        TensorAssert.Identical(layer.forward(x.detach(), means.detach()), layer.dequantize(symbols, means.detach()));
    }

    [TestMethod]
    [DataRow(QuantizationMode.UniformNoise)]
    [DataRow(QuantizationMode.RoundSt)]
    [DataRow(QuantizationMode.SoftRoundNoise)]
    [DataRow(QuantizationMode.SteSoftRound)]
    public void StepSize_ScalesTheGrid(QuantizationMode mode)
    {
        using var scope = NewDisposeScope();
        const double step = 0.5, o = 0.1, alpha = 3.0;
        using var layer = new QuantizationLayer(mode, alpha, offset: tensor(o, ScalarType.Float64), stepSize: step) { generator = new Generator(5) };
        Tensor x = tensor(Points, ScalarType.Float64);
        double[] u = Reference.Values(Noise(x, 5));
        double[] expected = Points.Select((v, i) => mode switch
        {
            QuantizationMode.UniformNoise => v + step * u[i],
            QuantizationMode.SoftRoundNoise => (Reference.SoftRound((v - o) / step, alpha) + u[i]) * step + o,
            _ => Math.Round((v - o) / step, MidpointRounding.ToEven) * step + o,
        }).ToArray();
        TensorAssert.Close(expected, layer.call(x), 1e-14);
        layer.eval();
        TensorAssert.Close(Points.Select(v => Math.Round((v - o) / step, MidpointRounding.ToEven) * step + o).ToArray(), layer.call(x), 1e-15);
        Tensor perCall = tensor(new[] { 2.0 }, ScalarType.Float64);
        TensorAssert.Close(Points.Select(v => Math.Round((v - o) / 2, MidpointRounding.ToEven) * 2 + o).ToArray(), layer.forward(x, null, perCall), 1e-15);
        Tensor symbols = layer.symbols(x);
        TensorAssert.Identical(layer.call(x), layer.dequantize(symbols));
    }

    [TestMethod]
    public void StepSize_BadValuesAreRefused()
    {
        using var scope = NewDisposeScope();
        Assert.AreEqual("stepSize", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new QuantizationLayer(stepSize: 0)).ParamName);
        using var layer = new QuantizationLayer(stepSize: 2);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => layer.step_size = double.NaN);
        Assert.AreEqual(2.0, layer.step_size);
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => layer.forward(zeros(3), null, tensor(new[] { 1f, -1f, 1f })));
        Assert.AreEqual("stepSize", e.ParamName);
        StringAssert.Contains(e.Message, "QuantizationLayer.forward");
    }

    [TestMethod]
    public void BoundOffset_IsReadLiveAndLearnsThroughItsOwner()
    {
        using var scope = NewDisposeScope();
        var medians = new TorchSharp.Modules.Parameter(tensor(new[] { 0.0, 0.0 }, ScalarType.Float64).reshape(2, 1));
        using var layer = new QuantizationLayer(QuantizationMode.SoftRoundNoise, alpha: 2.0) { generator = new Generator(1) };
        layer.bind_offset(() => medians);
        Assert.AreEqual(0, layer.parameters().Count(), "the bound offset stays its owner's");
        Tensor x = tensor(new[] { 0.3, 1.2, -0.4, 0.9 }, ScalarType.Float64).reshape(2, 2);
        layer.eval();
        using (no_grad()) medians.add_(0.25);
        TensorAssert.Close(new[] { 0.25, 1.25, -0.75, 1.25 }, layer.call(x), 1e-15);
        layer.train();
        layer.call(x).sum().backward();
        Assert.IsNotNull(medians.grad, "the owner's parameter gets the soft-round modes' offset gradient");
        Assert.ThrowsExactly<InvalidOperationException>(() => new QuantizationLayer(offset: zeros(1)).bind_offset(() => medians));
    }

    [TestMethod]
    public void LearnOffsetWithoutAnOffset_IsALearnedZeroScalar()
    {
        using var scope = NewDisposeScope();
        using var layer = new QuantizationLayer(QuantizationMode.SoftRoundNoise, learnOffset: true);
        var parameter = layer.named_parameters().Single();
        Assert.AreEqual("offset", parameter.name);
        Assert.AreEqual(0, parameter.parameter.dim());
        Assert.AreEqual(0.0f, parameter.parameter.item<float>());
        using var plain = new QuantizationLayer();
        Assert.IsEmpty(plain.parameters());
        Assert.IsEmpty(plain.buffers().Where(b => b.dim() > 0 || b.dtype != ScalarType.Float64));
    }

    [TestMethod]
    public void Symbols_OfAnEmptyTensor_AndAtExactlyInt32Max()
    {
        using var scope = NewDisposeScope();
        using var layer = new QuantizationLayer();
        Tensor none = layer.symbols(zeros(0, 3));
        Assert.AreEqual(ScalarType.Int32, none.dtype);
        CollectionAssert.AreEqual(new long[] { 0, 3 }, none.shape);
        Assert.AreEqual(int.MaxValue, layer.symbols(tensor(new[] { (double)int.MaxValue })).item<int>());
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => layer.symbols(tensor(new[] { double.NaN }))).Message,
            "QuantizationLayer.symbols");
    }

    [TestMethod]
    public void Dequantize_WithoutACentre_IsTheSymbolsInFloat32_AndMeansSetTheDtype()
    {
        using var scope = NewDisposeScope();
        using var plain = new QuantizationLayer();
        Tensor s = tensor(new[] { -2, 0, 3 });
        TensorAssert.Identical(tensor(new[] { -2f, 0f, 3f }), plain.dequantize(s));
        using var withOffset = new QuantizationLayer(offset: tensor(0.5f));
        // The means' dtype, not the offset's: 16777217 is not a float32.
        Tensor wide = tensor(new[] { -2, 0, 16777217 });
        Tensor means = tensor(new[] { 0.25, 0.25, 0.25 }, ScalarType.Float64);
        TensorAssert.Identical(tensor(new[] { -1.75, 0.25, 16777217.25 }, ScalarType.Float64), withOffset.dequantize(wide, means));
        var e = Assert.ThrowsExactly<ArgumentNullException>(() => plain.dequantize(null!));
        Assert.AreEqual("symbols", e.ParamName);
        StringAssert.Contains(e.Message, "QuantizationLayer.dequantize");
    }

    [TestMethod]
    public void BadCallArguments_AreRefusedNamingThem()
    {
        using var scope = NewDisposeScope();
        using var layer = new QuantizationLayer();
        Assert.AreEqual("x", Assert.ThrowsExactly<ArgumentException>(() => layer.forward(tensor(new[] { 1, 2 }), null)).ParamName);
        Assert.AreEqual("means", Assert.ThrowsExactly<ArgumentException>(() => layer.forward(zeros(3), tensor(new[] { 1, 2, 3 }))).ParamName);
        Assert.AreEqual("means", Assert.ThrowsExactly<ArgumentException>(() => layer.forward(zeros(3), zeros(2))).ParamName);
        Assert.AreEqual("stepSize", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => layer.forward(zeros(3), null, zeros(1))).ParamName);
        Assert.AreEqual("step_size", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => layer.step_size = 0).ParamName);
        Assert.ThrowsExactly<ArgumentNullException>(() => layer.bind_offset(null!));
        using var owned = new QuantizationLayer(offset: zeros(1));
        StringAssert.Contains(Assert.ThrowsExactly<InvalidOperationException>(() => owned.bind_offset(() => zeros(1))).Message, "bind_offset");
    }
}
