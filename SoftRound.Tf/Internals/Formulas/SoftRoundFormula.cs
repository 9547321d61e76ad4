using SoftRound.Tf.Kernels;
using static TorchSharp.torch;

namespace SoftRound.Tf.Internals.Formulas;

/// <summary>
/// ../shared/MATH.md §2, Agustsson &amp; Theis (2020): m = ⌊x⌋ + ½, r = x − m, D = 2·tanh(α/2),
/// y = m + tanh(α·r)/D; ∂y/∂x = α·sech²(α·r)/D;
/// ∂y/∂α = (2·r·sech²(α·r)·tanh(α/2) − tanh(α·r)·sech²(α/2)) / (4·tanh²(α/2)).
/// </summary>
/// <remarks>
/// Where α &lt; <see cref="IdentityBelow"/> it is the identity (∂y/∂x = 1, ∂y/∂α = 0); the other branch is computed
/// with α clamped to that bound so it yields no NaN. ±∞ maps to itself with zero partials. tanh(α·r)/D is clamped to
/// [−½, ½], which it cannot leave but for rounding: so y(n) = n exactly at integers n, and y stays monotone across them. ∂y/∂α is computed in
/// float64, since its numerator cancels for small α.
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
        Tensor a = alpha.clamp_min(IdentityBelow);
        Tensor m = x.floor() + 0.5;
        Tensor y = m + ((a * (x - m)).tanh() / ((a / 2).tanh() * 2)).clamp(-0.5, 0.5);
        Tensor identity = alpha.lt(IdentityBelow).logical_or(x.isinf());
        return where(identity, x, y).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public static (Tensor? dx, Tensor? da) Partials(Tensor x, Tensor alpha, bool needX, bool needA)
    {
        using var scope = NewDisposeScope();
        Tensor infinite = x.isinf(), small = alpha.lt(IdentityBelow);
        Tensor a = alpha.clamp_min(IdentityBelow);
        Tensor r = (x - x.floor() - 0.5).masked_fill(infinite, 0.0);
        Tensor t = (a / 2).tanh();
        Tensor sech2 = Stable.Sech2(a * r);
        Tensor? dx = null, da = null;
        if (needX)
        {
            dx = (a * sech2 / (t * 2)).masked_fill(small, 1.0).masked_fill(infinite, 0.0).MoveToOuterDisposeScope();
        }
        if (needA)
        {
            // The two terms of the numerator cancel to O(α³) for small α: computed in float64, the relative error stays
            // near 1e−16/α² (1e−10 at α = 1e−3) instead of 1e−7/α² in float32.
            Tensor a64 = a.to(ScalarType.Float64), r64 = r.to(ScalarType.Float64), t64 = (a64 / 2).tanh();
            Tensor numerator = r64 * Stable.Sech2(a64 * r64) * t64 * 2 - (a64 * r64).tanh() * Stable.Sech2(a64 / 2);
            da = (numerator / (t64.square() * 4)).to(x.dtype)
                .masked_fill(small, 0.0).masked_fill(infinite, 0.0).MoveToOuterDisposeScope();
        }
        return (dx, da);
    }

    /// <inheritdoc />
    public static Tensor KernelValue(Tensor x, double a) => KernelLoop.Forward(new SoftRoundKernel(a), x);

    /// <inheritdoc />
    public static Tensor KernelGradient(Tensor x, double a, Tensor grad) => KernelLoop.Backward(new SoftRoundKernel(a), x, grad);
}
