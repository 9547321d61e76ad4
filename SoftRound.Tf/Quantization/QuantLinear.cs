using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf.Quantization;

/// <summary>
/// A linear layer that trains for integer inference: y = fq_x(x)·fq_w(W)ᵀ + b_q, with the weights fake-quantized per
/// output channel and the input per tensor, each by its own <see cref="FakeQuantizeLayer"/>, and the bias on the
/// accumulator's grid (see <see cref="QuantWeightLayer"/>; Brevitas's <c>QuantLinear</c>, PyTorch's
/// <c>torch.ao.nn.qat.Linear</c>).
/// </summary>
public sealed class QuantLinear : QuantWeightLayer
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
        bool learnScales, QuantObserver? weightObserver, QuantObserver? inputObserver)
        : base(nameof(QuantLinear), linear.weight!, linear.bias, weightSpec, inputSpec, rounding, steepness, learnScales, weightObserver, inputObserver)
    {
        in_features = linear.in_features;
        out_features = linear.out_features;
        linear.Dispose();
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

    /// <inheritdoc />
    private protected override Tensor Apply(Tensor input, Tensor weight, Tensor? bias) => nn.functional.linear(input, weight, bias);

    private static long Checked(string name, long value) =>
        value >= 1 ? value : throw new ArgumentOutOfRangeException(name, value, $"{nameof(QuantLinear)}: {name} must be ≥ 1; got {value}.");
}
