using System;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Internals;

/// <summary>Reading values out of tensors into .NET numbers.</summary>
internal static class Scalars
{
    /// <summary>
    /// The tensor's first element as a double: its value when it has one element, or the value an expanded scalar
    /// repeats; read straight from memory for a CPU float32 or float64 tensor.
    /// </summary>
    public static double First(Tensor t)
    {
        if (t.device_type == DeviceType.CPU && t.numel() > 0)
        {
            if (t.dtype == ScalarType.Float32) return t.data<float>()[0];
            if (t.dtype == ScalarType.Float64) return t.data<double>()[0];
        }
        using var scope = NewDisposeScope();
        Tensor first = t;
        while (first.dim() > 0) first = first[0];
        return first.to(ScalarType.Float64).item<double>();
    }

    /// <summary>
    /// All values as doubles in row-major order: read straight from memory (any strides) for a CPU float32 or float64
    /// tensor, with no libtorch operation, which is what makes small tensors cheap; converted by libtorch otherwise.
    /// </summary>
    public static double[] Values(Tensor t)
    {
        if (t.numel() == 0) return Array.Empty<double>();
        if (t.device_type == DeviceType.CPU)
        {
            if (t.dtype == ScalarType.Float64) return t.data<double>().ToArray();
            if (t.dtype == ScalarType.Float32) return Array.ConvertAll(t.data<float>().ToArray(), v => (double)v);
        }
        using Tensor converted = t.detach().to(ScalarType.Float64).cpu();
        return converted.data<double>().ToArray();
    }
}
