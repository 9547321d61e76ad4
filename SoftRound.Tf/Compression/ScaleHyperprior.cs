using SoftRound.Tf.Entropy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf.Compression;

/// <summary>
/// The scale hyperprior of Ballé et al. 2018 (CompressAI's <c>ScaleHyperprior</c>, <c>bmshj2018-hyperprior</c>): y =
/// g_a(x) as in <see cref="FactorizedPrior"/>; z = h_a(|y|) (a 3×3 convolution and two 5×5 stride-2 ones with ReLU,
/// N channels at 1/64), quantized and priced by an <see cref="EntropyBottleneck"/>; σ = h_s(ẑ) (two transposed
/// convolutions and a 3×3 convolution, each followed by ReLU); ŷ is priced by a zero-mean
/// <see cref="GaussianConditional"/> with scales σ; x̂ = g_s(ŷ). CompressAI's keys (<c>h_a.0.weight</c>,
/// <c>gaussian_conditional.scale_table</c>, …).
/// </summary>
public sealed class ScaleHyperprior : CompressionModel
{
    private readonly Sequential g_a, g_s, h_a, h_s;
    private readonly EntropyBottleneck entropy_bottleneck;
    private readonly GaussianConditional gaussian_conditional;

    /// <summary>Creates the model with N hidden and M latent channels and the training quantizer of both entropy models.</summary>
    /// <exception cref="System.ArgumentOutOfRangeException">N or M is below 1, or α is not finite and ≥ 0.</exception>
    public ScaleHyperprior(int N, int M, QuantizationMode mode = QuantizationMode.UniformNoise, double alpha = 5.0)
        : base(nameof(ScaleHyperprior), N, M)
    {
        entropy_bottleneck = new EntropyBottleneck(N, mode, alpha);
        g_a = Analysis(N, M);
        g_s = SynthesisTransform(N, M);
        h_a = nn.Sequential(conv(M, N, 3, 1), nn.ReLU(), conv(N, N), nn.ReLU(), conv(N, N));
        h_s = nn.Sequential(deconv(N, N), nn.ReLU(), deconv(N, N), nn.ReLU(), conv(N, M, 3, 1), nn.ReLU());
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
        (Tensor zHat, Tensor zLikelihoods) = entropy_bottleneck.forward(h_a.call(y.abs()));
        (Tensor yHat, Tensor yLikelihoods) = gaussian_conditional.forward(y, h_s.call(zHat));
        Tensor xHat = g_s.call(yHat);
        return Output(xHat, yHat, yLikelihoods, zLikelihoods);
    }

    /// <summary>The streams of ŷ and ẑ, and ẑ's spatial size; the scales h_s(ẑ) that choose ŷ's tables are computed in float64 (see <see cref="CompressionModel.compress"/>).</summary>
    public override CompressedData compress(Tensor x, RansStreamLayout layout = RansStreamLayout.SoftRound)
    {
        CheckImages(nameof(compress), x);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor y = g_a.call(x);
        (byte[][] zStrings, long[] shape, Tensor zHat) = CodeHyperLatent(entropy_bottleneck, h_a.call(y.abs()), layout);
        Tensor indexes = gaussian_conditional.build_indexes(new Float64Network(GetName(), h_s).call(zHat));
        return new CompressedData(new[] { gaussian_conditional.compress(y, indexes, null, layout), zStrings }, shape);
    }

    /// <summary>ŷ from its streams: ẑ first, then the scales h_s(ẑ) choose ŷ's tables.</summary>
    public override Tensor decompress_latents(CompressedData data, RansStreamLayout layout = RansStreamLayout.SoftRound)
    {
        CheckData(nameof(decompress_latents), data, 2);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor zHat = entropy_bottleneck.decompress(data.strings[1], data.shape, layout);
        Tensor indexes = gaussian_conditional.build_indexes(new Float64Network(GetName(), h_s).call(zHat));
        return gaussian_conditional.decompress(data.strings[0], indexes, null, layout).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public override Tensor synthesis(Tensor yHat) => g_s.call(yHat);
}
