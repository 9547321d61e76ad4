using System;
using System.Buffers.Binary;
using System.Globalization;

namespace SoftRound.Tf.Entropy;

/// <summary>
/// Writes integer symbols into a byte stream with range asymmetric numeral systems (rANS), each symbol coded with the
/// table its index names in a <see cref="QuantizedCdf"/>. A value inside a table costs −log2(f/2¹⁶) bits; any other
/// int32 is coded as the table's escape followed by its 4-bit bypass digits, so every symbol can be written.
/// <see cref="RansDecoder"/> reads the stream back. The format is in docs/ENTROPY.md §4.
/// </summary>
/// <remarks>
/// CompressAI's <c>RansEncoder.encode_with_indexes(symbols, indexes, cdfs, cdf_lengths, offsets)</c>, with the three
/// lists in one <see cref="QuantizedCdf"/>; tensorflow_compression's <c>range_encoder</c>. An encoder keeps a buffer
/// between calls, so an instance is not for use by several threads at once.
/// </remarks>
public sealed class RansEncoder
{
    private uint[] words = new uint[256];

    /// <summary>
    /// The stream of <paramref name="symbols"/>, symbol i coded with table <paramref name="indexes"/>[i]. The stream is
    /// the final state in 5 to 8 bytes, then 32-bit words, little-endian.
    /// </summary>
    /// <param name="symbols">The symbols: any int32.</param>
    /// <param name="indexes">The table of each symbol, in [0, cdfs.count); as many as symbols.</param>
    /// <param name="cdfs">The tables.</param>
    /// <exception cref="ArgumentNullException"><paramref name="cdfs"/> is null.</exception>
    /// <exception cref="ArgumentException">The lengths of <paramref name="symbols"/> and <paramref name="indexes"/> differ.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside [0, cdfs.count) (the message names its position and value).</exception>
    public byte[] encode_with_indexes(ReadOnlySpan<int> symbols, ReadOnlySpan<int> indexes, QuantizedCdf cdfs)
    {
        const string Name = nameof(RansEncoder) + "." + nameof(encode_with_indexes);
        ArgumentNullException.ThrowIfNull(cdfs, nameof(cdfs));
        CheckIndexes(Name, symbols.Length, indexes, cdfs.count);
        int top = words.Length;
        ulong x = RansFormat.Lower;
        // rANS is last in, first out: the symbols go in backwards so that the decoder reads them forwards.
        for (int i = symbols.Length - 1; i >= 0; i--)
        {
            int index = indexes[i];
            int max = cdfs.length(index) - 2;
            long value = (long)symbols[i] - cdfs.offset(index);
            if (value >= 0 && value < max)
            {
                (uint start, uint freq) = cdfs.Interval(index, (int)value);
                Put(ref x, ref top, start, freq, QuantizedCdf.Precision);
                continue;
            }
            // The escape's payload goes in first, so that it comes out after the escape: the digits from the lowest (read last), then their count.
            ulong raw = RansFormat.ToRaw(value, max);
            int digits = RansFormat.Digits(raw);
            for (int d = 0; d < digits; d++) Put(ref x, ref top, (uint)(raw >> (RansFormat.BypassBits * d)) & 15u, 1, RansFormat.BypassBits);
            Put(ref x, ref top, (uint)digits, 1, RansFormat.BypassBits);
            (uint escapeStart, uint escapeFreq) = cdfs.Interval(index, max);
            Put(ref x, ref top, escapeStart, escapeFreq, QuantizedCdf.Precision);
        }
        int stateBytes = RansFormat.StateBytes(x);
        int wordCount = words.Length - top;
        var stream = new byte[stateBytes + 4 * wordCount];
        Span<byte> state = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(state, x);
        state[..stateBytes].CopyTo(stream);
        for (int w = 0; w < wordCount; w++) BinaryPrimitives.WriteUInt32LittleEndian(stream.AsSpan(stateBytes + 4 * w), words[top + w]);
        return stream;
    }

    /// <summary>x ← C(x): emits the low word first when x would leave [L, 2⁶³), then x = ⌊x/f⌋·2^p + x mod f + start.</summary>
    private void Put(ref ulong x, ref int top, uint start, uint freq, int precision)
    {
        ulong limit = ((RansFormat.Lower >> precision) << 32) * freq;
        if (x >= limit)
        {
            if (top == 0) Grow(ref top);
            words[--top] = (uint)x;
            x >>= 32;
        }
        x = ((x / freq) << precision) + x % freq + start;
    }

    /// <summary>Doubles the word buffer, keeping the words written so far at its end.</summary>
    private void Grow(ref int top)
    {
        var larger = new uint[words.Length * 2];
        words.AsSpan(top).CopyTo(larger.AsSpan(larger.Length - (words.Length - top)));
        top += larger.Length - words.Length;
        words = larger;
    }

    /// <summary>Throws unless there is one index per symbol, each in [0, <paramref name="tables"/>).</summary>
    internal static void CheckIndexes(string member, int symbolCount, ReadOnlySpan<int> indexes, int tables)
    {
        if (indexes.Length != symbolCount)
        {
            throw new ArgumentException($"{member}: {nameof(indexes)} has {indexes.Length} entries for {symbolCount} symbols.", nameof(indexes));
        }
        for (int i = 0; i < indexes.Length; i++)
        {
            if ((uint)indexes[i] >= (uint)tables)
            {
                throw new ArgumentOutOfRangeException(nameof(indexes), indexes[i],
                    $"{member}: {nameof(indexes)}[{i.ToString(CultureInfo.InvariantCulture)}] is {indexes[i]}; expected 0 to {tables - 1}.");
            }
        }
    }
}
