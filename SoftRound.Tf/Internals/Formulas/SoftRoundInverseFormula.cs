using SoftRound.Tf.Kernels;
using static TorchSharp.torch;

namespace SoftRound.Tf.Internals.Formulas;

/// <summary>
/// docs/MATH.md §3: m = ⌊y⌋ + ½, t = tanh(α/2), s = 2·(y − m)·t, x = m + atanh(s)/α;
/// ∂x/∂y = 2·t / (α·(1 − s²)) and ∂x/∂α = (y − m)·sech²(α/2) / (α·(1 − s²)) − atanh(s)/α².
/// </summary>
/// <remarks>
/// The value and ∂x/∂y are evaluated about the nearest integer n = round(y), d = y − n (exact), a = |d|, with
/// q = e^(−α) and K = 1 − q: x = n + sign(d)·v, 2α·v = log1p(a·2sinh(α)/(1 − aK)), and
/// ∂x/∂y = (1 − q²)/(2α·(q + aK)·(1 − aK)); neither cancels, so integers map to themselves exactly and the derivative
/// there is sinh(α)/α. Where α &lt; <see cref="SoftRoundFormula.IdentityBelow"/> it is the identity; the other branch
/// is computed with α clamped to that bound. ±∞ maps to itself with zero partials. ∂x/∂α is computed in float64, since
/// its terms cancel for small α.
/// </remarks>
internal sealed class SoftRoundInverseFormula : IElementwiseFormula
{
    /// <inheritdoc />
    public static string Name => "SoftRoundInverse";

    /// <inheritdoc />
    public static Tensor Value(Tensor y, Tensor alpha)
    {
        using var scope = NewDisposeScope();
        Tensor a = alpha.clamp_min(SoftRoundFormula.IdentityBelow);
        (Tensor n, Tensor d, Tensor w) = Stable.AboutNearestInteger(y);
        Tensor ka = a.neg().expm1().neg() * w;
        Tensor twoSinh = a.sinh() * 2;
        // Where 2·sinh(α) overflows: 2α·v = α + log((e^(−α) + aK)/(1 − aK)).
        Tensor twoAlphaV = where(twoSinh.isinf(), a + ((a.neg().exp() + ka) / (1 - ka)).log(), (w * twoSinh / (1 - ka)).log1p());
        Tensor x = n + (twoAlphaV / (a * 2)).clamp(0.0, 0.5).copysign(d);
        Tensor identity = alpha.lt(SoftRoundFormula.IdentityBelow).logical_or(y.isinf());
        return where(identity, y, x).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public static (Tensor? dx, Tensor? da) Partials(Tensor y, Tensor alpha, bool needX, bool needA)
    {
        using var scope = NewDisposeScope();
        Tensor infinite = y.isinf(), small = alpha.lt(SoftRoundFormula.IdentityBelow);
        Tensor a = alpha.clamp_min(SoftRoundFormula.IdentityBelow);
        Tensor r = (y - y.floor() - 0.5).masked_fill(infinite, 0.0);
        Tensor? dx = null, da = null;
        if (needX)
        {
            Tensor q = a.neg().exp(), ka = a.neg().expm1().neg() * Stable.AboutNearestInteger(y.masked_fill(infinite, 0.0)).w;
            dx = ((1 - q) * (1 + q) / (a * 2) / ((q + ka) * (1 - ka))).masked_fill(small, 1.0).masked_fill(infinite, 0.0).MoveToOuterDisposeScope();
        }
        if (needA)
        {
            // Both terms are O(1/α) and cancel to O(α) for small α, so this partial is computed in float64.
            Tensor a64 = a.to(ScalarType.Float64), r64 = r.to(ScalarType.Float64);
            Tensor s64 = r64 * (a64 / 2).tanh() * 2;
            Tensor da64 = r64 * Stable.Sech2(a64 / 2) / (a64 * (1 - s64) * (1 + s64)) - s64.atanh() / a64.square();
            da = da64.to(y.dtype).masked_fill(small, 0.0).masked_fill(infinite, 0.0).MoveToOuterDisposeScope();
        }
        return (dx, da);
    }

    /// <inheritdoc />
    public static Tensor KernelValue(Tensor x, double a) => KernelLoop.Forward(new SoftRoundInverseKernel(a, conditionalMean: false), x);

    /// <inheritdoc />
    public static Tensor KernelGradient(Tensor x, double a, Tensor grad) => KernelLoop.Backward(new SoftRoundInverseKernel(a, conditionalMean: false), x, grad);
}
