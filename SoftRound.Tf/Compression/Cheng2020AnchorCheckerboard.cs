using System;
using SoftRound.Tf.Entropy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf.Compression;

/// <summary>
/// Cheng et al.'s anchor transforms with the checkerboard context model of He et al. 2021, "Checkerboard Context Model
/// for Efficient Learned Image Compression" (CompressAI's <c>Cheng2020AnchorCheckerboard</c>,
/// <c>cheng2020-anchor-checkerboard</c>). The latents are split like a checkerboard: the anchors, where h + w is even,
/// are coded first with the hyperprior alone (a zero context), then the non-anchors with the context a
/// <see cref="CheckerboardMaskedConv2d"/> (5×5, M → 2M) computes from the decoded anchors around them. The entropy
/// parameters (1×1 convolutions, mbt2018's) see [context, h_s(ẑ)]. Both halves are coded with tensor operations, two
/// passes in all, where mbt2018 and Cheng2020Anchor code position by position.
/// </summary>
/// <remarks>
/// As CompressAI (its "twopass" forward; <see cref="SimpleVAECompressionModel"/> for the "ste" quantizers): the
/// anchors' means come from the first pass, the non-anchors' from the second. The streams are CompressAI's: ŷ's
/// anchors, ŷ's non-anchors, then ẑ; each half is coded as a (M, h, w/2) tensor with the rows of that colour packed
/// left. State-dict keys are CompressAI's, under <c>latent_codec.y</c> (the context model, the entropy parameters and
/// <c>y.gaussian_conditional</c>) and <c>latent_codec.hyper</c> (the bottleneck, h_a, h_s). CompressAI's other
/// choices (anchors on the odd squares, the "onepass" forward) are not ported.
/// </remarks>
public sealed class Cheng2020AnchorCheckerboard : SimpleVAECompressionModel
{
    /// <summary>Creates the model with N channels throughout (CompressAI's default 192; M = N) and the training quantizer of both entropy models.</summary>
    /// <exception cref="ArgumentOutOfRangeException">N is below 1, or α is not finite and ≥ 0.</exception>
    public Cheng2020AnchorCheckerboard(int N = 192, QuantizationMode mode = QuantizationMode.UniformNoise, double alpha = 5.0)
        : base(nameof(Cheng2020AnchorCheckerboard), N, N, () =>
        {
            var bottleneck = new EntropyBottleneck(N, mode, alpha);
            var codec = new HyperpriorLatentCodec(
                new CheckerboardLatentCodec(
                    JointAutoregressiveHierarchicalPriors.EntropyParameters(N),
                    new CheckerboardMaskedConv2d(N, 2 * N),
                    new GaussianConditionalLatentCodec(new GaussianConditional(mode: mode, alpha: alpha))),
                new HyperLatentCodec(bottleneck, Cheng2020Anchor.HyperAnalysis(N), Cheng2020Anchor.HyperSynthesis(N)));
            return (Cheng2020Anchor.Analysis(N), Cheng2020Anchor.Synthesis(N), codec);
        })
    {
    }

    private CheckerboardLatentCodec checkerboard => (CheckerboardLatentCodec)LatentCodecY;

    /// <summary>The Gaussian conditional of y (<c>latent_codec.y.y.gaussian_conditional</c>).</summary>
    public GaussianConditional GaussianConditional => checkerboard.y.gaussian_conditional;

    /// <summary>The context model (<c>latent_codec.y.context_prediction</c>).</summary>
    public CheckerboardMaskedConv2d ContextPrediction => checkerboard.context_prediction;
}
