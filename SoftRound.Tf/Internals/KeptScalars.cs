using System;
using System.Collections.Concurrent;
using TorchSharp;

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
}
