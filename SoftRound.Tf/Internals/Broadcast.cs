using System.Collections.Generic;
using static TorchSharp.torch;

namespace SoftRound.Tf.Internals;

/// <summary>The gradient side of broadcasting.</summary>
internal static class Broadcast
{
    /// <summary>
    /// Sums <paramref name="grad"/> over the dimensions that broadcasting added or expanded, giving a tensor of
    /// <paramref name="shape"/> (PyTorch's <c>sum_to_size</c>).
    /// </summary>
    public static Tensor SumToShape(Tensor grad, long[] shape)
    {
        using var scope = NewDisposeScope();
        Tensor result = grad;
        int lead = (int)grad.dim() - shape.Length;
        if (lead > 0)
        {
            var leading = new long[lead];
            for (int i = 0; i < lead; i++) leading[i] = i;
            result = result.sum(leading);
        }
        var expanded = new List<long>();
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] == 1 && result.shape[i] != 1) expanded.Add(i);
        }
        if (expanded.Count > 0) result = result.sum(expanded.ToArray(), keepdim: true);
        return result.reshape(shape).MoveToOuterDisposeScope();
    }
}
