using SoftRound.Tf.Kernels;
using static TorchSharp.torch;
using static SoftRound.Tf.Internals.KeptScalars;

namespace SoftRound.Tf.Internals.Formulas;

/// <summary>
/// docs/MATH.md §2, Agustsson &amp; Theis (2020): m = ⌊x⌋ + ½, r = x − m, D = 2·tanh(α/2),
/// y = m + tanh(α·r)/D; ∂y/∂x = α·sech²(α·r)/D;
/// ∂y/∂α = (2·r·sech²(α·r)·tanh(α/2) − tanh(α·r)·sech²(α/2)) / (4·tanh²(α/2)).
/// </summary>
/// <remarks>
/// The value and ∂y/∂x are evaluated about the nearest integer n = round(x), d = x − n (exact), w = |d|:
/// y = n + sign(d)·min(g, ½), g = E·(1 − e^(−2αw)) / ((1 − e^(−α))·(1 + E)), E = exp(α·(2w − 1)), and
/// ∂y/∂x = (2α/tanh(α/2))·E/(1 + E)²; y − n keeps its relative accuracy, y(n) = n exactly, and y stays monotone across
/// integers and half-integers. Where α &lt; <see cref="IdentityBelow"/> it is the identity (∂y/∂x = 1, ∂y/∂α = 0);
/// the other branch is computed with α clamped to that bound so it yields no NaN. ±∞ maps to itself with zero
/// partials. ∂y/∂α is computed in float64, since its numerator cancels for small α.
/// </remarks>
internal sealed class SoftRoundFormula : IElementwiseFormula
{
    /// <summary>α below which soft_round, its inverse and its conditional mean are the identity.</summary>
    public const double IdentityBelow = 1e-3;

    /// <inheritdoc />
    public static string Name => "SoftRound";

    /// <inheritdoc />
    public static Tensor Value(Tensor x, Tensor alpha)
    {
        using var scope = NewDisposeScope();
        Tensor a = alpha.clamp_min(S(IdentityBelow));
        (Tensor n, Tensor d, Tensor w) = Stable.AboutNearestInteger(x);
        Tensor e = Stable.ExpCentred(a, w);
        Tensor g = e * (a * w * S(-2)).expm1().neg() / (a.neg().expm1().neg() * e.add(S(1), One));
        Tensor y = n.add(g.clamp_max(S(0.5)).copysign(d), One);
        Tensor identity = alpha.lt(S(IdentityBelow)).logical_or(x.isinf());
        return where(identity, x, y).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public static (Tensor? dx, Tensor? da) Partials(Tensor x, Tensor alpha, bool needX, bool needA)
    {
        using var scope = NewDisposeScope();
        Tensor infinite = x.isinf(), small = alpha.lt(S(IdentityBelow));
        Tensor a = alpha.clamp_min(S(IdentityBelow));
        Tensor r = (x - x.floor() - S(0.5)).masked_fill(infinite, S(0.0));
        Tensor? dx = null, da = null;
        if (needX)
        {
            Tensor e = Stable.ExpCentred(a, Stable.AboutNearestInteger(x.masked_fill(infinite, S(0.0))).w);
            dx = (a * S(2) / (a / S(2)).tanh() * e / e.add(S(1), One).pow(S(2L))).masked_fill(small, S(1.0)).masked_fill(infinite, S(0.0)).MoveToOuterDisposeScope();
        }
        if (needA)
        {
            // The two terms of the numerator cancel to O(α³) for small α: computed in float64, the relative error stays
            // near 1e−16/α² (1e−10 at α = 1e−3) instead of 1e−7/α² in float32.
            Tensor a64 = a.to(ScalarType.Float64), r64 = r.to(ScalarType.Float64), t64 = (a64 / S(2)).tanh();
            Tensor numerator = r64 * Stable.Sech2(a64 * r64) * t64 * S(2) - (a64 * r64).tanh() * Stable.Sech2(a64 / S(2));
            da = (numerator / (t64.pow(S(2L)) * S(4))).to(x.dtype)
                .masked_fill(small, S(0.0)).masked_fill(infinite, S(0.0)).MoveToOuterDisposeScope();
        }
        return (dx, da);
    }

    /// <inheritdoc />
    public static Tensor KernelValue(Tensor x, double a) => KernelLoop.Forward(new SoftRoundKernel(a), x);

    /// <inheritdoc />
    public static Tensor KernelGradient(Tensor x, double a, Tensor grad) => KernelLoop.Backward(new SoftRoundKernel(a), x, grad);
}
