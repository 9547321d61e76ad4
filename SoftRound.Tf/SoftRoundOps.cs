using SoftRound.Tf.Internals;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf;

/// <summary>
/// Rounding ops with useful gradients, named as in PyTorch and tensorflow_compression so ported code reads the same.
/// </summary>
/// <remarks>
/// Every op accepts float32 and float64 tensors natively, and float16 and bfloat16 tensors by computing in float32 and
/// returning the input's dtype. Inputs are never modified. Outside autograd (under <c>torch.no_grad()</c>, or when no
/// argument requires a gradient) no graph is recorded and nothing is saved for a backward pass. A tensor steepness is
/// cast to the dtype the op computes in and moved to the input's device; the result has the input's shape and dtype.
/// The entries of a tensor steepness or offset are checked (finite, in range) only for CPU tensors: on another device
/// that would read them to the host, a synchronisation, on every call. Values and formulas are those of docs/MATH.md.
/// </remarks>
public static partial class SoftRoundOps
{
    private static Tensor Elementwise<TFormula>(string op, string xName, Tensor x, string aName, double a, bool allowZero)
        where TFormula : IElementwiseFormula
    {
        OpGuard.FloatingPoint(op, xName, x);
        OpGuard.Steepness(op, aName, a, allowZero);
        return ElementwiseFunction<TFormula>.Run(x, a);
    }

    private static Tensor Elementwise<TFormula>(string op, string xName, Tensor x, string aName, Tensor a, bool allowZero)
        where TFormula : IElementwiseFormula
    {
        OpGuard.FloatingPoint(op, xName, x);
        OpGuard.Steepness(op, aName, a, x, allowZero);
        return ElementwiseFunction<TFormula>.Run(x, a);
    }
}
