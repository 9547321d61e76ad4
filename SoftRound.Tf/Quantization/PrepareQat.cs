using System;
using System.Linq;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf.Quantization;

public static partial class QuantizationOps
{
    /// <summary>
    /// A model for quantization-aware training: a new <c>nn.Sequential</c> in which every <c>nn.Linear</c> is a
    /// <see cref="QuantLinear"/> and every <c>nn.Conv2d</c> a <see cref="QuantConv2d"/> with copied weights, nested
    /// Sequentials likewise, under the same names (PyTorch's <c>prepare_qat</c>, TF-MOT's <c>quantize_model</c>).
    /// </summary>
    /// <remarks>
    /// The original is left as it is; modules other than those (activations, pooling, flattening) are shared with it,
    /// not copied. A <c>nn.Conv2d</c> followed by a <c>nn.BatchNorm2d</c> is fused as torch.ao's <c>fuse_modules</c> and
    /// <c>prepare_qat</c> do: a model in training mode gets a <see cref="QuantConvBn2d"/> (the batch norm folded into the
    /// quantized weights, its statistics still updated until <see cref="QuantConvBn2d.freeze_bn_stats"/>), a model in eval
    /// mode a <see cref="QuantConv2d"/> of <see cref="fuse_conv_bn_eval"/>'s folded convolution; the batch norm's place
    /// holds an <c>nn.Identity</c>. A following ReLU stays a ReLU. A custom module is kept as it is: its forward calls its own fields, which a swap here could not
    /// reach; build such a model with the quantized layers directly. <paramref name="keep"/> leaves chosen layers in
    /// floating point (say, the first and last, as LSQ does at low bit widths); it receives each layer's dotted name.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentException">A convolution pads other than with explicit zeros, or a batch norm after a convolution cannot fold into it (another channel count, no γ and β, no running statistics).</exception>
    public static Sequential prepare_qat(Sequential model, QuantSpec? weightSpec = null, QuantSpec? inputSpec = null,
        RoundingGradient rounding = RoundingGradient.StraightThrough, double? steepness = null, Func<string, bool>? keep = null)
    {
        ArgumentNullException.ThrowIfNull(model, nameof(model));
        return Swap(model, "", weightSpec, inputSpec, rounding, steepness, keep ?? (_ => false));
    }

    private static Sequential Swap(Sequential model, string prefix, QuantSpec? weightSpec, QuantSpec? inputSpec, RoundingGradient rounding, double? steepness, Func<string, bool> keep)
    {
        var result = nn.Sequential();
        var children = model.named_children().ToArray();
        for (int i = 0; i < children.Length; i++)
        {
            (string name, nn.Module child) = children[i];
            string path = prefix + name;
            if (child is Conv2d c && !keep(path) && i + 1 < children.Length && children[i + 1].module is BatchNorm2d bn)
            {
                // Conv2d → BatchNorm2d: one folded layer under the convolution's name, the identity under the batch norm's.
                result.append(name, model.training
                    ? QuantConvBn2d.from_conv_bn(c, bn, weightSpec, inputSpec, rounding, steepness)
                    : QuantConv2d.from_conv2d(fuse_conv_bn_eval(c, bn), weightSpec, inputSpec, rounding, steepness));
                result.append(children[++i].name, nn.Identity());
                continue;
            }
            var swapped = child switch
            {
                _ when keep(path) => (nn.Module<Tensor, Tensor>)child,
                Linear linear => QuantLinear.from_linear(linear, weightSpec, inputSpec, rounding, steepness),
                Conv2d conv => QuantConv2d.from_conv2d(conv, weightSpec, inputSpec, rounding, steepness),
                Sequential inner => Swap(inner, path + ".", weightSpec, inputSpec, rounding, steepness, keep),
                _ => (nn.Module<Tensor, Tensor>)child,
            };
            result.append(name, swapped);
        }
        result.train(model.training);
        return result;
    }
}
