using System;
using SoftRound.Tf.Entropy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static SoftRound.Tf.Compression.Layers;

namespace SoftRound.Tf.Compression;

/// <summary>
/// The attention model of Cheng et al. 2020 (CompressAI's <c>Cheng2020Attention</c>, <c>cheng2020-attn</c>):
/// <see cref="Cheng2020Anchor"/> with <see cref="AttentionBlock"/>s in its transforms, in g_a after the second
/// down-sampling block and at the end, in g_s at the start and after the second up-sampling block. The hyperprior and
/// the context model are the anchor's; state-dict keys are CompressAI's.
/// </summary>
public sealed class Cheng2020Attention : Cheng2020Anchor
{
    /// <summary>Creates the model with N channels throughout (CompressAI's default 192; M = N) and the training quantizer of both entropy models.</summary>
    /// <exception cref="ArgumentOutOfRangeException">N is below 2 (the attention blocks work on N/2 channels), or α is not finite and ≥ 0.</exception>
    public Cheng2020Attention(int N = 192, QuantizationMode mode = QuantizationMode.UniformNoise, double alpha = 5.0)
        : base(nameof(Cheng2020Attention), N, () => (AttentionAnalysis(N), AttentionSynthesis(N), HyperAnalysis(N), HyperSynthesis(N)), mode, alpha)
    {
    }

    private static void CheckN(int n)
    {
        if (n < 2) throw new ArgumentOutOfRangeException(nameof(N), n, $"{nameof(Cheng2020Attention)}: N must be at least 2 (its attention blocks work on N/2 channels); got {n}.");
    }

    /// <summary>The analysis with attention, 3 → N at 1/16.</summary>
    private static Sequential AttentionAnalysis(int n)
    {
        CheckN(n);
        return nn.Sequential(
            new ResidualBlockWithStride(3, n), new ResidualBlock(n, n),
            new ResidualBlockWithStride(n, n), new AttentionBlock(n),
            new ResidualBlock(n, n), new ResidualBlockWithStride(n, n), new ResidualBlock(n, n),
            conv3x3(n, n, 2), new AttentionBlock(n));
    }

    /// <summary>The synthesis with attention, N → 3 at ×16.</summary>
    private static Sequential AttentionSynthesis(int n) => nn.Sequential(
        new AttentionBlock(n),
        new ResidualBlock(n, n), new ResidualBlockUpsample(n, n),
        new ResidualBlock(n, n), new ResidualBlockUpsample(n, n),
        new AttentionBlock(n),
        new ResidualBlock(n, n), new ResidualBlockUpsample(n, n),
        new ResidualBlock(n, n), subpel_conv3x3(n, 3, 2));
}
