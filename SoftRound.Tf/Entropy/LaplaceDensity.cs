using System;
using static TorchSharp.torch;
using static SoftRound.Tf.Internals.KeptScalars;

namespace SoftRound.Tf.Entropy;

/// <summary>
/// The Laplace density with location μ and scale s: F(x) = ½eᶻ for z &lt; 0 and 1 − ½e⁻ᶻ above, log F(x) = z − ln 2
/// below 0 and log1p(−½e⁻ᶻ) above, F⁻¹(p) = μ + s·log(2p) below ½ and μ − s·log(2 − 2p) above,
/// log f(x) = −|z| − log(2s), z = (x − μ)/s (tfp's <c>Laplace</c>; tfc's <c>NoisyLaplace</c> is
/// <c>new UniformNoiseAdapter(new LaplaceDensity(μ, s))</c>).
/// </summary>
public sealed class LaplaceDensity : LocationScaleDensity
{
    /// <inheritdoc cref="LocationScaleDensity(Tensor, Tensor)"/>
    public LaplaceDensity(Tensor loc, Tensor scale) : base(loc, scale) { }

    private protected override Tensor StandardCdf(Tensor z) =>
        where(z.lt(S(0)), z.clamp_max(S(0)).exp() * S(0.5), S(1).Minus(z.clamp_min(S(0)).neg().exp() * S(0.5)));

    private protected override Tensor StandardLogCdf(Tensor z) =>
        where(z.lt(S(0)), z.clamp_max(S(0)) - S(Math.Log(2)), (z.clamp_min(S(0)).neg().exp() * S(-0.5)).log1p());

    private protected override Tensor StandardQuantile(Tensor p) =>
        where(p.lt(S(0.5)), (p * S(2)).log(), S(2).Minus(p * S(2)).log().neg());

    private protected override Tensor StandardLogPdf(Tensor z) => z.abs().neg() - S(Math.Log(2));
}
