using System;
using System.Linq;
using SoftRound.Tf.Entropy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static SoftRound.Tf.Compression.Layers;

namespace SoftRound.Tf.Compression;

/// <summary>
/// ELIC as Chandelier's reimplementation simplifies it (CompressAI's <c>Elic2022Chandelier</c>,
/// <c>elic2022-chandelier</c>): <see cref="Elic2022Official"/>'s transforms and channel groups, but each group's channel
/// context sees only the first group and the latest one decoded, h_s ends in a 3×3 convolution to 2M channels, each
/// group's entropy parameters are 1×1 convolutions to 2M and 512 channels, and they give the means before the scales.
/// </summary>
/// <remarks>See <see cref="Elic2022Official"/> for the keys, the streams and the channel context's widths.</remarks>
public sealed class Elic2022Chandelier : SimpleVAECompressionModel
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
    public Elic2022Chandelier(int N = 192, int M = 320, int[]? groups = null, QuantizationMode mode = QuantizationMode.UniformNoise, double alpha = 5.0, int[]? channelContextWidths = null)
        : base(nameof(Elic2022Chandelier), N, M, () =>
        {
            long[] g = Elic2022Official.Groups(nameof(Elic2022Chandelier), N, M, groups, channelContextWidths, out int[] widths);
            var codecs = g.Select((c, k) => Elic2022Official.GroupCodec(c, nn.Sequential(
                conv1x1(2 * c + (k > 0 ? 2 * c : 0) + 2 * M, 2 * M), nn.ReLU(), conv1x1(2 * M, 512), nn.ReLU(), conv1x1(512, 2 * c)), mode, alpha, meansFirst: true)).ToArray();
            var contexts = Enumerable.Range(1, g.Length - 1).Select(k => Elic2022Official.ChannelContext(g[0] + (k > 1 ? g[k - 1] : 0), widths, g[k])).ToArray();
            var hyper = new HyperLatentCodec(new EntropyBottleneck(N, mode, alpha), Elic2022Official.HyperAnalysis(N, M),
                nn.Sequential(deconv(N, N), nn.ReLU(), deconv(N, N * 3 / 2), nn.ReLU(), conv(N * 3 / 2, M * 2, 3, 1)));
            return (Elic2022Official.ElicAnalysis(N, M), Elic2022Official.ElicSynthesis(N, M), new HyperpriorLatentCodec(new ChannelGroupsLatentCodec(g, contexts, codecs, firstAndLast: true), hyper));
        })
    {
    }
}
