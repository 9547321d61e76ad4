using SoftRound.Tf.Kernels;
using static TorchSharp.torch;

namespace SoftRound.Tf.Internals.Formulas;

/// <summary>
/// docs/MATH.md §4: y = round(x) (half to even); the backward pass uses soft_round's ∂y/∂x, and α gets no gradient.
/// </summary>
internal sealed class SteSoftRoundFormula : IElementwiseFormula
{
    /// <inheritdoc />
    public static string Name => "SteSoftRound";

    /// <inheritdoc />
    public static Tensor Value(Tensor x, Tensor alpha) => x.round();

    /// <inheritdoc />
    public static (Tensor? dx, Tensor? da) Partials(Tensor x, Tensor alpha, bool needX, bool needA) =>
        (SoftRoundFormula.Partials(x, alpha, needX, needA: false).dx, null);

    /// <inheritdoc />
    public static Tensor KernelValue(Tensor x, double a) => KernelLoop.Forward(new SteSoftRoundKernel(a), x);

    /// <inheritdoc />
    public static Tensor KernelGradient(Tensor x, double a, Tensor grad) => KernelLoop.Backward(new SteSoftRoundKernel(a), x, grad);
}
