using SoftRound.Tf.Internals.Formulas;
using static TorchSharp.torch;

namespace SoftRound.Tf;

public static partial class SoftRoundOps
{
    private const string SteSoftRoundName = "SoftRoundOps.ste_soft_round";

    /// <summary>
    /// Hard rounding with soft_round's gradient: y = round(x) (half to even, as <c>torch.round</c>), and in the backward
    /// pass dy/dx = α·sech²(α·(x − m)) / (2·tanh(α/2)), m = ⌊x⌋ + ½, the derivative of
    /// <see cref="soft_round(Tensor, double)"/>.
    /// </summary>
    /// <remarks>x = ±∞ gives ±∞ with gradient 0; NaN gives NaN. For α &lt; 1e−3 the gradient is 1 (straight-through).</remarks>
    /// <param name="x">The input; float16, bfloat16, float32 or float64.</param>
    /// <param name="alpha">The steepness α of the surrogate gradient; finite and ≥ 0.</param>
    /// <returns>A new tensor of x's shape and dtype.</returns>
    /// <exception cref="System.ArgumentNullException"><paramref name="x"/> is null.</exception>
    /// <exception cref="System.ArgumentException"><paramref name="x"/> is not a floating-point tensor.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="alpha"/> is NaN, infinite or &lt; 0.</exception>
    public static Tensor ste_soft_round(Tensor x, double alpha) =>
        Elementwise<SteSoftRoundFormula>(SteSoftRoundName, nameof(x), x, nameof(alpha), alpha, allowZero: true);
}
