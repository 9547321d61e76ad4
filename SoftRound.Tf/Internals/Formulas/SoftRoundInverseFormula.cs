using SoftRound.Tf.Kernels;
using static TorchSharp.torch;
using static SoftRound.Tf.Internals.KeptScalars;

namespace SoftRound.Tf.Internals.Formulas;

/// <summary>
/// docs/MATH.md §3: m = ⌊y⌋ + ½, t = tanh(α/2), s = 2·(y − m)·t, x = m + atanh(s)/α;
/// ∂x/∂y = 2·t / (α·(1 − s²)) and ∂x/∂α = (y − m)·sech²(α/2) / (α·(1 − s²)) − atanh(s)/α².
/// </summary>
/// <remarks>
/// The value and ∂x/∂y are evaluated about the nearest integer n = round(y) in the forms that
/// <see cref="SoftRoundInverseKernel"/> documents, which do not cancel: integers and half-integers map to themselves
/// exactly and the derivative at integers is sinh(α)/α. Where α &lt; <see cref="SoftRoundFormula.IdentityBelow"/> it is the identity; the other branch
/// is computed with α clamped to that bound. ±∞ maps to itself with zero partials. ∂x/∂α is computed in float64, since
/// its terms cancel for small α.
/// </remarks>
internal sealed class SoftRoundInverseFormula : IElementwiseFormula
{
    /// <inheritdoc />
    public static string Name => "SoftRoundInverse";

    /// <inheritdoc />
    public static Tensor Value(Tensor y, Tensor alpha) => Value(y, alpha, conditionalMean: false);

    /// <summary>
    /// soft_round_inverse(y, α), or with <paramref name="conditionalMean"/> soft_round_conditional_mean(y, α), in the
    /// forms of <see cref="SoftRoundInverseKernel"/> (which documents them), as torch ops.
    /// </summary>
    internal static Tensor Value(Tensor y, Tensor alpha, bool conditionalMean)
    {
        using var scope = NewDisposeScope();
        Tensor a = alpha.clamp_min(S(SoftRoundFormula.IdentityBelow));
        (Tensor n, Tensor d, Tensor distance) = Stable.AboutNearestInteger(y);
        (Tensor w, Tensor s, Tensor oneMinusS) = Coordinates(a, distance, conditionalMean);
        Tensor near = w.le((a / S(4)).tanh() / ((a / S(2)).sinh() * S(2)));
        Tensor kw = a.neg().expm1().neg() * w;
        Tensor twoSinh = a.sinh() * S(2);
        // Where 2·sinh(α) overflows: 2α·v = α + log((e^(−α) + wK)/(1 − wK)), and 0 at w = 0 (e^(−α) may be a subnormal).
        Tensor huge = where(w.eq(S(0)), zeros_like(w), a.add((a.neg().exp().add(kw, One) / S(1).Minus(kw)).log(), One));
        Tensor twoAlphaV = where(twoSinh.isinf(), huge, (w * twoSinh / S(1).Minus(kw)).log1p());
        Tensor vNear = (twoAlphaV / (a * S(2))).clamp(S(0.0), S(0.5));
        Tensor cFar = (s * S(2) / oneMinusS).log1p() / (a * S(2));
        Tensor offset = conditionalMean ? where(near, S(0.5).Minus(vNear), cFar) : where(near, vNear, S(0.5).Minus(cFar));
        Tensor x = n.add(offset.copysign(d), One);
        Tensor identity = alpha.lt(S(SoftRoundFormula.IdentityBelow)).logical_or(y.isinf());
        return where(identity, y, x).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// ∂x/∂y = 2·tanh(α/2) / (α·(1 − s)(1 + s)) of soft_round_inverse, or with <paramref name="conditionalMean"/> of
    /// soft_round_conditional_mean, with 1 − s that does not cancel; 1 where α &lt; 1e−3 and 0 at ±∞.
    /// </summary>
    internal static Tensor Slope(Tensor y, Tensor alpha, bool conditionalMean)
    {
        using var scope = NewDisposeScope();
        Tensor infinite = y.isinf();
        Tensor a = alpha.clamp_min(S(SoftRoundFormula.IdentityBelow));
        (_, Tensor s, Tensor oneMinusS) = Coordinates(a, Stable.AboutNearestInteger(y.masked_fill(infinite, S(0.0))).w, conditionalMean);
        return ((a / S(2)).tanh() * S(2) / (a * oneMinusS * s.add(S(1), One)))
            .masked_fill(alpha.lt(S(SoftRoundFormula.IdentityBelow)), S(1.0)).masked_fill(infinite, S(0.0)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// w, s = (1 − 2w)·tanh(α/2) and 1 − s from the distance a = |y − round(y)|, as <see cref="SoftRoundInverseKernel"/>
    /// defines them: w = a (inverse) or ½ − a (conditional mean), and 1 − s = (1 − tanh(α/2)) + 2w·tanh(α/2) where w ≤ ¼.
    /// </summary>
    private static (Tensor w, Tensor s, Tensor oneMinusS) Coordinates(Tensor alpha, Tensor a, bool conditionalMean)
    {
        Tensor t = (alpha / S(2)).tanh(), q = alpha.neg().exp();
        Tensor w = conditionalMean ? S(0.5).Minus(a) : a;
        Tensor s = (conditionalMean ? a * S(2) : S(1).Minus(a * S(2))) * t;
        Tensor near = (q * S(2) / q.add(S(1), One)).add(w * S(2) * t, One);
        return (w, s, where(w.le(S(0.25)), near, S(1).Minus(s)));
    }

    /// <inheritdoc />
    public static (Tensor? dx, Tensor? da) Partials(Tensor y, Tensor alpha, bool needX, bool needA)
    {
        using var scope = NewDisposeScope();
        Tensor? dx = needX ? Slope(y, alpha, conditionalMean: false).MoveToOuterDisposeScope() : null, da = null;
        if (needA)
        {
            Tensor infinite = y.isinf(), small = alpha.lt(S(SoftRoundFormula.IdentityBelow));
            Tensor a = alpha.clamp_min(S(SoftRoundFormula.IdentityBelow));
            Tensor r = (y - y.floor() - S(0.5)).masked_fill(infinite, S(0.0));
            // Both terms are O(1/α) and cancel to O(α) for small α, so this partial is computed in float64.
            Tensor a64 = a.to(ScalarType.Float64), r64 = r.to(ScalarType.Float64);
            Tensor s64 = r64 * (a64 / S(2)).tanh() * S(2);
            Tensor da64 = r64 * Stable.Sech2(a64 / S(2)) / (a64 * S(1).Minus(s64) * s64.add(S(1), One)) - s64.atanh() / a64.pow(S(2L));
            da = da64.to(y.dtype).masked_fill(small, S(0.0)).masked_fill(infinite, S(0.0)).MoveToOuterDisposeScope();
        }
        return (dx, da);
    }

    /// <inheritdoc />
    public static Tensor KernelValue(Tensor x, double a) => KernelLoop.Forward(new SoftRoundInverseKernel(a, conditionalMean: false), x);

    /// <inheritdoc />
    public static Tensor KernelGradient(Tensor x, double a, Tensor grad) => KernelLoop.Backward(new SoftRoundInverseKernel(a, conditionalMean: false), x, grad);
}
