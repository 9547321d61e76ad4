using System;
using SoftRound.Tf.Internals;
using TorchSharp;
using static TorchSharp.torch;
using static SoftRound.Tf.Internals.KeptScalars;

namespace SoftRound.Tf.Entropy;

/// <summary>
/// The density of Z = soft_round(X, α) for a base density of X (tensorflow_compression's <c>SoftRoundAdapter</c>):
/// soft_round is increasing, so F_Z(z) = F_X(u), S_Z(z) = S_X(u) and f_Z(z) = f_X(u)/soft_round'(u) with
/// u = soft_round_inverse(z, α), and F_Z⁻¹(p) = soft_round(F_X⁻¹(p), α). The density of the soft-rounded latent plus
/// noise that Agustsson &amp; Theis train with (tfc's <c>NoisySoftRoundAdapter</c>) is
/// <c>new UniformNoiseAdapter(new SoftRoundAdapter(base, α))</c>; at integers it equals the base's interval mass,
/// because soft_round_inverse maps half-integers to themselves.
/// </summary>
public sealed class SoftRoundAdapter : IDensity
{
    private const string Name = nameof(SoftRoundAdapter);

    /// <summary>Wraps <paramref name="baseDensity"/> with steepness <paramref name="alpha"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="baseDensity"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alpha"/> is not finite and ≥ 0.</exception>
    public SoftRoundAdapter(IDensity baseDensity, double alpha)
    {
        ArgumentNullException.ThrowIfNull(baseDensity, nameof(baseDensity));
        OpGuard.Steepness(Name, nameof(alpha), alpha, allowZero: true);
        base_density = baseDensity;
        this.alpha = alpha;
    }

    /// <summary>The density of X (tfc's <c>base</c>).</summary>
    public IDensity base_density { get; }

    /// <summary>The steepness α.</summary>
    public double alpha { get; }

    /// <summary>F_Z(z) = F_X(soft_round_inverse(z, α)).</summary>
    public Tensor cdf(Tensor x) => Inverted(x, base_density.cdf);

    /// <summary>log F_X(soft_round_inverse(z, α)).</summary>
    public Tensor log_cdf(Tensor x) => Inverted(x, base_density.log_cdf);

    /// <summary>log S_X(soft_round_inverse(z, α)).</summary>
    public Tensor log_survival(Tensor x) => Inverted(x, base_density.log_survival);

    /// <summary>soft_round(F_X⁻¹(p), α).</summary>
    public Tensor quantile(Tensor p)
    {
        using var scope = NewDisposeScope();
        return SoftRoundOps.soft_round(base_density.quantile(p), alpha).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// log f_Z(z) = log f_X(u) − log soft_round'(u), u = soft_round_inverse(z, α), with
    /// log soft_round'(u) = log(α/(2·tanh(α/2))) − 2·log cosh(α·(u − ⌊u⌋ − ½)) (docs/ENTROPY.md §2).
    /// </summary>
    public Tensor log_prob(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor u = SoftRoundOps.soft_round_inverse(x, alpha);
        // Below the threshold the ops take soft_round as the identity, and so does its density.
        if (alpha < Internals.Formulas.SoftRoundFormula.IdentityBelow) return base_density.log_prob(u).MoveToOuterDisposeScope();
        using Scalar a = alpha.ToScalar(), logGain = Math.Log(alpha / (2 * Math.Tanh(alpha / 2))).ToScalar();
        Tensor t = (u - u.floor() - S(0.5)).abs() * a;
        // log cosh t = t + log1p(e^(−2t)) − ln 2, for t ≥ 0.
        Tensor logCosh = t.add((t * S(-2)).exp().log1p(), One) - S(Math.Log(2));
        return (base_density.log_prob(u) - logGain).add(logCosh * S(2), One).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// F_X(b) − F_X(a) with a = soft_round_inverse(z − ½, α), b = soft_round_inverse(z + ½, α), taken as
    /// S_X(a) − S_X(b) where F_X(a)·F_X(b) &gt; S_X(a)·S_X(b) (the upper tail), so the difference loses least.
    /// </summary>
    public Tensor interval_mass(Tensor x)
    {
        using var scope = NewDisposeScope();
        (_, Tensor logHigh, Tensor logLow) = Tails(x);
        return (logHigh.exp() - logLow.exp()).MoveToOuterDisposeScope();
    }

    /// <summary>The log of <see cref="interval_mass"/>, computed as log(e^h − e^l) in the same tail.</summary>
    public Tensor log_interval_mass(Tensor x)
    {
        using var scope = NewDisposeScope();
        (_, Tensor logHigh, Tensor logLow) = Tails(x);
        return LogSpace.log_diff_exp(logHigh, logLow).MoveToOuterDisposeScope();
    }

    /// <summary>Whether each entry uses the upper tail, and the logs of the larger and the smaller tail probability there.</summary>
    private (Tensor upper, Tensor logHigh, Tensor logLow) Tails(Tensor x)
    {
        Tensor a = SoftRoundOps.soft_round_inverse(x - S(0.5), alpha);
        Tensor b = SoftRoundOps.soft_round_inverse(x.add(S(0.5), One), alpha);
        Tensor fa = base_density.log_cdf(a), fb = base_density.log_cdf(b);
        Tensor sa = base_density.log_survival(a), sb = base_density.log_survival(b);
        Tensor upper = fa.add(fb, One).gt(sa.add(sb, One));
        return (upper, where(upper, sa, fb), where(upper, sb, fa));
    }

    private Tensor Inverted(Tensor x, Func<Tensor, Tensor> f)
    {
        using var scope = NewDisposeScope();
        return f(SoftRoundOps.soft_round_inverse(x, alpha)).MoveToOuterDisposeScope();
    }
}
