using static TorchSharp.torch;
using static SoftRound.Tf.Internals.KeptScalars;

namespace SoftRound.Tf.Entropy;

/// <summary>
/// The normal density with mean μ and standard deviation s: F(x) = Φ(z) = ½·erfc(−z/√2), log F(x) = log Φ(z) (an
/// asymptotic series below z = −10), F⁻¹(p) = μ + s·Φ⁻¹(p), log f(x) = −z²/2 − log(s√(2π)), z = (x − μ)/s (tfp's <c>Normal</c>; tfc's
/// <c>NoisyNormal</c> is <c>new UniformNoiseAdapter(new NormalDensity(μ, s))</c>; the density inside CompressAI's
/// <c>GaussianConditional</c>).
/// </summary>
public sealed class NormalDensity : LocationScaleDensity
{
    private const double HalfLogTwoPi = 0.91893853320467274178;

    /// <inheritdoc cref="LocationScaleDensity(Tensor, Tensor)"/>
    public NormalDensity(Tensor loc, Tensor scale) : base(loc, scale) { }

    /// <summary>The density of parameters the caller has checked (see <see cref="LocationScaleDensity"/>).</summary>
    internal static NormalDensity Trusted(Tensor loc, Tensor scale) => new(loc, scale, check: false);

    private NormalDensity(Tensor loc, Tensor scale, bool check) : base(loc, scale, check) { }

    private protected override Tensor StandardCdf(Tensor z) => LogSpace.ndtr(z);

    private protected override Tensor StandardLogCdf(Tensor z) => LogSpace.log_ndtr(z);

    private protected override Tensor StandardQuantile(Tensor p) => special.ndtri(p);

    private protected override Tensor StandardLogPdf(Tensor z) => z.pow(S(2L)) * S(-0.5) - S(HalfLogTwoPi);
}
