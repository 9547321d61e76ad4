using System;
using System.Collections.Concurrent;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Internals;

/// <summary>
/// Constant <see cref="Scalar"/>s that live as long as the process. TorchSharp 0.107 turns a number in a tensor
/// expression (<c>x * 0.5</c>, <c>x.clamp_min(0)</c>) into a temporary Scalar whose native handle it passes to libtorch
/// with nothing keeping the Scalar alive: a garbage collection started by another thread during the call can finalize
/// it, and libtorch then reads freed memory ("Expected false to be true" from <c>c10::Scalar::toDouble</c>). The library
/// writes <c>x * S(0.5)</c> for a constant and <c>using Scalar s = value.ToScalar();</c> for a value that varies; the
/// build refuses the implicit forms (eng/analyzers, rule SRTF001).
/// </summary>
internal static class KeptScalars
{
    private static readonly ConcurrentDictionary<long, Scalar> Doubles = new(), Integers = new();

    /// <summary>The floating-point Scalar <paramref name="value"/> (the same object every call; −0 and +0 apart). Constants only: each value is kept for good.</summary>
    public static Scalar S(double value) => Doubles.GetOrAdd(BitConverter.DoubleToInt64Bits(value), bits => BitConverter.Int64BitsToDouble(bits).ToScalar());

    /// <summary>The integer Scalar <paramref name="value"/> (the same object every call). Constants only: each value is kept for good.</summary>
    public static Scalar S(long value) => Integers.GetOrAdd(value, v => v.ToScalar());

    /// <summary>
    /// The integer Scalar 1, the alpha of <c>a.add(b, One)</c> = a + b: TorchSharp's <c>a + b</c> and <c>add(b)</c> call
    /// <c>add(b, 1)</c> with a temporary Scalar of their own.
    /// </summary>
    public static readonly Scalar One = S(1L);

    /// <summary>
    /// y = <paramref name="s"/> − <paramref name="x"/>, computed as TorchSharp's <c>s - x</c> computes it (−x + s, the
    /// same rounding) but with a kept alpha: TorchSharp's operator adds with a temporary Scalar 1 of its own.
    /// </summary>
    public static Tensor Minus(this Scalar s, Tensor x) => x.neg().add(s, One);
}
