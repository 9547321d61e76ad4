using SoftRound.Tf.Kernels;
using static TorchSharp.torch;
using static SoftRound.Tf.Internals.KeptScalars;

namespace SoftRound.Tf.Internals.Formulas;

/// <summary>
/// docs/MATH.md §3: E[X | soft_round(X) + U = y] = soft_round_inverse(y − ½, α) + ½, with the inverse's partials
/// taken at y − ½.
/// </summary>
/// <remarks>
/// The value and ∂x/∂y are evaluated about the nearest integer of y in the forms that
/// <see cref="SoftRoundInverseKernel"/> documents: integers and half-integers map to themselves exactly, and x − round(y)
/// keeps its relative accuracy. ∂x/∂α is the inverse's at y − ½.
/// </remarks>
internal sealed class SoftRoundConditionalMeanFormula : IElementwiseFormula
{
    /// <inheritdoc />
    public static string Name => "SoftRoundConditionalMean";

    /// <inheritdoc />
    public static Tensor Value(Tensor y, Tensor alpha) => SoftRoundInverseFormula.Value(y, alpha, conditionalMean: true);

    /// <inheritdoc />
    public static (Tensor? dx, Tensor? da) Partials(Tensor y, Tensor alpha, bool needX, bool needA)
    {
        using var scope = NewDisposeScope();
        Tensor? dx = needX ? SoftRoundInverseFormula.Slope(y, alpha, conditionalMean: true).MoveToOuterDisposeScope() : null, da = null;
        if (needA) da = SoftRoundInverseFormula.Partials(y - S(0.5), alpha, needX: false, needA: true).da!.MoveToOuterDisposeScope();
        return (dx, da);
    }

    /// <inheritdoc />
    public static Tensor KernelValue(Tensor x, double a) => KernelLoop.Forward(new SoftRoundInverseKernel(a, conditionalMean: true), x);

    /// <inheritdoc />
    public static Tensor KernelGradient(Tensor x, double a, Tensor grad) => KernelLoop.Backward(new SoftRoundInverseKernel(a, conditionalMean: true), x, grad);
}
