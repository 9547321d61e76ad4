using System;
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Internals;

/// <summary>Argument checks shared by every op; each throws before any input or state is touched.</summary>
internal static class OpGuard
{
    /// <summary>Throws <see cref="ArgumentNullException"/> when <paramref name="t"/> is null.</summary>
    public static void NotNull(string op, string param, Tensor? t)
    {
        if (t is null) throw new ArgumentNullException(param, $"{op}: {param} is null.");
    }

    /// <summary>
    /// Throws <see cref="ArgumentException"/> unless <paramref name="t"/> is float16, bfloat16, float32 or float64.
    /// </summary>
    public static void FloatingPoint(string op, string param, Tensor t)
    {
        NotNull(op, param, t);
        if (t.dtype is not (ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float32 or ScalarType.Float64))
        {
            throw new ArgumentException(
                $"{op}: {param} has dtype {t.dtype}; expected float16, bfloat16, float32 or float64.", param);
        }
    }

    /// <summary>The dtype an op computes in: float32 for float16 and bfloat16, the dtype itself otherwise.</summary>
    public static ScalarType ComputeType(ScalarType dtype) =>
        dtype is ScalarType.Float16 or ScalarType.BFloat16 ? ScalarType.Float32 : dtype;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> unless <paramref name="value"/> is finite and &gt; 0.</summary>
    public static void PositiveFinite(string op, string param, double value)
    {
        if (!double.IsFinite(value) || value <= 0) throw NotPositiveFinite(op, param, value);
    }

    /// <summary>
    /// Throws <see cref="ArgumentOutOfRangeException"/>, naming the first offending entry, unless every entry of
    /// <paramref name="value"/> is finite and &gt; 0.
    /// </summary>
    public static void PositiveFinite(string op, string param, Tensor value)
    {
        using var scope = NewDisposeScope();
        Tensor bad = value.isfinite().logical_and(value.gt(0)).logical_not();
        if (bad.any().item<bool>())
        {
            throw NotPositiveFinite(op, param, value.masked_select(bad)[0].to(ScalarType.Float64).item<double>());
        }
    }

    /// <summary>
    /// Throws <see cref="ArgumentException"/> unless <paramref name="value"/> broadcasts to the shape of
    /// <paramref name="x"/> without enlarging it.
    /// </summary>
    public static void BroadcastsTo(string op, string param, Tensor value, Tensor x)
    {
        long[] target = x.shape, shape = value.shape;
        bool fits = shape.Length <= target.Length;
        for (int i = 1; fits && i <= shape.Length; i++)
        {
            long s = shape[^i];
            fits = s == 1 || s == target[^i];
        }
        if (!fits)
        {
            throw new ArgumentException(
                $"{op}: {param} has shape {Format(shape)}, which does not broadcast to x's shape {Format(target)}.", param);
        }
    }

    private static ArgumentOutOfRangeException NotPositiveFinite(string op, string param, double value) =>
        new(param, value, $"{op}: {param} must be finite and greater than 0; got {value.ToString(CultureInfo.InvariantCulture)}.");

    private static string Format(long[] shape) => "(" + string.Join(", ", shape) + ")";
}
