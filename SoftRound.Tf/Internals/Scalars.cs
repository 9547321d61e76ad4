using System;
using TorchSharp;
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

    /// <summary>
    /// All values as doubles in row-major order: read straight from memory for a contiguous CPU float32 or float64
    /// tensor (no libtorch call, what makes small tensors cheap), converted on libtorch's side otherwise.
    /// </summary>
    public static double[] Values(Tensor t)
    {
        if (t.device_type == DeviceType.CPU && t.is_contiguous())
        {
            if (t.dtype == ScalarType.Float64) return t.data<double>().ToArray();
            if (t.dtype == ScalarType.Float32)
            {
                float[] single = t.data<float>().ToArray();
                return Array.ConvertAll(single, v => (double)v);
            }
        }
        using Tensor converted = t.detach().to(ScalarType.Float64).cpu().contiguous();
        return converted.data<double>().ToArray();
    }
}
