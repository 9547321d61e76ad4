using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf.Quantization;

/// <summary>
/// A linear layer that trains for integer inference: y = fq_x(x)·fq_w(W)ᵀ + b_q, with the weights fake-quantized per
/// output channel and the input per tensor, each by its own <see cref="FakeQuantizeLayer"/> (Brevitas's
/// <c>QuantLinear</c>, PyTorch's <c>torch.ao.nn.qat.Linear</c>), and the bias on the accumulator's grid,
/// b_q = round(b/Δ)·Δ with Δ = s_x·s_w (straight through), as integer inference adds it in int32 (Brevitas's
/// <c>Int32Bias</c>; PyTorch's QAT keeps a float bias, which integer inference then rounds unseen).
/// </summary>
public sealed class QuantLinear : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the layer with weights initialised as <c>nn.Linear</c>'s.</summary>
    /// <param name="inFeatures">Input features, ≥ 1.</param>
    /// <param name="outFeatures">Output features, ≥ 1.</param>
    /// <param name="hasBias">Whether there is a bias.</param>
    /// <param name="weightSpec">The weights' grid, per output channel (axis 0) or per tensor; by default int8 symmetric per channel.</param>
    /// <param name="inputSpec">The input's grid, per tensor; by default uint8 affine.</param>
    /// <param name="rounding">The rounding's backward pass of both quantizers.</param>
    /// <param name="steepness">Its steepness (see <see cref="QuantizationOps.fake_quantize"/>).</param>
    /// <param name="learnScales">Learn both quantizers' scales (LSQ), or let their observers set them on every training batch (post-training calibration).</param>
    /// <param name="weightObserver">The weights' observer; null for the <see cref="FakeQuantizeLayer"/> default.</param>
    /// <param name="inputObserver">The input's observer; null for the <see cref="FakeQuantizeLayer"/> default.</param>
    /// <exception cref="ArgumentOutOfRangeException">A feature count is &lt; 1; the input spec is per channel.</exception>
    public QuantLinear(long inFeatures, long outFeatures, bool hasBias = true, QuantSpec? weightSpec = null, QuantSpec? inputSpec = null,
        RoundingGradient rounding = RoundingGradient.StraightThrough, double? steepness = null,
        bool learnScales = true, QuantObserver? weightObserver = null, QuantObserver? inputObserver = null)
        : this(nn.Linear(Checked(nameof(inFeatures), inFeatures), Checked(nameof(outFeatures), outFeatures), hasBias), weightSpec, inputSpec, rounding, steepness, learnScales, weightObserver, inputObserver)
    {
    }

    private QuantLinear(Linear linear, QuantSpec? weightSpec, QuantSpec? inputSpec, RoundingGradient rounding, double? steepness,
        bool learnScales, QuantObserver? weightObserver, QuantObserver? inputObserver) : base(nameof(QuantLinear))
    {
        QuantSpec w = QuantizedLayers.WeightSpec(nameof(QuantLinear), weightSpec);
        QuantSpec i = QuantizedLayers.InputSpec(nameof(QuantLinear), inputSpec);
        in_features = linear.in_features;
        out_features = linear.out_features;
        register_parameter("weight", new Parameter(linear.weight!.detach().clone()));
        if (linear.bias is not null) register_parameter("bias", new Parameter(linear.bias.detach().clone()));
        linear.Dispose();
        weight_quantizer = new FakeQuantizeLayer(w, w.axis is null ? 1 : out_features, learnScales, observer: weightObserver, rounding: rounding, steepness: steepness);
        input_quantizer = new FakeQuantizeLayer(i, learnScale: learnScales, observer: inputObserver, rounding: rounding, steepness: steepness);
        register_module(nameof(weight_quantizer), weight_quantizer);
        register_module(nameof(input_quantizer), input_quantizer);
    }

    /// <summary>A quantized copy of <paramref name="linear"/> (its weights and bias copied; the original is left as it is).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="linear"/> is null.</exception>
    public static QuantLinear from_linear(Linear linear, QuantSpec? weightSpec = null, QuantSpec? inputSpec = null,
        RoundingGradient rounding = RoundingGradient.StraightThrough, double? steepness = null,
        bool learnScales = true, QuantObserver? weightObserver = null, QuantObserver? inputObserver = null)
    {
        ArgumentNullException.ThrowIfNull(linear, nameof(linear));
        var copy = nn.Linear(linear.in_features, linear.out_features, linear.bias is not null);
        using (no_grad())
        {
            copy.weight!.copy_(linear.weight!);
            copy.bias?.copy_(linear.bias!);
        }
        return new QuantLinear(copy, weightSpec, inputSpec, rounding, steepness, learnScales, weightObserver, inputObserver);
    }

    /// <summary>Input features.</summary>
    public long in_features { get; }

    /// <summary>Output features.</summary>
    public long out_features { get; }

    /// <summary>W, (out, in).</summary>
    public Parameter weight => get_parameter("weight")!;

    /// <summary>b, or null.</summary>
    public Parameter? bias => get_parameter("bias");

    /// <summary>The weights' quantizer (per output channel by default).</summary>
    public FakeQuantizeLayer weight_quantizer { get; }

    /// <summary>The input's quantizer (per tensor).</summary>
    public FakeQuantizeLayer input_quantizer { get; }

    /// <summary>y = fq_x(x)·fq_w(W)ᵀ + b_q.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor xq = input_quantizer.forward(x);
        Tensor wq = weight_quantizer.forward(weight);
        return nn.functional.linear(xq, wq, QuantizedLayers.QuantizedBias(bias, input_quantizer, weight_quantizer)).MoveToOuterDisposeScope();
    }

    private static long Checked(string name, long value) =>
        value >= 1 ? value : throw new ArgumentOutOfRangeException(name, value, $"{nameof(QuantLinear)}: {name} must be ≥ 1; got {value}.");
}
