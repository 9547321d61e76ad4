using SoftRound.Tf.Entropy;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf.Compression;

/// <summary>
/// The factorized-prior codec of Ballé et al. 2018 (CompressAI's <c>FactorizedPrior</c>, <c>bmshj2018-factorized</c>):
/// y = g_a(x), four 5×5 stride-2 convolutions with GDN to M channels at 1/16 of the size; an
/// <see cref="EntropyBottleneck"/> quantizes and prices y; x̂ = g_s(ŷ), the mirror with transposed convolutions and
/// IGDN. The state dict's keys are CompressAI's (<c>g_a.0.weight</c>, <c>entropy_bottleneck.quantiles</c>, …).
/// </summary>
public class FactorizedPrior : CompressionModel
{
    private readonly Sequential g_a, g_s;
    private readonly EntropyBottleneck entropy_bottleneck;

    /// <summary>Creates the model with N hidden and M latent channels and the bottleneck's training quantizer (default uniform noise, as CompressAI).</summary>
    /// <exception cref="System.ArgumentOutOfRangeException">N or M is below 1, or α is not finite and ≥ 0.</exception>
    public FactorizedPrior(int N, int M, QuantizationMode mode = QuantizationMode.UniformNoise, double alpha = 5.0)
        : this(nameof(FactorizedPrior), N, M, () => (Analysis(N, M), SynthesisTransform(N, M)), mode, alpha)
    {
    }

    /// <summary>
    /// Creates a variant with other transforms (CompressAI's subclasses replace <c>g_a</c> and <c>g_s</c>):
    /// <paramref name="transforms"/> builds them once N and M are checked.
    /// </summary>
    /// <exception cref="System.ArgumentOutOfRangeException">N or M is below 1, or α is not finite and ≥ 0.</exception>
    protected FactorizedPrior(string name, int N, int M, System.Func<(Sequential g_a, Sequential g_s)> transforms, QuantizationMode mode, double alpha)
        : base(name, N, M)
    {
        entropy_bottleneck = new EntropyBottleneck(M, mode, alpha);
        (g_a, g_s) = transforms();
        RegisterComponents();
    }

    /// <summary>The entropy bottleneck of y.</summary>
    public EntropyBottleneck EntropyBottleneck => entropy_bottleneck;

    /// <inheritdoc/>
    public override int downsampling_factor => 16;

    /// <summary>x̂ = g_s(ŷ) and the likelihoods {"y"} with (ŷ, p) = entropy_bottleneck(g_a(x)).</summary>
    public override CompressionOutput forward(Tensor x)
    {
        CheckImages(nameof(forward), x);
        using var scope = NewDisposeScope();
        (Tensor yHat, Tensor likelihoods) = entropy_bottleneck.forward(g_a.call(x));
        Tensor xHat = g_s.call(yHat);
        return Output(xHat, yHat, likelihoods);
    }

    /// <summary>The latent y = g_a(x).</summary>
    public Tensor analysis(Tensor x) => g_a.call(x);

    /// <summary>The streams of ŷ, and ŷ's spatial size.</summary>
    public override CompressedData compress(Tensor x, RansStreamLayout layout = RansStreamLayout.SoftRound)
    {
        CheckImages(nameof(compress), x);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor y = g_a.call(x);
        return new CompressedData(new[] { entropy_bottleneck.compress(y, layout) }, new[] { y.shape[2], y.shape[3] });
    }

    /// <summary>ŷ from its streams.</summary>
    public override Tensor decompress_latents(CompressedData data, RansStreamLayout layout = RansStreamLayout.SoftRound)
    {
        CheckData(nameof(decompress_latents), data, 1);
        return entropy_bottleneck.decompress(data.strings[0], data.shape, layout);
    }

    /// <inheritdoc/>
    public override Tensor synthesis(Tensor yHat) => g_s.call(yHat);
}
