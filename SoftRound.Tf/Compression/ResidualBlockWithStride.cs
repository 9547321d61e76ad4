using System;
using SoftRound.Tf.Internals;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static SoftRound.Tf.Internals.KeptScalars;
using static SoftRound.Tf.Compression.Layers;

namespace SoftRound.Tf.Compression;

/// <summary>
/// CompressAI's <c>ResidualBlockWithStride</c> (Cheng et al. 2020), the down-sampling block of their analysis:
/// y = GDN(conv2(lrelu(conv1(x)))) + skip(x), conv1 a 3×3 convolution with the stride, conv2 a 3×3 one, skip a 1×1
/// convolution with the stride when the stride is not 1 or the channel counts differ (the identity otherwise); the size
/// is divided by the stride (rounded up). Children are named <c>conv1</c>, <c>leaky_relu</c>, <c>conv2</c>, <c>gdn</c>
/// and <c>skip</c>, as in CompressAI.
/// </summary>
public sealed class ResidualBlockWithStride : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1, conv2;
    private readonly Conv2d? skip;
    private readonly KeptLeakyReLU leaky_relu = new();
    private readonly GDN gdn;

    /// <summary>Creates the block (CompressAI's default stride is 2).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A channel count or the stride is below 1.</exception>
    public ResidualBlockWithStride(int inChannels, int outChannels, int stride = 2) : base(nameof(ResidualBlockWithStride))
    {
        LayerGuard.CheckChannels(nameof(ResidualBlockWithStride), inChannels, outChannels);
        LayerGuard.CheckFactor(nameof(ResidualBlockWithStride), nameof(stride), stride);
        this.inChannels = inChannels;
        conv1 = conv3x3(inChannels, outChannels, stride);
        conv2 = conv3x3(outChannels, outChannels);
        gdn = new GDN(outChannels);
        skip = stride != 1 || inChannels != outChannels ? conv1x1(inChannels, outChannels, stride) : null;
        RegisterComponents();
    }

    /// <summary>The input channels.</summary>
    public int inChannels { get; }

    /// <summary>y = GDN(conv2(lrelu(conv1(x)))) + skip(x).</summary>
    /// <exception cref="ArgumentException">x is not a floating-point (N, inChannels, H, W) tensor.</exception>
    public override Tensor forward(Tensor x)
    {
        OpGuard.Images($"{nameof(ResidualBlockWithStride)}.{nameof(forward)}", nameof(x), x, inChannels);
        using var scope = NewDisposeScope();
        Tensor y = gdn.call(conv2.call(leaky_relu.call(conv1.call(x))));
        return y.add_(skip is null ? x : skip.call(x), One).MoveToOuterDisposeScope();
    }
}
