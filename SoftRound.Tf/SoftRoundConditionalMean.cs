using SoftRound.Tf.Internals.Formulas;
using static TorchSharp.torch;

namespace SoftRound.Tf;

public static partial class SoftRoundOps
{
    private const string SoftRoundConditionalMeanName = "SoftRoundOps.soft_round_conditional_mean";

    /// <summary>
    /// The conditional mean E[X | soft_round(X, α) + U = y], U ~ U(−½, ½), <c>tfc.soft_round_conditional_mean</c>:
    /// soft_round_inverse(y − ½, α) + ½, with the inverse's gradient taken at y − ½.
    /// </summary>
    /// <remarks>
    /// The decoder-side estimate when soft_round plus uniform noise stands in for rounding during training. For large α
    /// it approaches round(y); for α &lt; 1e−3 it is the identity.
    /// </remarks>
    /// <param name="y">The noisy soft-rounded values; float16, bfloat16, float32 or float64.</param>
    /// <param name="alpha">The steepness α; finite and ≥ 0.</param>
    /// <returns>A new tensor of y's shape and dtype.</returns>
    /// <exception cref="System.ArgumentNullException"><paramref name="y"/> is null.</exception>
    /// <exception cref="System.ArgumentException"><paramref name="y"/> is not a floating-point tensor.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="alpha"/> is NaN, infinite or &lt; 0.</exception>
    public static Tensor soft_round_conditional_mean(Tensor y, double alpha) =>
        Elementwise<SoftRoundConditionalMeanFormula>(SoftRoundConditionalMeanName, nameof(y), y, nameof(alpha), alpha, allowZero: true);

    /// <summary>soft_round_conditional_mean with a tensor α, which receives the inverse's α-gradient taken at y − ½.</summary>
    /// <param name="y">The noisy soft-rounded values; float16, bfloat16, float32 or float64.</param>
    /// <param name="alpha">The steepness; a floating-point tensor, broadcastable to y, whose entries are finite and ≥ 0.</param>
    /// <returns>A new tensor of y's shape and dtype.</returns>
    /// <exception cref="System.ArgumentNullException"><paramref name="y"/> or <paramref name="alpha"/> is null.</exception>
    /// <exception cref="System.ArgumentException">
    /// <paramref name="y"/> or <paramref name="alpha"/> is not a floating-point tensor, or α does not broadcast to y's shape.
    /// </exception>
    /// <exception cref="System.ArgumentOutOfRangeException">An entry of <paramref name="alpha"/> is NaN, infinite or &lt; 0.</exception>
    public static Tensor soft_round_conditional_mean(Tensor y, Tensor alpha) =>
        Elementwise<SoftRoundConditionalMeanFormula>(SoftRoundConditionalMeanName, nameof(y), y, nameof(alpha), alpha, allowZero: true);
}
