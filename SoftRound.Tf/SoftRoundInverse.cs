using SoftRound.Tf.Internals.Formulas;
using static TorchSharp.torch;

namespace SoftRound.Tf;

public static partial class SoftRoundOps
{
    private const string SoftRoundInverseName = "SoftRoundOps.soft_round_inverse";

    /// <summary>
    /// The inverse of <see cref="soft_round(Tensor, double)"/>, <c>tfc.soft_round_inverse</c>:
    /// x = m + clip(atanh(s)/α, −½, ½) with m = ⌊y⌋ + ½, s = 2·(y − m)·tanh(α/2), and
    /// dx/dy = 2·tanh(α/2) / (α·(1 − s²)).
    /// </summary>
    /// <remarks>
    /// soft_round_inverse(soft_round(x, α), α) = x. For α &lt; 1e−3 it is the identity. |atanh(s)/α| ≤ ½ but for
    /// rounding, so the clip only absorbs rounding and does not zero the gradient. The gradient grows without bound
    /// near integers y when α is large (&gt; 15); the values stay finite through the clip. y = ±∞ gives ±∞ with
    /// gradient 0; NaN gives NaN.
    /// </remarks>
    /// <param name="y">The input; float16, bfloat16, float32 or float64.</param>
    /// <param name="alpha">The steepness α; finite and ≥ 0.</param>
    /// <returns>A new tensor of y's shape and dtype.</returns>
    /// <exception cref="System.ArgumentNullException"><paramref name="y"/> is null.</exception>
    /// <exception cref="System.ArgumentException"><paramref name="y"/> is not a floating-point tensor.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="alpha"/> is NaN, infinite or &lt; 0.</exception>
    public static Tensor soft_round_inverse(Tensor y, double alpha) =>
        Elementwise<SoftRoundInverseFormula>(SoftRoundInverseName, nameof(y), y, nameof(alpha), alpha, allowZero: true);

    /// <summary>
    /// soft_round_inverse with a tensor α, which receives the gradient
    /// dx/dα = (y − m)·sech²(α/2) / (α·(1 − s²)) − atanh(s)/α² (0 where α &lt; 1e−3).
    /// </summary>
    /// <param name="y">The input; float16, bfloat16, float32 or float64.</param>
    /// <param name="alpha">The steepness; a floating-point tensor, broadcastable to y, whose entries are finite and ≥ 0.</param>
    /// <returns>A new tensor of y's shape and dtype.</returns>
    /// <exception cref="System.ArgumentNullException"><paramref name="y"/> or <paramref name="alpha"/> is null.</exception>
    /// <exception cref="System.ArgumentException">
    /// <paramref name="y"/> or <paramref name="alpha"/> is not a floating-point tensor, or α does not broadcast to y's shape.
    /// </exception>
    /// <exception cref="System.ArgumentOutOfRangeException">An entry of <paramref name="alpha"/> is NaN, infinite or &lt; 0.</exception>
    public static Tensor soft_round_inverse(Tensor y, Tensor alpha) =>
        Elementwise<SoftRoundInverseFormula>(SoftRoundInverseName, nameof(y), y, nameof(alpha), alpha, allowZero: true);
}
