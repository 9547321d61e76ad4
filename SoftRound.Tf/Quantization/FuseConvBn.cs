using System;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf.Quantization;

public static partial class QuantizationOps
{
    /// <summary>
    /// A new <c>nn.Conv2d</c> that computes what <paramref name="conv"/> followed by <paramref name="bn"/> in eval mode
    /// computes: weights W·f and bias β + (b − μ_run)·f with f = γ/√(σ²_run + ε) (PyTorch's <c>fuse_conv_bn_eval</c>).
    /// The originals are left as they are; the copy is in eval mode.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="conv"/> or <paramref name="bn"/> is null.</exception>
    /// <exception cref="ArgumentException">The convolution pads other than with explicit zeros; the batch norm has another number of channels, no affine γ and β, or no running statistics.</exception>
    public static Conv2d fuse_conv_bn_eval(Conv2d conv, BatchNorm2d bn)
    {
        const string op = nameof(QuantizationOps) + "." + nameof(fuse_conv_bn_eval);
        ArgumentNullException.ThrowIfNull(conv, nameof(conv));
        ArgumentNullException.ThrowIfNull(bn, nameof(bn));
        if (conv.padding_mode != TorchSharp.PaddingModes.Zeros || conv.padding_type is not null)
        {
            throw new ArgumentException($"{op}: only explicit zero padding is supported; the convolution has {conv.padding_mode}{(conv.padding_type is null ? "" : $", {conv.padding_type}")}.", nameof(conv));
        }
        QuantConvBn2d.CheckFoldable(op, conv, bn);
        var fused = nn.Conv2d(conv.in_channels, conv.out_channels, (conv.kernel_size[0], conv.kernel_size[1]), (conv.stride[0], conv.stride[1]),
            (conv.padding![0], conv.padding[1]), (conv.dilation[0], conv.dilation[1]), groups: conv.groups, bias: true, dtype: conv.weight!.dtype);
        using var scope = NewDisposeScope();
        using (no_grad())
        {
            (Tensor w, Tensor b) = QuantConvBn2d.Fold(conv.weight!, conv.bias, bn.weight!, bn.bias!, bn.running_mean!, bn.running_var!, bn.eps);
            fused.weight!.copy_(w);
            fused.bias!.copy_(b);
        }
        fused.eval();
        return fused;
    }
}
