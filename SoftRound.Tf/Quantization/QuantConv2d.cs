using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf.Quantization;

/// <summary>
/// A 2-D convolution that trains for integer inference: y = conv2d(fq_x(x), fq_w(W)) + b_q with the weights
/// fake-quantized per output channel, the input per tensor and the bias on the accumulator's grid (see
/// <see cref="QuantWeightLayer"/>; Brevitas's <c>QuantConv2d</c>, PyTorch's <c>torch.ao.nn.qat.Conv2d</c>); stride,
/// padding, dilation and groups as the wrapped <c>nn.Conv2d</c>'s (zero padding only).
/// </summary>
public class QuantConv2d : QuantWeightLayer
{
    private readonly long[] stride, padding, dilation;

    /// <summary>Creates the layer with weights initialised as <c>nn.Conv2d</c>'s.</summary>
    /// <exception cref="ArgumentException">As <c>nn.Conv2d</c>, or the input spec is per channel.</exception>
    public QuantConv2d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, long dilation = 1, long groups = 1,
        bool hasBias = true, QuantSpec? weightSpec = null, QuantSpec? inputSpec = null, RoundingGradient rounding = RoundingGradient.StraightThrough, double? steepness = null,
        bool learnScales = true, QuantObserver? weightObserver = null, QuantObserver? inputObserver = null)
        : this(nn.Conv2d(inChannels, outChannels, kernelSize, stride, padding, dilation, groups: groups, bias: hasBias), weightSpec, inputSpec, rounding, steepness, learnScales, weightObserver, inputObserver, owns: true)
    {
    }

    private protected QuantConv2d(Conv2d conv, QuantSpec? weightSpec, QuantSpec? inputSpec, RoundingGradient rounding, double? steepness,
        bool learnScales, QuantObserver? weightObserver, QuantObserver? inputObserver, bool owns, string name = nameof(QuantConv2d))
        : base(name, ZeroPadded(conv).weight!, conv.bias, weightSpec, inputSpec, rounding, steepness, learnScales, weightObserver, inputObserver)
    {
        in_channels = conv.in_channels;
        out_channels = conv.out_channels;
        groups = conv.groups;
        stride = (long[])conv.stride.Clone();
        padding = (long[])conv.padding!.Clone();
        dilation = (long[])conv.dilation.Clone();
        if (owns) conv.Dispose();
    }

    private static Conv2d ZeroPadded(Conv2d conv)
    {
        if (conv.padding_mode != PaddingModes.Zeros || conv.padding_type is not null)
        {
            throw new ArgumentException($"{nameof(QuantConv2d)}: only explicit zero padding is supported; the convolution has {conv.padding_mode}{(conv.padding_type is null ? "" : $", {conv.padding_type}")}.", nameof(conv));
        }
        return conv;
    }

    /// <summary>A quantized copy of <paramref name="conv"/> (weights, bias and geometry copied; the original is left as it is).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="conv"/> is null.</exception>
    /// <exception cref="ArgumentException">The convolution pads other than with explicit zeros.</exception>
    public static QuantConv2d from_conv2d(Conv2d conv, QuantSpec? weightSpec = null, QuantSpec? inputSpec = null,
        RoundingGradient rounding = RoundingGradient.StraightThrough, double? steepness = null,
        bool learnScales = true, QuantObserver? weightObserver = null, QuantObserver? inputObserver = null)
    {
        ArgumentNullException.ThrowIfNull(conv, nameof(conv));
        return new QuantConv2d(conv, weightSpec, inputSpec, rounding, steepness, learnScales, weightObserver, inputObserver, owns: false);
    }

    /// <summary>Input channels.</summary>
    public long in_channels { get; }

    /// <summary>Output channels.</summary>
    public long out_channels { get; }

    /// <summary>Groups.</summary>
    public long groups { get; }

    /// <summary>The stride, (sH, sW).</summary>
    public long[] strides => (long[])stride.Clone();

    /// <summary>The zero padding, (pH, pW).</summary>
    public long[] paddings => (long[])padding.Clone();

    /// <summary>The dilation, (dH, dW).</summary>
    public long[] dilations => (long[])dilation.Clone();

    /// <inheritdoc />
    private protected sealed override Tensor Apply(Tensor input, Tensor weight, Tensor? bias) =>
        nn.functional.conv2d(input, weight, bias, stride, padding, dilation, groups);
}
