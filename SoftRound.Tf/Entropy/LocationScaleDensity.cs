using System;
using SoftRound.Tf.Internals;
using static TorchSharp.torch;
using static SoftRound.Tf.Internals.KeptScalars;

namespace SoftRound.Tf.Entropy;

/// <summary>
/// A symmetric density with location μ and scale s: X = μ + s·Z for a standard density Z symmetric about 0, so
/// F(x) = F_Z(z), S(x) = F_Z(−z), f(x) = f_Z(z)/s with z = (x − μ)/s. Its interval mass is taken in the lower tail
/// by symmetry: P(|X − μ| about x) = F_Z((½ − |x − μ|)/s) − F_Z((−½ − |x − μ|)/s), as CompressAI's
/// <c>GaussianConditional</c> does.
/// </summary>
/// <remarks>
/// μ and s are tensors that broadcast with the inputs (per element, per channel, or 0-dim); they are kept, not copied,
/// so a density over a model's outputs passes gradients to them. Everything is computed in the input's dtype, with μ
/// and s cast to it.
/// </remarks>
public abstract class LocationScaleDensity : IDensity
{
    /// <summary>Creates the density, checking the parameters.</summary>
    /// <param name="loc">μ: a floating-point tensor of finite values.</param>
    /// <param name="scale">s: a floating-point tensor of finite values &gt; 0 that broadcasts with μ.</param>
    /// <exception cref="ArgumentNullException">A parameter is null.</exception>
    /// <exception cref="ArgumentException">A parameter is not floating point, or s does not broadcast to μ's shape (or μ to s's).</exception>
    /// <exception cref="ArgumentOutOfRangeException">An entry of μ is not finite, or of s not finite and &gt; 0 (checked on the CPU).</exception>
    protected LocationScaleDensity(Tensor loc, Tensor scale) : this(loc, scale, check: true) { }

    /// <summary>
    /// Creates the density; without <paramref name="check"/> the parameters are taken as valid (for callers that
    /// checked them already, under their own name, so that a hot path does not scan them twice).
    /// </summary>
    private protected LocationScaleDensity(Tensor loc, Tensor scale, bool check)
    {
        this.loc = loc;
        this.scale = scale;
        if (!check) return;
        string name = GetType().Name;
        OpGuard.NotNull(name, nameof(loc), loc);
        OpGuard.NotNull(name, nameof(scale), scale);
        Tensor larger = loc.dim() >= scale.dim() ? loc : scale;
        OpGuard.Finite(name, nameof(loc), loc, larger);
        OpGuard.Positive(name, nameof(scale), scale, larger);
    }

    /// <summary>The location μ (the median).</summary>
    public Tensor loc { get; }

    /// <summary>The scale s.</summary>
    public Tensor scale { get; }

    /// <summary>F_Z(z) of the standard density.</summary>
    private protected abstract Tensor StandardCdf(Tensor z);

    /// <summary>log F_Z(z), accurate in the lower tail.</summary>
    private protected abstract Tensor StandardLogCdf(Tensor z);

    /// <summary>F_Z⁻¹(p).</summary>
    private protected abstract Tensor StandardQuantile(Tensor p);

    /// <summary>log f_Z(z).</summary>
    private protected abstract Tensor StandardLogPdf(Tensor z);

    /// <inheritdoc/>
    public Tensor cdf(Tensor x) => Standardized(nameof(cdf), x, StandardCdf);

    /// <inheritdoc/>
    public Tensor log_cdf(Tensor x) => Standardized(nameof(log_cdf), x, StandardLogCdf);

    /// <inheritdoc/>
    public Tensor log_survival(Tensor x) => Standardized(nameof(log_survival), x, z => StandardLogCdf(z.neg()));

    /// <summary>F⁻¹(p) = μ + s·F_Z⁻¹(p); p outside (0, 1) gives ±∞ or NaN as the formula does.</summary>
    /// <exception cref="ArgumentException"><paramref name="p"/> is null or not floating point.</exception>
    public Tensor quantile(Tensor p)
    {
        OpGuard.FloatingPoint(GetType().Name + "." + nameof(quantile), nameof(p), p);
        using var scope = NewDisposeScope();
        (Tensor mu, Tensor s) = Parameters(p);
        return mu.add(s * StandardQuantile(p), One).MoveToOuterDisposeScope();
    }

    /// <summary>log f(x) = log f_Z(z) − log s.</summary>
    /// <exception cref="ArgumentException"><paramref name="x"/> is null or not floating point.</exception>
    public Tensor log_prob(Tensor x)
    {
        OpGuard.FloatingPoint(GetType().Name + "." + nameof(log_prob), nameof(x), x);
        using var scope = NewDisposeScope();
        (Tensor mu, Tensor s) = Parameters(x);
        return (StandardLogPdf((x - mu) / s) - s.log()).MoveToOuterDisposeScope();
    }

    /// <summary>F_Z(b) − F_Z(a), b = (½ − |x − μ|)/s, a = (−½ − |x − μ|)/s: both in the lower tail.</summary>
    /// <exception cref="ArgumentException"><paramref name="x"/> is null or not floating point.</exception>
    public Tensor interval_mass(Tensor x) => Folded(nameof(interval_mass), x, (a, b) => StandardCdf(b) - StandardCdf(a));

    /// <summary>log(F_Z(b) − F_Z(a)) = log F_Z(b) + log(1 − e^(log F_Z(a) − log F_Z(b))), with a and b as in <see cref="interval_mass"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="x"/> is null or not floating point.</exception>
    public Tensor log_interval_mass(Tensor x) => Folded(nameof(log_interval_mass), x, (a, b) => LogSpace.log_diff_exp(StandardLogCdf(b), StandardLogCdf(a)));

    private Tensor Standardized(string member, Tensor x, Func<Tensor, Tensor> f)
    {
        OpGuard.FloatingPoint(GetType().Name + "." + member, nameof(x), x);
        using var scope = NewDisposeScope();
        (Tensor mu, Tensor s) = Parameters(x);
        return f((x - mu) / s).MoveToOuterDisposeScope();
    }

    private Tensor Folded(string member, Tensor x, Func<Tensor, Tensor, Tensor> f)
    {
        OpGuard.FloatingPoint(GetType().Name + "." + member, nameof(x), x);
        using var scope = NewDisposeScope();
        (Tensor mu, Tensor s) = Parameters(x);
        Tensor distance = (x - mu).abs();
        return f(S(-0.5).Minus(distance) / s, S(0.5).Minus(distance) / s).MoveToOuterDisposeScope();
    }

    /// <summary>μ and s in <paramref name="x"/>'s dtype and on its device.</summary>
    private (Tensor mu, Tensor s) Parameters(Tensor x) => (loc.to(x.dtype, x.device), scale.to(x.dtype, x.device));
}
