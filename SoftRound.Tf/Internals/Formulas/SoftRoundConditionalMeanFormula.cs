using SoftRound.Tf.Kernels;
using static TorchSharp.torch;

namespace SoftRound.Tf.Internals.Formulas;

/// <summary>
/// docs/MATH.md §3: E[X | soft_round(X) + U = y] = soft_round_inverse(y − ½, α) + ½, with the inverse's partials
/// taken at y − ½.
/// </summary>
/// <remarks>
/// The value and ∂x/∂y are evaluated about the nearest integer n = round(y), d = y − n, a = |d|, with t = tanh(α/2) and
/// s = 2a·t: x = n + sign(d)·c, 2α·c = log1p(2s/(1 − s)), ∂x/∂y = 2t/(α·(1 − s)(1 + s)), where
/// 1 − s = (1 − t) + 2(½ − a)·t for a ≥ ¼ so that it does not cancel as s → 1 (1 − t = 2e^(−α)/(1 + e^(−α))).
/// Half-integers map to themselves exactly, and x − n keeps its relative accuracy. ∂x/∂α is the inverse's at y − ½.
/// </remarks>
internal sealed class SoftRoundConditionalMeanFormula : IElementwiseFormula
{
    /// <inheritdoc />
    public static string Name => "SoftRoundConditionalMean";

    /// <inheritdoc />
    public static Tensor Value(Tensor y, Tensor alpha)
    {
        using var scope = NewDisposeScope();
        Tensor a = alpha.clamp_min(SoftRoundFormula.IdentityBelow);
        (Tensor n, Tensor d, Tensor w) = Stable.AboutNearestInteger(y);
        (Tensor s, Tensor oneMinusS) = S(a, w);
        Tensor x = n + ((s * 2 / oneMinusS).log1p() / (a * 2)).clamp_max(0.5).copysign(d);
        Tensor identity = alpha.lt(SoftRoundFormula.IdentityBelow).logical_or(y.isinf());
        return where(identity, y, x).MoveToOuterDisposeScope();
    }

    /// <summary>s = 2a·tanh(α/2) and 1 − s, the latter as (1 − tanh(α/2)) + 2(½ − a)·tanh(α/2) where a ≥ ¼.</summary>
    private static (Tensor s, Tensor oneMinusS) S(Tensor alpha, Tensor a)
    {
        Tensor t = (alpha / 2).tanh(), q = alpha.neg().exp();
        Tensor s = a * 2 * t;
        Tensor near = q * 2 / (q + 1) + (0.5 - a) * 2 * t;
        return (s, where(a.lt(0.25), 1 - s, near));
    }

    /// <inheritdoc />
    public static (Tensor? dx, Tensor? da) Partials(Tensor y, Tensor alpha, bool needX, bool needA)
    {
        using var scope = NewDisposeScope();
        Tensor? dx = null, da = null;
        if (needX)
        {
            Tensor infinite = y.isinf();
            Tensor a = alpha.clamp_min(SoftRoundFormula.IdentityBelow);
            (Tensor s, Tensor oneMinusS) = S(a, Stable.AboutNearestInteger(y.masked_fill(infinite, 0.0)).w);
            dx = ((a / 2).tanh() * 2 / (a * oneMinusS * (s + 1)))
                .masked_fill(alpha.lt(SoftRoundFormula.IdentityBelow), 1.0).masked_fill(infinite, 0.0).MoveToOuterDisposeScope();
        }
        if (needA) da = SoftRoundInverseFormula.Partials(y - 0.5, alpha, needX: false, needA: true).da!.MoveToOuterDisposeScope();
        return (dx, da);
    }

    /// <inheritdoc />
    public static Tensor KernelValue(Tensor x, double a) => KernelLoop.Forward(new SoftRoundInverseKernel(a, conditionalMean: true), x);

    /// <inheritdoc />
    public static Tensor KernelGradient(Tensor x, double a, Tensor grad) => KernelLoop.Backward(new SoftRoundInverseKernel(a, conditionalMean: true), x, grad);
}
