using SoftRound.Tf.Entropy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf.Compression;

/// <summary>
/// The mean-scale hyperprior of Minnen et al. 2018 (CompressAI's <c>MeanScaleHyperprior</c>, <c>mbt2018-mean</c>): as
/// <see cref="ScaleHyperprior"/>, but z = h_a(y) with leaky ReLUs, and h_s ends in a plain 3×3 convolution to 2M
/// channels that give the scales and the means of a <see cref="GaussianConditional"/>: ŷ = round(y − μ) + μ in eval.
/// The scales may come out ≤ 0; the conditional bounds them at 0.11 with CompressAI's gradient rule.
/// </summary>
public sealed class MeanScaleHyperprior : CompressionModel
{
    private readonly Sequential g_a, g_s, h_a, h_s;
    private readonly EntropyBottleneck entropy_bottleneck;
    private readonly GaussianConditional gaussian_conditional;

    /// <summary>Creates the model with N hidden and M latent channels and the training quantizer of both entropy models.</summary>
    /// <exception cref="System.ArgumentOutOfRangeException">N or M is below 1, or α is not finite and ≥ 0.</exception>
    public MeanScaleHyperprior(int N, int M, QuantizationMode mode = QuantizationMode.UniformNoise, double alpha = 5.0)
        : base(nameof(MeanScaleHyperprior), N, M)
    {
        entropy_bottleneck = new EntropyBottleneck(N, mode, alpha);
        g_a = Analysis(N, M);
        g_s = SynthesisTransform(N, M);
        h_a = nn.Sequential(conv(M, N, 3, 1), nn.LeakyReLU(), conv(N, N), nn.LeakyReLU(), conv(N, N));
        h_s = nn.Sequential(deconv(N, M), nn.LeakyReLU(), deconv(M, M * 3 / 2), nn.LeakyReLU(), conv(M * 3 / 2, M * 2, 3, 1));
        gaussian_conditional = new GaussianConditional(mode: mode, alpha: alpha);
        RegisterComponents();
    }

    /// <summary>The entropy bottleneck of z.</summary>
    public EntropyBottleneck EntropyBottleneck => entropy_bottleneck;

    /// <summary>The Gaussian conditional of y.</summary>
    public GaussianConditional GaussianConditional => gaussian_conditional;

    /// <inheritdoc/>
    public override int downsampling_factor => 64;

    /// <summary>x̂ = g_s(ŷ) and the likelihoods {"y", "z"}.</summary>
    public override CompressionOutput forward(Tensor x)
    {
        CheckImages(nameof(forward), x);
        using var scope = NewDisposeScope();
        Tensor y = g_a.call(x);
        (Tensor zHat, Tensor zLikelihoods) = entropy_bottleneck.forward(h_a.call(y));
        Tensor[] p = h_s.call(zHat).chunk(2, 1);
        (Tensor yHat, Tensor yLikelihoods) = gaussian_conditional.forward(y, p[0], p[1]);
        Tensor xHat = g_s.call(yHat);
        return Output(xHat, yHat, yLikelihoods, zLikelihoods);
    }

    /// <summary>The streams of ŷ and ẑ, and ẑ's spatial size.</summary>
    public override CompressedData compress(Tensor x, RansStreamLayout layout = RansStreamLayout.SoftRound)
    {
        CheckImages(nameof(compress), x);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor y = g_a.call(x);
        (byte[][] zStrings, long[] shape, Tensor zHat) = CodeHyperLatent(entropy_bottleneck, h_a.call(y), layout);
        Tensor[] p = h_s.call(zHat).chunk(2, 1);
        Tensor indexes = gaussian_conditional.build_indexes(p[0]);
        return new CompressedData(new[] { gaussian_conditional.compress(y, indexes, p[1], layout), zStrings }, shape);
    }

    /// <summary>ŷ from its streams: ẑ first, then h_s(ẑ) gives ŷ's tables and means.</summary>
    public override Tensor decompress_latents(CompressedData data, RansStreamLayout layout = RansStreamLayout.SoftRound)
    {
        CheckData(nameof(decompress_latents), data, 2);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor[] p = h_s.call(entropy_bottleneck.decompress(data.strings[1], data.shape, layout)).chunk(2, 1);
        Tensor indexes = gaussian_conditional.build_indexes(p[0]);
        return gaussian_conditional.decompress(data.strings[0], indexes, p[1], layout).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public override Tensor synthesis(Tensor yHat) => g_s.call(yHat);
}
