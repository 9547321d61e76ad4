using System;
using SoftRound.Tf.Internals;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf.Compression;

/// <summary>
/// CompressAI's small layer builders (<c>compressai.layers</c>): <c>conv3x3</c>, <c>conv1x1</c> and
/// <c>subpel_conv3x3</c>, from which the residual blocks and Cheng et al.'s models are made. With
/// <c>using static SoftRound.Tf.Compression.Layers;</c> a port calls them as CompressAI's code does.
/// </summary>
public static class Layers
{
    /// <summary>A 3×3 convolution with padding 1 (the size is kept at stride 1, halved at stride 2): CompressAI's <c>conv3x3</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A channel count or the stride is below 1.</exception>
    public static Conv2d conv3x3(long inChannels, long outChannels, long stride = 1)
    {
        Check(nameof(conv3x3), inChannels, outChannels, stride);
        return nn.Conv2d(inChannels, outChannels, 3, stride: stride, padding: 1);
    }

    /// <summary>A 1×1 convolution (a linear map over the channels at each position): CompressAI's <c>conv1x1</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A channel count or the stride is below 1.</exception>
    public static Conv2d conv1x1(long inChannels, long outChannels, long stride = 1)
    {
        Check(nameof(conv1x1), inChannels, outChannels, stride);
        return nn.Conv2d(inChannels, outChannels, 1, stride: stride);
    }

    /// <summary>
    /// Sub-pixel up-sampling by <paramref name="r"/>: a 3×3 convolution to outChannels·r² channels, then a pixel shuffle
    /// that moves each group of r² channels to an r×r block, (N, C, H, W) → (N, outChannels, rH, rW). CompressAI's
    /// <c>subpel_conv3x3</c>; its children are named <c>0</c> (the convolution) and <c>1</c>, as there.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A channel count or r is below 1.</exception>
    public static Sequential subpel_conv3x3(long inChannels, long outChannels, long r = 1)
    {
        Check(nameof(subpel_conv3x3), inChannels, outChannels, r, nameof(r));
        return nn.Sequential(nn.Conv2d(inChannels, outChannels * r * r, 3, padding: 1), nn.PixelShuffle(r));
    }

    private static void Check(string member, long inChannels, long outChannels, long factor, string factorName = "stride")
    {
        string op = $"{nameof(Layers)}.{member}";
        LayerGuard.CheckChannels(op, inChannels, outChannels);
        LayerGuard.CheckFactor(op, factorName, factor);
    }
}
