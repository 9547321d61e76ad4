using SoftRound.Tf.Kernels;
using static TorchSharp.torch;

namespace SoftRound.Tf.Internals.Formulas;

/// <summary>
/// ../shared/MATH.md §3: E[X | soft_round(X) + U = y] = soft_round_inverse(y − ½, α) + ½, with the inverse's partials
/// taken at y − ½.
/// </summary>
internal sealed class SoftRoundConditionalMeanFormula : IElementwiseFormula
{
    /// <inheritdoc />
    public static string Name => "SoftRoundConditionalMean";

    /// <inheritdoc />
    public static Tensor Value(Tensor y, Tensor alpha)
    {
        using var scope = NewDisposeScope();
        return (SoftRoundInverseFormula.Value(y - 0.5, alpha) + 0.5).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public static (Tensor? dx, Tensor? da) Partials(Tensor y, Tensor alpha, bool needX, bool needA)
    {
        using Tensor shifted = y - 0.5;
        return SoftRoundInverseFormula.Partials(shifted, alpha, needX, needA);
    }

    /// <inheritdoc />
    public static Tensor KernelValue(Tensor x, double a) => KernelLoop.Forward(new SoftRoundInverseKernel(a, 0.5), x);

    /// <inheritdoc />
    public static Tensor KernelGradient(Tensor x, double a, Tensor grad) => KernelLoop.Backward(new SoftRoundInverseKernel(a, 0.5), x, grad);
}
