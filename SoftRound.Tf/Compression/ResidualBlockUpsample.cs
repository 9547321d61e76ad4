using System;
using SoftRound.Tf.Internals;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static SoftRound.Tf.Internals.KeptScalars;
using static SoftRound.Tf.Compression.Layers;

namespace SoftRound.Tf.Compression;

/// <summary>
/// CompressAI's <c>ResidualBlockUpsample</c> (Cheng et al. 2020), the up-sampling block of their synthesis:
/// y = IGDN(conv(lrelu(subpel_conv(x)))) + upsample(x), subpel_conv and upsample each a
/// <see cref="Layers.subpel_conv3x3"/> by the factor, conv a 3×3 convolution; the size is multiplied by the factor.
/// Children are named <c>subpel_conv</c>, <c>leaky_relu</c>, <c>conv</c>, <c>igdn</c> and <c>upsample</c>, as in
/// CompressAI.
/// </summary>
public sealed class ResidualBlockUpsample : nn.Module<Tensor, Tensor>
{
    private readonly Sequential subpel_conv, upsample;
    private readonly Conv2d conv;
    private readonly KeptLeakyReLU leaky_relu = new();
    private readonly GDN igdn;

    /// <summary>Creates the block (CompressAI's default factor is 2).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A channel count or the factor is below 1.</exception>
    public ResidualBlockUpsample(int inChannels, int outChannels, int upsample = 2) : base(nameof(ResidualBlockUpsample))
    {
        LayerGuard.CheckChannels(nameof(ResidualBlockUpsample), inChannels, outChannels);
        LayerGuard.CheckFactor(nameof(ResidualBlockUpsample), nameof(upsample), upsample);
        this.inChannels = inChannels;
        subpel_conv = subpel_conv3x3(inChannels, outChannels, upsample);
        conv = conv3x3(outChannels, outChannels);
        igdn = new GDN(outChannels, inverse: true);
        this.upsample = subpel_conv3x3(inChannels, outChannels, upsample);
        RegisterComponents();
    }

    /// <summary>The input channels.</summary>
    public int inChannels { get; }

    /// <summary>y = IGDN(conv(lrelu(subpel_conv(x)))) + upsample(x).</summary>
    /// <exception cref="ArgumentException">x is not a floating-point (N, inChannels, H, W) tensor.</exception>
    public override Tensor forward(Tensor x)
    {
        OpGuard.Images($"{nameof(ResidualBlockUpsample)}.{nameof(forward)}", nameof(x), x, inChannels);
        using var scope = NewDisposeScope();
        Tensor y = igdn.call(conv.call(leaky_relu.call(subpel_conv.call(x))));
        return y.add_(upsample.call(x), One).MoveToOuterDisposeScope();
    }
}
