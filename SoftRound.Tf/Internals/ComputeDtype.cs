using System;
using static TorchSharp.torch;

namespace SoftRound.Tf.Internals;

/// <summary>The dtype rule every op follows: float16 and bfloat16 are computed in float32 and returned in their own dtype.</summary>
internal static class ComputeDtype
{
    /// <summary>
    /// Casts x (and a, also moved to x's device) to x's compute dtype, runs <paramref name="op"/>, and casts its result
    /// back to x's dtype. Intermediate tensors are disposed.
    /// </summary>
    public static Tensor Run(Tensor x, Tensor? a, Func<Tensor, Tensor?, Tensor> op)
    {
        using var scope = NewDisposeScope();
        ScalarType compute = OpGuard.ComputeType(x.dtype);
        Tensor y = op(x.to(compute), a?.to(compute, x.device));
        return y.to(x.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>Whether an op on these inputs must record an autograd node.</summary>
    public static bool NeedsGraph(Tensor x, Tensor? a = null) =>
        is_grad_enabled() && (x.requires_grad || a is { requires_grad: true });
}
