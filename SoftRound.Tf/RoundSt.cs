using SoftRound.Tf.Internals;
using static TorchSharp.torch;

namespace SoftRound.Tf;

public static partial class SoftRoundOps
{
    private const string RoundStName = "SoftRoundOps.round_st";

    /// <summary>
    /// Straight-through rounding, <c>tfc.round_st</c>: y = round(x − o) + o (half to even, as <c>torch.round</c> and
    /// <c>tf.round</c>), or round(x) without an offset; dy/dx = 1, so the incoming gradient passes to x unchanged, and
    /// dy/do = 0.
    /// </summary>
    /// <remarks>
    /// The offset's gradient is zero whichever of x and the offset requires a gradient, as
    /// <c>tfc.round_st</c> and CompressAI's <c>quantize_ste(x − o) + o</c> compute it (tensorflow_compression reports
    /// no gradient, PyTorch a zero one; an offset that requires a gradient gets a zero tensor here). ±∞ and NaN pass
    /// through, and so does their gradient.
    /// </remarks>
    /// <param name="x">The input; float16, bfloat16, float32 or float64.</param>
    /// <param name="offset">An optional quantization offset o: a floating-point tensor of finite values that broadcasts to x.</param>
    /// <returns>A new tensor of x's shape and dtype.</returns>
    /// <exception cref="System.ArgumentNullException"><paramref name="x"/> is null.</exception>
    /// <exception cref="System.ArgumentException">
    /// <paramref name="x"/> or <paramref name="offset"/> is not a floating-point tensor, or the offset does not broadcast to x.
    /// </exception>
    /// <exception cref="System.ArgumentOutOfRangeException">An entry of <paramref name="offset"/> is NaN or infinite.</exception>
    public static Tensor round_st(Tensor x, Tensor? offset = null)
    {
        OpGuard.FloatingPoint(RoundStName, nameof(x), x);
        if (offset is not null) OpGuard.Finite(RoundStName, nameof(offset), offset, x);
        return ComputeDtype.Run(x, offset, (xc, oc) =>
            ComputeDtype.NeedsGraph(xc, oc) ? RoundStFunction.apply(xc, oc!) : RoundStFunction.Value(xc, oc));
    }
}
