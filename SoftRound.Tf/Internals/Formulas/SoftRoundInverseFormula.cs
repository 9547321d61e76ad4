using SoftRound.Tf.Kernels;
using static TorchSharp.torch;

namespace SoftRound.Tf.Internals.Formulas;

/// <summary>
/// ../shared/MATH.md §3: m = ⌊y⌋ + ½, t = tanh(α/2), s = 2·(y − m)·t, x = m + clip(atanh(s)/α, −½, ½);
/// ∂x/∂y = 2·t / (α·(1 − s²)) and ∂x/∂α = (y − m)·sech²(α/2) / (α·(1 − s²)) − atanh(s)/α².
/// </summary>
/// <remarks>
/// Since |y − m| ≤ ½ exactly, |s| ≤ t and atanh(s)/α lies in [−½, ½] but for rounding: the clip only absorbs rounding
/// (and atanh(±1) = ±∞ where t rounds to 1), so the partials are not zeroed by it, and the fused kernel and this path
/// agree at integers, where atanh(s)/α = ∓½ exactly.
/// </remarks>
/// <remarks>
/// Where α &lt; <see cref="SoftRoundFormula.IdentityBelow"/> it is the identity; the other branch is computed with α
/// clamped to that bound. ±∞ maps to itself with zero partials. The partials grow without bound as |s| → 1, which
/// happens at integers y when α is large (&gt; 15). ∂x/∂α is computed in float64, since its terms cancel for small α.
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
        Tensor m = y.floor() + 0.5;
        Tensor s = (y - m) * (a / 2).tanh() * 2;
        Tensor x = m + (s.atanh() / a).clamp(-0.5, 0.5);
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
        Tensor t = (a / 2).tanh();
        Tensor s = r * t * 2;
        Tensor scale = a * (1 - s) * (1 + s);
        Tensor? dx = null, da = null;
        if (needX)
        {
            dx = (t * 2 / scale).masked_fill(small, 1.0).masked_fill(infinite, 0.0).MoveToOuterDisposeScope();
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
    public static Tensor KernelValue(Tensor x, double a) => KernelLoop.Forward(new SoftRoundInverseKernel(a, 0), x);

    /// <inheritdoc />
    public static Tensor KernelGradient(Tensor x, double a, Tensor grad) => KernelLoop.Backward(new SoftRoundInverseKernel(a, 0), x, grad);
}
