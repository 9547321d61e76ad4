using SoftRound.Tf.Kernels;
using static TorchSharp.torch;

namespace SoftRound.Tf.Internals.Formulas;

/// <summary>
/// ../shared/MATH.md §1: y = ⌊x⌋ + σ(z), z = k·r, r = x − ⌊x⌋ − ½; ∂y/∂x = k·σ(z)·σ(−z), ∂y/∂k = r·σ(z)·σ(−z).
/// ±∞ maps to itself with zero partials.
/// </summary>
internal sealed class DifferentiableRoundFormula : IElementwiseFormula
{
    /// <inheritdoc />
    public static string Name => "DifferentiableRound";

    /// <inheritdoc />
    public static Tensor Value(Tensor x, Tensor k)
    {
        using var scope = NewDisposeScope();
        Tensor f = x.floor();
        Tensor y = f + (k * (x - f - 0.5)).sigmoid();
        return where(x.isinf(), x, y).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public static (Tensor? dx, Tensor? da) Partials(Tensor x, Tensor k, bool needX, bool needA)
    {
        using var scope = NewDisposeScope();
        Tensor infinite = x.isinf();
        Tensor r = (x - x.floor() - 0.5).masked_fill(infinite, 0.0);
        Tensor p = Stable.SigmoidProduct(k * r).masked_fill(infinite, 0.0);
        return (needX ? (p * k).MoveToOuterDisposeScope() : null, needA ? (p * r).MoveToOuterDisposeScope() : null);
    }

    /// <inheritdoc />
    public static Tensor KernelValue(Tensor x, double a) => KernelLoop.Forward(new DifferentiableRoundKernel(a), x);

    /// <inheritdoc />
    public static Tensor KernelGradient(Tensor x, double a, Tensor grad) => KernelLoop.Backward(new DifferentiableRoundKernel(a), x, grad);
}
