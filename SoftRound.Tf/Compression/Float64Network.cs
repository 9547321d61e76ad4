using System;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf.Compression;

/// <summary>
/// A network of the coding path evaluated in float64: y = f(x) with x and every convolution's weight and bias widened
/// to float64, for the entropy parameters (scales and means) that an encoder and a decoder must compute alike. In
/// float32 a convolution's sums round differently with the machine's kernels (measured: a 512×512 photograph coded on
/// a machine with AVX-512 did not decode with the AVX2 kernels of the same libtorch; the first differing scale picks
/// another table and the stream fails); in float64 the two agree to about 10⁻¹⁵ relative, where a scale would have
/// to lie that close to one of the scale table's bounds to pick another table.
/// </summary>
/// <remarks>
/// Takes <see cref="Conv2d"/> and <see cref="ConvTranspose2d"/> with zero padding, layers without parameters or
/// buffers (the activations, a pixel shuffle), which compute in their input's dtype, and <see cref="Sequential"/>s of
/// these (a sub-pixel convolution). The widened weights are made once, in the
/// caller's dispose scope, and read the network's weights as they are then.
/// </remarks>
internal sealed class Float64Network
{
    private readonly Func<Tensor, Tensor>[] layers;

    /// <summary>The float64 form of <paramref name="network"/>'s layers, in order.</summary>
    /// <exception cref="NotSupportedException">A layer is another kind, or a convolution pads other than with zeros; the message names <paramref name="member"/> and the layer.</exception>
    public Float64Network(string member, Sequential network)
    {
        layers = Layers(member, "", network);
    }

    /// <summary>The float64 form of each child of <paramref name="network"/>, named by its path below the network.</summary>
    private static Func<Tensor, Tensor>[] Layers(string member, string prefix, Sequential network) =>
        network.named_children().Select(child => Layer(member, prefix.Length == 0 ? child.name : $"{prefix}.{child.name}", child.module)).ToArray();

    /// <summary>y = f(x) in float64 (x widened first).</summary>
    public Tensor call(Tensor x) => layers.Aggregate(x.to(ScalarType.Float64), (h, layer) => layer(h));

    /// <summary>A weight or bias widened to float64 (null stays null).</summary>
    private static Tensor? Widen(Tensor? t) => t?.detach().to(ScalarType.Float64);

    private static Func<Tensor, Tensor> Layer(string member, string name, nn.Module module)
    {
        switch (module)
        {
            case Convolution c when c.padding_mode != PaddingModes.Zeros || c.padding_type is not null:
                throw new NotSupportedException($"{member}: layer {name} ({module.GetName()}) pads with {c.padding_mode}{(c.padding_type is null ? "" : $" ({c.padding_type})")}; the float64 coding path takes zero padding given in numbers.");
            case ConvTranspose2d t:
            {
                Tensor weight = Widen(t.weight)!;
                Tensor? bias = Widen(t.bias);
                return x => nn.functional.conv_transpose2d(x, weight, bias, t.stride, t.padding, t.output_padding, t.dilation, t.groups);
            }
            case Conv2d c:
            {
                Tensor weight = Widen(c.weight)!;
                Tensor? bias = Widen(c.bias);
                return x => nn.functional.conv2d(x, weight, bias, c.stride, c.padding, c.dilation, c.groups);
            }
            case Sequential inner:
            {
                Func<Tensor, Tensor>[] innerLayers = Layers(member, name, inner);
                return x => innerLayers.Aggregate(x, (h, layer) => layer(h));
            }
            case nn.Module<Tensor, Tensor> activation when !module.parameters().Any() && !module.buffers().Any():
                return activation.call;
            default:
                throw new NotSupportedException($"{member}: layer {name} ({module.GetName()}) is not a Conv2d, a ConvTranspose2d, a layer without parameters or a Sequential of these; the float64 coding path cannot evaluate it.");
        }
    }
}
