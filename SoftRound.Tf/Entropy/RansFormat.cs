using System;
using System.Globalization;
using System.IO;

namespace SoftRound.Tf.Entropy;

/// <summary>
/// The stream format shared by <see cref="RansEncoder"/> and <see cref="RansDecoder"/> (docs/ENTROPY.md §4): a 64-bit
/// rANS state x ∈ [2³¹, 2⁶³) renormalised in 32-bit words, 16-bit symbol frequencies, and an escape symbol followed by
/// 4-bit bypass digits for values outside a table.
/// </summary>
internal static class RansFormat
{
    /// <summary>The lower bound L = 2³¹ of the state, and the state a stream starts and ends in.</summary>
    public const ulong Lower = 1UL << 31;

    /// <summary>The bits of a bypass digit.</summary>
    public const int BypassBits = 4;

    /// <summary>The largest number of bypass digits (36 bits hold every raw value, &lt; 2³⁴).</summary>
    public const int MaxBypassDigits = 9;

    /// <summary>The largest bypass digit, 15.</summary>
    public const int DigitMask = (1 << BypassBits) - 1;

    /// <summary>Digit <paramref name="d"/> of <paramref name="raw"/>, 0 the least significant.</summary>
    public static uint Digit(ulong raw, int d) => (uint)(raw >> (BypassBits * d)) & DigitMask;

    /// <summary>One coded item: the interval [start, start + freq) out of 2^bits, coded into rANS state <c>State</c> (0 or 1).</summary>
    public readonly record struct Item(uint Start, uint Freq, int Bits, int State)
    {
        /// <summary>A bypass digit: frequency 1 out of 2⁴.</summary>
        public static Item Bypass(uint digit, int state) => new(digit, 1, BypassBits, state);
    }

    /// <summary>The bytes a final state takes in the interleaved layout: the fewest that hold it, at least 4.</summary>
    public static int InterleavedStateBytes(ulong state) => Math.Max(4, Bytes(state));

    /// <summary>The fewest bytes that hold <paramref name="state"/>.</summary>
    private static int Bytes(ulong state) => (64 - System.Numerics.BitOperations.LeadingZeroCount(state) + 7) / 8;

    /// <summary>Throws unless there is one index per symbol, each in [0, <paramref name="tables"/>).</summary>
    public static void CheckIndexes(string member, int symbolCount, ReadOnlySpan<int> indexes, int tables)
    {
        if (indexes.Length != symbolCount)
        {
            throw new ArgumentException($"{member}: indexes has {indexes.Length} entries for {symbolCount} symbols.", "indexes");
        }
        for (int i = 0; i < indexes.Length; i++)
        {
            if ((uint)indexes[i] >= (uint)tables)
            {
                throw new ArgumentOutOfRangeException("indexes", indexes[i],
                    $"{member}: indexes[{i.ToString(CultureInfo.InvariantCulture)}] is {indexes[i]}; expected 0 to {tables - 1}.");
            }
        }
    }

    /// <summary>
    /// The raw value r ≥ 0 of a value v outside [0, max): r = −2v − 1 below the table, r = 2(v − max) above it.
    /// </summary>
    public static ulong ToRaw(long value, int max) => value < 0 ? (ulong)(-2 * value - 1) : (ulong)(2 * (value - max));

    /// <summary>The value whose <see cref="ToRaw"/> is <paramref name="raw"/>: odd r below the table, even r above.</summary>
    public static long FromRaw(ulong raw, int max) => (raw & 1) == 1 ? -(long)((raw + 1) >> 1) : (long)(raw >> 1) + max;

    /// <summary>The number of bypass digits of <paramref name="raw"/>: 0 for 0.</summary>
    public static int Digits(ulong raw)
    {
        int n = 0;
        while (n < MaxBypassDigits && raw >> (BypassBits * n) != 0) n++;
        return n;
    }

    /// <summary>
    /// The bytes the final state is written in: the fewest that hold it, but at least 5, so that the stream's length
    /// modulo 4 tells the decoder (5, 6, 7 and 8 bytes leave remainders 1, 2, 3 and 0).
    /// </summary>
    public static int StateBytes(ulong state) => Math.Max(5, Bytes(state));

    /// <summary>The number of state bytes a stream of <paramref name="length"/> bytes starts with.</summary>
    /// <exception cref="InvalidDataException">The stream is shorter than the shortest valid one (5 bytes).</exception>
    public static int StateBytesOfStream(string member, int length)
    {
        if (length < 5) throw Damaged(member, $"it has {length} bytes, fewer than the 5 of every stream");
        int remainder = length % 4;
        return remainder == 0 ? 8 : 4 + remainder;
    }

    /// <summary>The exception for a stream the decoder sees is damaged, saying what it saw.</summary>
    public static InvalidDataException Damaged(string member, string what) =>
        new($"{nameof(RansDecoder)}.{member}: the stream is truncated, corrupted or was written with other tables or indexes: {what}.");
}
