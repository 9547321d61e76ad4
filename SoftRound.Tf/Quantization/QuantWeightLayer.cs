using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf.Quantization;

/// <summary>
/// What <see cref="QuantLinear"/> and <see cref="QuantConv2d"/> share (Brevitas's weight-bias-input layers): a weight
/// fake-quantized per output channel or per tensor, an input fake-quantized per tensor, and the bias on the
/// accumulator's grid, b_q = round(b/Δ)·Δ with Δ = s_x·s_w in float32 (straight through for b, Δ held constant), as
/// integer inference adds it in int32 (Brevitas's <c>Int32Bias</c>; PyTorch's QAT keeps a float bias, which its
/// conversion then rounds unseen).
/// </summary>
public abstract class QuantWeightLayer : nn.Module<Tensor, Tensor>
{
    /// <summary>Registers copies of <paramref name="weight"/> and <paramref name="bias"/> and builds both quantizers.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The weight spec is per channel along an axis other than 0, or the input spec is per channel.</exception>
    private protected QuantWeightLayer(string name, Tensor weight, Tensor? bias, QuantSpec? weightSpec, QuantSpec? inputSpec, RoundingGradient rounding,
        double? steepness, bool learnScales, QuantObserver? weightObserver, QuantObserver? inputObserver) : base(name)
    {
        QuantSpec w = weightSpec ?? new QuantSpec(8, axis: 0);
        if (w.axis is int a && a != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(weightSpec), a, $"{name}: weightSpec's axis must be 0 (the output channels) or null; got {a}.");
        }
        QuantSpec i = inputSpec ?? new QuantSpec(8, signed: false, symmetric: false);
        if (i.axis is int b)
        {
            throw new ArgumentOutOfRangeException(nameof(inputSpec), b, $"{name}: inputSpec must be per tensor; got axis {b}.");
        }
        register_parameter(nameof(weight), new Parameter(weight.detach().clone()));
        if (bias is not null) register_parameter(nameof(bias), new Parameter(bias.detach().clone()));
        weight_quantizer = new FakeQuantizeLayer(w, w.axis is null ? 1 : weight.shape[0], learnScales, observer: weightObserver, rounding: rounding, steepness: steepness);
        input_quantizer = new FakeQuantizeLayer(i, learnScale: learnScales, observer: inputObserver, rounding: rounding, steepness: steepness);
        register_module(nameof(weight_quantizer), weight_quantizer);
        register_module(nameof(input_quantizer), input_quantizer);
    }

    /// <summary>W, output channels first.</summary>
    public Parameter weight => get_parameter(nameof(weight))!;

    /// <summary>b, or null.</summary>
    public Parameter? bias => get_parameter(nameof(bias));

    /// <summary>The weights' quantizer (per output channel by default: int8 symmetric).</summary>
    public FakeQuantizeLayer weight_quantizer { get; }

    /// <summary>The input's quantizer (per tensor; by default uint8 affine).</summary>
    public FakeQuantizeLayer input_quantizer { get; }

    /// <summary>y = op(fq_x(x), fq_w(W), b_q), the layer's linear map of the quantized input, weights and bias.</summary>
    /// <exception cref="ArgumentException">As <see cref="FakeQuantizeLayer.forward"/> and the layer's op.</exception>
    /// <exception cref="InvalidOperationException">Eval before the quantizers were ever set.</exception>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor xq = input_quantizer.forward(x);
        (Tensor w, Tensor? b) = Effective();
        Tensor wq = weight_quantizer.forward(w);
        Tensor? bq = b is null ? null : QuantizeBias(b, input_quantizer, weight_quantizer);
        return Apply(xq, wq, bq).MoveToOuterDisposeScope();
    }

    /// <summary>The weight and bias the layer quantizes and applies: its own (a folded layer's with its batch norm folded in).</summary>
    internal virtual (Tensor weight, Tensor? bias) Effective() => (weight, bias);

    /// <summary>
    /// b_q = round(b/Δ)·Δ with Δ = s_x·s_w in float32, straight through for b and Δ held constant: the bias on the
    /// accumulator's grid of the layer whose input and weights <paramref name="input"/> and <paramref name="weight"/> quantize.
    /// </summary>
    internal static Tensor QuantizeBias(Tensor bias, FakeQuantizeLayer input, FakeQuantizeLayer weight)
    {
        using var scope = NewDisposeScope();
        Tensor step = (input.scale.detach().to(ScalarType.Float32) * weight.scale.detach().to(ScalarType.Float32)).to(bias.dtype);
        return (SoftRoundOps.round_st(bias / step) * step).MoveToOuterDisposeScope();
    }

    /// <summary>The int32 code of bias value <paramref name="b"/>: round(b/Δ) with Δ = s_x·s_w, all in float32, as <see cref="forward"/> rounds it.</summary>
    internal static double BiasCode(double b, double inputScale, double weightScale) =>
        MathF.Round((float)b / ((float)inputScale * (float)weightScale), MidpointRounding.ToEven);

    /// <summary>The layer's op on the quantized input, weights and bias.</summary>
    private protected abstract Tensor Apply(Tensor input, Tensor weight, Tensor? bias);
}
