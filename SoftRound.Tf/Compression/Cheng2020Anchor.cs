using System;
using SoftRound.Tf.Entropy;
using SoftRound.Tf.Internals;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static SoftRound.Tf.Compression.Layers;

namespace SoftRound.Tf.Compression;

/// <summary>
/// The anchor model of Cheng et al. 2020, "Learned Image Compression with Discretized Gaussian Mixture Likelihoods
/// and Attention Modules" (CompressAI's <c>Cheng2020Anchor</c>, <c>cheng2020-anchor</c>): mbt2018's joint
/// autoregressive and hierarchical priors (<see cref="JointAutoregressiveHierarchicalPriors"/>, with M = N) with
/// transforms of small convolutions. g_a: three <see cref="ResidualBlockWithStride"/> (stride 2, GDN) each followed by
/// a <see cref="ResidualBlock"/>, then a 3×3 stride-2 convolution, 3 → N at 1/16; g_s: four
/// <see cref="ResidualBlock"/>s with three <see cref="ResidualBlockUpsample"/> (IGDN) between them and a 3×3 sub-pixel
/// convolution to 3 channels at ×2. h_a: five 3×3 convolutions with leaky ReLUs, two of stride 2; h_s: 3×3 and
/// sub-pixel convolutions N → N → 3N/2 → 2N (the scales and the means). As in CompressAI, the entropy model is
/// mbt2018's single Gaussian, not the paper's mixture. State-dict keys are CompressAI's.
/// </summary>
public class Cheng2020Anchor : JointAutoregressiveHierarchicalPriors
{
    /// <summary>Creates the model with N channels throughout (CompressAI's default 192; M = N) and the training quantizer of both entropy models.</summary>
    /// <exception cref="ArgumentOutOfRangeException">N is below 1, or α is not finite and ≥ 0.</exception>
    public Cheng2020Anchor(int N = 192, QuantizationMode mode = QuantizationMode.UniformNoise, double alpha = 5.0)
        : this(nameof(Cheng2020Anchor), N, () => (Analysis(N), Synthesis(N), HyperAnalysis(N), HyperSynthesis(N)), mode, alpha)
    {
    }

    /// <summary>Creates a variant with other transforms (<see cref="Cheng2020Attention"/>'s g_a and g_s): see <see cref="JointAutoregressiveHierarchicalPriors"/>'s protected constructor.</summary>
    /// <exception cref="ArgumentOutOfRangeException">N is below 1, or α is not finite and ≥ 0.</exception>
    protected Cheng2020Anchor(string name, int N, Func<(Sequential g_a, Sequential g_s, Sequential h_a, Sequential h_s)> transforms, QuantizationMode mode, double alpha)
        : base(name, N, N, transforms, mode, alpha)
    {
    }

    /// <summary>The anchor's analysis, 3 → N at 1/16.</summary>
    internal static Sequential Analysis(int n) => nn.Sequential(
        new ResidualBlockWithStride(3, n), new ResidualBlock(n, n),
        new ResidualBlockWithStride(n, n), new ResidualBlock(n, n),
        new ResidualBlockWithStride(n, n), new ResidualBlock(n, n),
        conv3x3(n, n, 2));

    /// <summary>The anchor's synthesis, N → 3 at ×16.</summary>
    internal static Sequential Synthesis(int n) => nn.Sequential(
        new ResidualBlock(n, n), new ResidualBlockUpsample(n, n),
        new ResidualBlock(n, n), new ResidualBlockUpsample(n, n),
        new ResidualBlock(n, n), new ResidualBlockUpsample(n, n),
        new ResidualBlock(n, n), subpel_conv3x3(n, 3, 2));

    /// <summary>h_a of Cheng et al.'s models: N → N at 1/4.</summary>
    internal static Sequential HyperAnalysis(int n) => nn.Sequential(
        conv3x3(n, n), new KeptLeakyReLU(),
        conv3x3(n, n), new KeptLeakyReLU(),
        conv3x3(n, n, 2), new KeptLeakyReLU(),
        conv3x3(n, n), new KeptLeakyReLU(),
        conv3x3(n, n, 2));

    /// <summary>h_s of Cheng et al.'s models: N → 2N (the scales, then the means) at ×4.</summary>
    internal static Sequential HyperSynthesis(int n) => nn.Sequential(
        conv3x3(n, n), new KeptLeakyReLU(),
        subpel_conv3x3(n, n, 2), new KeptLeakyReLU(),
        conv3x3(n, n * 3 / 2), new KeptLeakyReLU(),
        subpel_conv3x3(n * 3 / 2, n * 3 / 2, 2), new KeptLeakyReLU(),
        conv3x3(n * 3 / 2, n * 2));
}
