using System;
using SoftRound.Tf.Internals;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static SoftRound.Tf.Internals.KeptScalars;
using static SoftRound.Tf.Compression.Layers;

namespace SoftRound.Tf.Compression;

/// <summary>
/// CompressAI's <c>ResidualBlock</c> (Cheng et al. 2020): y = lrelu(conv2(lrelu(conv1(x)))) + skip(x), both
/// convolutions 3×3, skip a 1×1 convolution when the channel counts differ and the identity otherwise. The size is
/// kept. Children are named <c>conv1</c>, <c>leaky_relu</c>, <c>conv2</c> and <c>skip</c>, as in CompressAI.
/// </summary>
public sealed class ResidualBlock : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1, conv2;
    private readonly Conv2d? skip;
    private readonly KeptLeakyReLU leaky_relu = new();

    /// <summary>Creates the block.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A channel count is below 1.</exception>
    public ResidualBlock(int inChannels, int outChannels) : base(nameof(ResidualBlock))
    {
        LayerGuard.CheckChannels(nameof(ResidualBlock), inChannels, outChannels);
        this.inChannels = inChannels;
        conv1 = conv3x3(inChannels, outChannels);
        conv2 = conv3x3(outChannels, outChannels);
        skip = inChannels != outChannels ? conv1x1(inChannels, outChannels) : null;
        RegisterComponents();
    }

    /// <summary>The input channels.</summary>
    public int inChannels { get; }

    /// <summary>y = lrelu(conv2(lrelu(conv1(x)))) + skip(x).</summary>
    /// <exception cref="ArgumentException">x is not a floating-point (N, inChannels, H, W) tensor.</exception>
    public override Tensor forward(Tensor x)
    {
        OpGuard.Images($"{nameof(ResidualBlock)}.{nameof(forward)}", nameof(x), x, inChannels);
        using var scope = NewDisposeScope();
        Tensor y = leaky_relu.call(conv2.call(leaky_relu.call(conv1.call(x))));
        return y.add_(skip is null ? x : skip.call(x), One).MoveToOuterDisposeScope();
    }
}
