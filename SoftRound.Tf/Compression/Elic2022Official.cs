using System;
using System.Collections.Generic;
using System.Linq;
using SoftRound.Tf.Entropy;
using SoftRound.Tf.Internals;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static SoftRound.Tf.Compression.Layers;

namespace SoftRound.Tf.Compression;

/// <summary>
/// ELIC, He et al. 2022, "ELIC: Efficient Learned Image Compression with Unevenly Grouped Space-Channel Contextual
/// Adaptive Coding" (CompressAI's <c>Elic2022Official</c>, <c>elic2022-official</c>). Transforms of 5×5 stride-2
/// (transposed) convolutions with three <see cref="ResidualBottleneckBlock"/>s after each and
/// <see cref="AttentionBlock"/>s (3 → N → M at 1/16 and back); a hyperprior (h_a: 3×3 then two 5×5 stride-2
/// convolutions with ReLUs; h_s the mirror to 2N channels); y split into uneven channel groups (default 16, 16, 32, 64,
/// M − 128), each coded with a checkerboard context (<see cref="CheckerboardMaskedConv2d"/>) given a channel context of
/// all the groups before it (5×5 convolutions, 224 and 128 channels wide) and the hyperprior's parameters, aggregated
/// by 1×1 convolutions (<see cref="Layers.sequential_channel_ramp"/>) into the group's scales and means.
/// </summary>
/// <remarks>
/// See <see cref="SimpleVAECompressionModel"/> for the quantizers, the streams (each group's anchors and non-anchors in
/// order, then ẑ) and the float64 coding path. State-dict keys are CompressAI's: <c>latent_codec.y.channel_context.y{k}</c>,
/// <c>latent_codec.y.latent_codec.y{k}</c> (each group's context model, entropy parameters and
/// <c>y.gaussian_conditional</c>), <c>latent_codec.hyper</c>. Unlike CompressAI, the channel context's two inner widths
/// are an argument (CompressAI fixes 224 and 128), so that small models can be built for tests.
/// </remarks>
public sealed class Elic2022Official : SimpleVAECompressionModel
{
    /// <summary>Creates the model (CompressAI's defaults N = 192, M = 320) with the training quantizer of every entropy model.</summary>
    /// <param name="N">The transforms' channels, ≥ 2.</param>
    /// <param name="M">The latent channels, ≥ 2.</param>
    /// <param name="groups">The channel groups, each ≥ 1, summing to M; default 16, 16, 32, 64, M − 128 (M &gt; 128).</param>
    /// <param name="mode">The entropy models' training quantizer.</param>
    /// <param name="alpha">Soft round's α for the soft-round modes.</param>
    /// <param name="channelContextWidths">The channel context's two inner widths; default 224 and 128.</param>
    /// <exception cref="ArgumentOutOfRangeException">N or M is below 2, a width is below 1, or α is not finite and ≥ 0.</exception>
    /// <exception cref="ArgumentException">The groups do not sum to M or hold a count below 1, or there are not two widths.</exception>
    public Elic2022Official(int N = 192, int M = 320, int[]? groups = null, QuantizationMode mode = QuantizationMode.UniformNoise, double alpha = 5.0, int[]? channelContextWidths = null)
        : base(nameof(Elic2022Official), N, M, () =>
        {
            long[] g = Groups(nameof(Elic2022Official), N, M, groups, channelContextWidths, out int[] widths);
            var codecs = g.Select((c, k) => GroupCodec(c, sequential_channel_ramp(2 * c + (k > 0 ? 2 * c : 0) + 2 * N, 2 * c, 2 * N), mode, alpha, meansFirst: false)).ToArray();
            var contexts = Enumerable.Range(1, g.Length - 1).Select(k => ChannelContext(g.Take(k).Sum(), widths, g[k])).ToArray();
            var hyper = new HyperLatentCodec(new EntropyBottleneck(N, mode, alpha), HyperAnalysis(N, M),
                nn.Sequential(deconv(N, N), nn.ReLU(), deconv(N, N * 3 / 2), nn.ReLU(), deconv(N * 3 / 2, N * 2, 3, 1)));
            return (ElicAnalysis(N, M), ElicSynthesis(N, M), new HyperpriorLatentCodec(new ChannelGroupsLatentCodec(g, contexts, codecs, firstAndLast: false), hyper));
        })
    {
    }

    /// <summary>
    /// The groups as channel counts, checked (with N, M and the widths; the widths given back, default 224 and 128):
    /// what both ELIC models take.
    /// </summary>
    internal static long[] Groups(string model, int n, int m, int[]? groups, int[]? channelContextWidths, out int[] widths)
    {
        if (n < 2) throw new ArgumentOutOfRangeException(nameof(n), n, $"{model}: N must be at least 2; got {n}.");
        if (m < 2) throw new ArgumentOutOfRangeException(nameof(m), m, $"{model}: M must be at least 2; got {m}.");
        widths = channelContextWidths ?? new[] { 224, 128 };
        if (widths.Length != 2) throw new ArgumentException($"{model}: channelContextWidths must hold two widths; got {widths.Length}.", nameof(channelContextWidths));
        if (widths.Min() < 1) throw new ArgumentOutOfRangeException(nameof(channelContextWidths), widths.Min(), $"{model}: the channel context's widths must be at least 1; got {string.Join(", ", widths)}.");
        int[] g = groups ?? (m > 128 ? new[] { 16, 16, 32, 64, m - 128 } : throw new ArgumentException($"{model}: the default groups 16, 16, 32, 64, M − 128 need M > 128; got M = {m}: give the groups.", nameof(groups)));
        if (g.Length == 0 || g.Min() < 1 || g.Sum() != m)
        {
            throw new ArgumentException($"{model}: groups ({string.Join(", ", g)}) must be counts ≥ 1 summing to M = {m}.", nameof(groups));
        }
        return g.Select(c => (long)c).ToArray();
    }

    /// <summary>A group's checkerboard codec: its context model (c → 2c), its entropy parameters and its Gaussian conditional.</summary>
    internal static CheckerboardLatentCodec GroupCodec(long channels, Sequential entropyParameters, QuantizationMode mode, double alpha, bool meansFirst) =>
        new(entropyParameters, new CheckerboardMaskedConv2d((int)channels, 2 * (int)channels),
            new GaussianConditionalLatentCodec(new GaussianConditional(mode: mode, alpha: alpha), meansFirst));

    /// <summary>A channel context: 5×5 convolutions in → widths[0] → widths[1] → 2·out with ReLUs between them.</summary>
    internal static Sequential ChannelContext(long inChannels, int[] widths, long outChannels) => nn.Sequential(
        conv(inChannels, widths[0], 5, 1), nn.ReLU(), conv(widths[0], widths[1], 5, 1), nn.ReLU(), conv(widths[1], 2 * outChannels, 5, 1));

    /// <summary>ELIC's h_a: a 3×3 convolution M → N and two 5×5 stride-2 ones, with ReLUs.</summary>
    internal static Sequential HyperAnalysis(int n, int m) => nn.Sequential(conv(m, n, 3, 1), nn.ReLU(), conv(n, n), nn.ReLU(), conv(n, n));

    /// <summary>ELIC's analysis, 3 → N → M at 1/16.</summary>
    internal static Sequential ElicAnalysis(int n, int m)
    {
        var layers = new List<nn.Module<Tensor, Tensor>> { conv(3, n) };
        layers.AddRange(Bottlenecks(n));
        layers.Add(conv(n, n));
        layers.AddRange(Bottlenecks(n));
        layers.Add(new AttentionBlock(n));
        layers.Add(conv(n, n));
        layers.AddRange(Bottlenecks(n));
        layers.Add(conv(n, m));
        layers.Add(new AttentionBlock(m));
        return nn.Sequential(layers);
    }

    /// <summary>ELIC's synthesis, M → N → 3 at ×16.</summary>
    internal static Sequential ElicSynthesis(int n, int m)
    {
        var layers = new List<nn.Module<Tensor, Tensor>> { new AttentionBlock(m), deconv(m, n) };
        layers.AddRange(Bottlenecks(n));
        layers.Add(deconv(n, n));
        layers.Add(new AttentionBlock(n));
        layers.AddRange(Bottlenecks(n));
        layers.Add(deconv(n, n));
        layers.AddRange(Bottlenecks(n));
        layers.Add(deconv(n, 3));
        return nn.Sequential(layers);
    }

    private static IEnumerable<nn.Module<Tensor, Tensor>> Bottlenecks(int n) => Enumerable.Range(0, 3).Select(_ => (nn.Module<Tensor, Tensor>)new ResidualBottleneckBlock(n, n));
}
