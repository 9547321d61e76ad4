using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf.Quantization;

/// <summary>
/// A 2-D convolution that trains for integer inference: y = conv2d(fq_x(x), fq_w(W)) + b_q with the weights
/// fake-quantized per output channel, the input per tensor and the bias on the accumulator's grid as in
/// <see cref="QuantLinear"/> (Brevitas's <c>QuantConv2d</c>, PyTorch's <c>torch.ao.nn.qat.Conv2d</c>); stride,
/// padding, dilation and groups as the wrapped <c>nn.Conv2d</c>'s (zero padding only).
/// </summary>
public sealed class QuantConv2d : nn.Module<Tensor, Tensor>
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

    private QuantConv2d(Conv2d conv, QuantSpec? weightSpec, QuantSpec? inputSpec, RoundingGradient rounding, double? steepness,
        bool learnScales, QuantObserver? weightObserver, QuantObserver? inputObserver, bool owns) : base(nameof(QuantConv2d))
    {
        if (conv.padding_mode != PaddingModes.Zeros || conv.padding_type is not null)
        {
            throw new ArgumentException($"{nameof(QuantConv2d)}: only explicit zero padding is supported; the convolution has {conv.padding_mode}{(conv.padding_type is null ? "" : $", {conv.padding_type}")}.", nameof(conv));
        }
        QuantSpec w = QuantizedLayers.WeightSpec(nameof(QuantConv2d), weightSpec);
        QuantSpec i = QuantizedLayers.InputSpec(nameof(QuantConv2d), inputSpec);
        in_channels = conv.in_channels;
        out_channels = conv.out_channels;
        groups = conv.groups;
        stride = (long[])conv.stride.Clone();
        padding = (long[])conv.padding!.Clone();
        dilation = (long[])conv.dilation.Clone();
        register_parameter("weight", new Parameter(conv.weight!.detach().clone()));
        if (conv.bias is not null) register_parameter("bias", new Parameter(conv.bias.detach().clone()));
        if (owns) conv.Dispose();
        weight_quantizer = new FakeQuantizeLayer(w, w.axis is null ? 1 : out_channels, learnScales, observer: weightObserver, rounding: rounding, steepness: steepness);
        input_quantizer = new FakeQuantizeLayer(i, learnScale: learnScales, observer: inputObserver, rounding: rounding, steepness: steepness);
        register_module(nameof(weight_quantizer), weight_quantizer);
        register_module(nameof(input_quantizer), input_quantizer);
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

    /// <summary>W, (out, in/groups, kH, kW).</summary>
    public Parameter weight => get_parameter("weight")!;

    /// <summary>b, or null.</summary>
    public Parameter? bias => get_parameter("bias");

    /// <summary>The weights' quantizer.</summary>
    public FakeQuantizeLayer weight_quantizer { get; }

    /// <summary>The input's quantizer.</summary>
    public FakeQuantizeLayer input_quantizer { get; }

    /// <summary>y = conv2d(fq_x(x), fq_w(W)) + b_q.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor xq = input_quantizer.forward(x);
        Tensor wq = weight_quantizer.forward(weight);
        return nn.functional.conv2d(xq, wq, QuantizedLayers.QuantizedBias(bias, input_quantizer, weight_quantizer), stride, padding, dilation, groups).MoveToOuterDisposeScope();
    }
}
