using static TorchSharp.torch;

namespace SoftRound.Tf.Internals;

/// <summary>Reading single values out of tensors.</summary>
internal static class Scalars
{
    /// <summary>The tensor's first element as a double: its value when it has one element, or the value an expanded scalar repeats.</summary>
    public static double First(Tensor t)
    {
        using var scope = NewDisposeScope();
        Tensor first = t;
        while (first.dim() > 0) first = first[0];
        return first.to(ScalarType.Float64).item<double>();
    }
}
