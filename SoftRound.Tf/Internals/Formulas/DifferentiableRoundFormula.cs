using SoftRound.Tf.Kernels;
using static TorchSharp.torch;
using static SoftRound.Tf.Internals.KeptScalars;

namespace SoftRound.Tf.Internals.Formulas;

/// <summary>
/// docs/MATH.md §1: y = ⌊x⌋ + σ(z), z = k·r, r = x − ⌊x⌋ − ½; ∂y/∂x = k·σ(z)·σ(−z), ∂y/∂k = r·σ(z)·σ(−z); evaluated
/// about the nearest integer n = round(x) with d = x − n and E = exp((k/2)·(2|d| − 1)) = σ(−|z|)/σ(|z|):
/// y = n + sign(d)·E/(1 + E), σ(z)·σ(−z) = E/(1 + E)², r = −sign(d)·(½ − |d|). ±∞ maps to itself with zero partials.
/// </summary>
internal sealed class DifferentiableRoundFormula : IElementwiseFormula
{
    /// <inheritdoc />
    public static string Name => "DifferentiableRound";

    /// <inheritdoc />
    public static Tensor Value(Tensor x, Tensor k)
    {
        using var scope = NewDisposeScope();
        (Tensor n, Tensor d, Tensor w) = Stable.AboutNearestInteger(x);
        Tensor e = Stable.ExpCentred(k / S(2), w);
        Tensor y = n.add((e / e.add(S(1), One)).copysign(d), One);
        return where(x.isinf(), x, y).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public static (Tensor? dx, Tensor? da) Partials(Tensor x, Tensor k, bool needX, bool needA)
    {
        using var scope = NewDisposeScope();
        Tensor infinite = x.isinf();
        (_, Tensor d, Tensor w) = Stable.AboutNearestInteger(x.masked_fill(infinite, S(0.0)));
        Tensor e = Stable.ExpCentred(k / S(2), w);
        Tensor p = (e / e.add(S(1), One).pow(S(2L))).masked_fill(infinite, S(0.0));
        Tensor r = S(0.5).Minus(w).copysign(d).neg();
        return (needX ? (p * k).MoveToOuterDisposeScope() : null, needA ? (p * r).MoveToOuterDisposeScope() : null);
    }

    /// <inheritdoc />
    public static Tensor KernelValue(Tensor x, double a) => KernelLoop.Forward(new DifferentiableRoundKernel(a), x);

    /// <inheritdoc />
    public static Tensor KernelGradient(Tensor x, double a, Tensor grad) => KernelLoop.Backward(new DifferentiableRoundKernel(a), x, grad);
}
