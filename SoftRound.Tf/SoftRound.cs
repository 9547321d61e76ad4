using SoftRound.Tf.Internals.Formulas;
using static TorchSharp.torch;

namespace SoftRound.Tf;

public static partial class SoftRoundOps
{
    private const string SoftRoundName = "SoftRoundOps.soft_round";

    /// <summary>
    /// The continuous soft round of Agustsson &amp; Theis (2020), tensorflow_compression's <c>tfc.soft_round</c>:
    /// y = m + tanh(α·(x − m)) / (2·tanh(α/2)) with m = ⌊x⌋ + ½, and dy/dx = α·sech²(α·(x − m)) / (2·tanh(α/2)).
    /// </summary>
    /// <remarks>
    /// α → ∞ gives round(x); for α &lt; 1e−3 it is the identity (dy/dx = 1). It is C¹-continuous for every α &gt; 0 and
    /// passes through the half-integers. x = ±∞ gives ±∞ with gradient 0; NaN gives NaN.
    /// </remarks>
    /// <param name="x">The input; float16, bfloat16, float32 or float64.</param>
    /// <param name="alpha">The steepness α; finite and ≥ 0.</param>
    /// <returns>A new tensor of x's shape and dtype.</returns>
    /// <exception cref="System.ArgumentNullException"><paramref name="x"/> is null.</exception>
    /// <exception cref="System.ArgumentException"><paramref name="x"/> is not a floating-point tensor.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="alpha"/> is NaN, infinite or &lt; 0.</exception>
    public static Tensor soft_round(Tensor x, double alpha) =>
        Elementwise<SoftRoundFormula>(SoftRoundName, nameof(x), x, nameof(alpha), alpha, allowZero: true);

    /// <summary>
    /// soft_round with a tensor α, which receives the gradient
    /// dy/dα = (2·r·sech²(α·r)·tanh(α/2) − tanh(α·r)·sech²(α/2)) / (4·tanh²(α/2)), r = x − ⌊x⌋ − ½ (0 where α &lt; 1e−3).
    /// </summary>
    /// <remarks>α may be 0-dim or any shape that broadcasts to x's shape; its gradient is summed over the broadcast dimensions.</remarks>
    /// <param name="x">The input; float16, bfloat16, float32 or float64.</param>
    /// <param name="alpha">The steepness; a floating-point tensor whose entries are finite and ≥ 0.</param>
    /// <returns>A new tensor of x's shape and dtype.</returns>
    /// <exception cref="System.ArgumentNullException"><paramref name="x"/> or <paramref name="alpha"/> is null.</exception>
    /// <exception cref="System.ArgumentException">
    /// <paramref name="x"/> or <paramref name="alpha"/> is not a floating-point tensor, or α does not broadcast to x's shape.
    /// </exception>
    /// <exception cref="System.ArgumentOutOfRangeException">An entry of <paramref name="alpha"/> is NaN, infinite or &lt; 0.</exception>
    public static Tensor soft_round(Tensor x, Tensor alpha) =>
        Elementwise<SoftRoundFormula>(SoftRoundName, nameof(x), x, nameof(alpha), alpha, allowZero: true);
}
