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

    /// <summary>
    /// CompressAI's <c>sequential_channel_ramp</c> with its linear ramp: <paramref name="layers"/> layers whose channel
    /// counts step from <paramref name="inChannels"/> to <paramref name="outChannels"/> along floor(linspace(in, out,
    /// layers + 1)) (float32, as PyTorch's linspace), the inner counts raised to at least <paramref name="minChannels"/>,
    /// each layer <paramref name="makeLayer"/>(in, out) (default a 1×1 convolution) followed by
    /// <paramref name="makeActivation"/>() (default ReLU), but for the last with <paramref name="skipLastActivation"/>.
    /// ELIC's parameter aggregation is one.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A channel count or the number of layers is below 1, or the minimum is negative.</exception>
    public static Sequential sequential_channel_ramp(long inChannels, long outChannels, long minChannels = 0, int layers = 3,
        Func<long, long, nn.Module<Tensor, Tensor>>? makeLayer = null, Func<nn.Module<Tensor, Tensor>>? makeActivation = null, bool skipLastActivation = true)
    {
        Check(nameof(sequential_channel_ramp), inChannels, outChannels, layers, nameof(layers));
        if (minChannels < 0) throw new ArgumentOutOfRangeException(nameof(minChannels), minChannels, $"{nameof(Layers)}.{nameof(sequential_channel_ramp)}: minChannels must be at least 0; got {minChannels}.");
        long[] channels = RampChannels(inChannels, outChannels, layers);
        for (int i = 1; i < channels.Length - 1; i++) channels[i] = Math.Max(channels[i], minChannels);
        var modules = new System.Collections.Generic.List<nn.Module<Tensor, Tensor>>();
        for (int i = 0; i < layers; i++)
        {
            modules.Add(makeLayer is null ? conv1x1(channels[i], channels[i + 1]) : makeLayer(channels[i], channels[i + 1]));
            if (i < layers - 1 || !skipLastActivation) modules.Add(makeActivation is null ? nn.ReLU() : makeActivation());
        }
        return nn.Sequential(modules);
    }

    /// <summary>floor(linspace(a, b, steps + 1)) as PyTorch computes it in float32: a + i·s below the middle, b − (n − 1 − i)·s from it, s = (b − a)/(n − 1).</summary>
    internal static long[] RampChannels(long a, long b, int steps)
    {
        int n = steps + 1;
        float start = a, end = b, step = (end - start) / (n - 1);
        var channels = new long[n];
        for (int i = 0; i < n; i++) channels[i] = (long)MathF.Floor(i < n / 2 ? start + step * i : end - step * (n - 1 - i));
        return channels;
    }

    private static void Check(string member, long inChannels, long outChannels, long factor, string factorName = "stride")
    {
        string op = $"{nameof(Layers)}.{member}";
        LayerGuard.CheckChannels(op, inChannels, outChannels);
        LayerGuard.CheckFactor(op, factorName, factor);
    }
}
