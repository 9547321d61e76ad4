using System;
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;
using static SoftRound.Tf.Internals.KeptScalars;

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

    /// <summary>
    /// Throws <see cref="ArgumentException"/> unless <paramref name="t"/> is a floating-point (N, C, H, W) batch with
    /// C = <paramref name="channels"/>: what a convolution block takes.
    /// </summary>
    public static void Images(string op, string param, Tensor t, long channels)
    {
        FloatingPoint(op, param, t);
        if (t.dim() != 4 || t.shape[1] != channels)
        {
            throw new ArgumentException($"{op}: {param} has shape ({string.Join(", ", t.shape)}); expected (N, {channels}, H, W).", param);
        }
    }

    /// <summary>The dtype an op computes in: float32 for float16 and bfloat16, the dtype itself otherwise.</summary>
    public static ScalarType ComputeType(ScalarType dtype) =>
        dtype is ScalarType.Float16 or ScalarType.BFloat16 ? ScalarType.Float32 : dtype;

    /// <summary>
    /// Throws <see cref="ArgumentOutOfRangeException"/> unless <paramref name="value"/> is finite and &gt; 0, or ≥ 0
    /// when <paramref name="allowZero"/>.
    /// </summary>
    public static void Steepness(string op, string param, double value, bool allowZero)
    {
        if (!double.IsFinite(value) || value < 0 || (value == 0 && !allowZero)) throw OutOfRange(op, param, value, allowZero);
    }

    /// <summary>
    /// Validates a tensor steepness: a floating-point tensor that broadcasts to <paramref name="x"/>'s shape and whose
    /// entries are finite and &gt; 0 (≥ 0 when <paramref name="allowZero"/>); the exception names the first bad entry.
    /// </summary>
    public static void Steepness(string op, string param, Tensor value, Tensor x, bool allowZero) =>
        Entries(op, param, value, x, v => v.isfinite().logical_and(allowZero ? v.ge(S(0)) : v.gt(S(0))), bad => OutOfRange(op, param, bad, allowZero));

    /// <summary>
    /// Validates a tensor of positive values (a scale): floating point, broadcasting to <paramref name="x"/>'s shape,
    /// every entry finite and &gt; 0 (the exception names the first bad entry).
    /// </summary>
    public static void Positive(string op, string param, Tensor value, Tensor x) =>
        Entries(op, param, value, x, v => v.isfinite().logical_and(v.gt(S(0))), bad => OutOfRange(op, param, bad, allowZero: false));

    /// <summary>
    /// Throws what <see cref="Positive"/> and <see cref="Finite"/> throw for the first entry of
    /// <paramref name="values"/> (a tensor's values already read) that is not finite (and &gt; 0 when
    /// <paramref name="positive"/>).
    /// </summary>
    public static void Values(string op, string param, double[] values, bool positive)
    {
        foreach (double v in values)
        {
            if (positive && !(double.IsFinite(v) && v > 0)) throw OutOfRange(op, param, v, allowZero: false);
            if (!double.IsFinite(v)) throw NotFinite(op, param, v);
        }
    }

    /// <summary>
    /// Validates a tensor argument of finite values: floating point, broadcasting to <paramref name="x"/>'s shape, with
    /// no NaN or ±∞ (the exception names the first bad entry).
    /// </summary>
    public static void Finite(string op, string param, Tensor value, Tensor x) =>
        Entries(op, param, value, x, v => v.isfinite(), bad => NotFinite(op, param, bad));

    /// <summary>
    /// The checks every tensor argument of values gets: floating point, broadcasting to <paramref name="x"/>'s shape, and
    /// <paramref name="ok"/> true for every entry, else the exception <paramref name="error"/> makes for the first bad one.
    /// </summary>
    /// <remarks>
    /// The entries are scanned only on the CPU: reading them to the host on another device would synchronise it on
    /// every call. There a bad entry is not detected (the layers check their own steepness when it is set).
    /// </remarks>
    private static void Entries(string op, string param, Tensor value, Tensor x, Func<Tensor, Tensor> ok, Func<double, Exception> error)
    {
        FloatingPoint(op, param, value);
        BroadcastsTo(op, param, value, x);
        if (value.device_type != DeviceType.CPU) return;
        using var scope = NewDisposeScope();
        Tensor good = ok(value);
        if (!good.all().item<bool>())
        {
            throw error(value.masked_select(good.logical_not())[0].to(ScalarType.Float64).item<double>());
        }
    }


    /// <summary>
    /// Throws <see cref="ArgumentException"/> unless <paramref name="value"/> broadcasts to the shape of
    /// <paramref name="x"/> without enlarging it.
    /// </summary>
    public static void BroadcastsTo(string op, string param, Tensor value, Tensor x, string target = "x")
    {
        long[] into = x.shape, shape = value.shape;
        bool fits = shape.Length <= into.Length;
        for (int i = 1; fits && i <= shape.Length; i++)
        {
            long s = shape[^i];
            fits = s == 1 || s == into[^i];
        }
        if (!fits)
        {
            throw new ArgumentException(
                $"{op}: {param} has shape {Format(shape)}, which does not broadcast to {target}'s shape {Format(x.shape)}.", param);
        }
    }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> unless <paramref name="value"/> is a defined member of its enum.</summary>
    public static void Defined<TEnum>(string op, string param, TEnum value) where TEnum : struct, Enum
    {
        if (!Enum.IsDefined(value)) throw new ArgumentOutOfRangeException(param, value, $"{op}: {param} is not a {typeof(TEnum).Name}; got {value}.");
    }

    private static ArgumentOutOfRangeException OutOfRange(string op, string param, double value, bool allowZero) =>
        new(param, value, $"{op}: {param} must be finite and {(allowZero ? "at least" : "greater than")} 0; " +
                          $"got {value.ToString(CultureInfo.InvariantCulture)}.");

    private static ArgumentOutOfRangeException NotFinite(string op, string param, double value) =>
        new(param, value, $"{op}: {param} must be finite; got {value.ToString(CultureInfo.InvariantCulture)}.");

    private static string Format(long[] shape) => "(" + string.Join(", ", shape) + ")";
}
