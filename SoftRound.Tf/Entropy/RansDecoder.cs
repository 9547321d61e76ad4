using System;
using System.Buffers.Binary;
using System.IO;

namespace SoftRound.Tf.Entropy;

/// <summary>
/// Reads back the symbols a <see cref="RansEncoder"/> wrote, given the same indexes and tables. A stream that is
/// truncated, corrupted or made with other tables gives an <see cref="InvalidDataException"/> when the damage shows
/// (the stream ends early, a bypass count or a value is out of range, or the final state or length is not the
/// encoder's), and otherwise wrong symbols; it never reads outside the stream, loops without end or crashes.
/// </summary>
/// <remarks>
/// CompressAI's <c>RansDecoder.decode_with_indexes(string, indexes, cdfs, cdf_lengths, offsets)</c>, with the three
/// lists in one <see cref="QuantizedCdf"/>. A symbol's table entry is found through a lookup of the slot's top 10 bits
/// and a short scan, where CompressAI scans the table from its start. Instances hold no state between calls.
/// </remarks>
public sealed class RansDecoder
{
    /// <summary>The symbols of <paramref name="stream"/>, symbol i read with table <paramref name="indexes"/>[i].</summary>
    /// <param name="stream">A stream from <see cref="RansEncoder.encode_with_indexes"/>.</param>
    /// <param name="indexes">The table of each symbol, as given to the encoder; in [0, cdfs.count).</param>
    /// <param name="cdfs">The tables, as given to the encoder.</param>
    /// <exception cref="ArgumentNullException"><paramref name="cdfs"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside [0, cdfs.count).</exception>
    /// <exception cref="InvalidDataException">The stream is damaged in a way the decoder can see (see the class).</exception>
    public int[] decode_with_indexes(ReadOnlySpan<byte> stream, ReadOnlySpan<int> indexes, QuantizedCdf cdfs)
    {
        var symbols = new int[indexes.Length];
        decode_with_indexes(stream, indexes, cdfs, symbols);
        return symbols;
    }

    /// <summary>Writes the symbols of <paramref name="stream"/> into <paramref name="symbols"/> (as many as indexes).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="cdfs"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="symbols"/> and <paramref name="indexes"/> differ in length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside [0, cdfs.count).</exception>
    /// <exception cref="InvalidDataException">The stream is damaged in a way the decoder can see (see the class).</exception>
    public void decode_with_indexes(ReadOnlySpan<byte> stream, ReadOnlySpan<int> indexes, QuantizedCdf cdfs, Span<int> symbols) =>
        Decode<Lookup>(stream, indexes, cdfs, symbols);

    /// <summary>The same decoding with CompressAI's linear search for each symbol: the reference the lookup is tested and measured against.</summary>
    internal static void DecodeLinear(ReadOnlySpan<byte> stream, ReadOnlySpan<int> indexes, QuantizedCdf cdfs, Span<int> symbols) =>
        Decode<Linear>(stream, indexes, cdfs, symbols);

    private static void Decode<TFind>(ReadOnlySpan<byte> stream, ReadOnlySpan<int> indexes, QuantizedCdf cdfs, Span<int> symbols)
        where TFind : struct, IFind
    {
        const string Name = nameof(RansDecoder) + "." + nameof(decode_with_indexes);
        ArgumentNullException.ThrowIfNull(cdfs, nameof(cdfs));
        RansEncoder.CheckIndexes(Name, symbols.Length, indexes, cdfs.count);
        int stateBytes = RansFormat.StateBytesOfStream(stream.Length);
        Span<byte> state = stackalloc byte[8];
        state.Clear();
        stream[..stateBytes].CopyTo(state);
        ulong x = BinaryPrimitives.ReadUInt64LittleEndian(state);
        if (x < RansFormat.Lower || x >> 63 != 0) throw RansFormat.Damaged($"its initial state {x} is outside [2^31, 2^63)");
        if (RansFormat.StateBytes(x) != stateBytes) throw RansFormat.Damaged($"its initial state {x} is written in {stateBytes} bytes, where the encoder writes {RansFormat.StateBytes(x)}");
        int position = stateBytes;
        const uint Mask = QuantizedCdf.Total - 1;
        for (int i = 0; i < symbols.Length; i++)
        {
            int index = indexes[i];
            uint slot = (uint)x & Mask;
            int value = default(TFind).Find(cdfs, index, slot, out uint start, out uint freq);
            x = freq * (x >> QuantizedCdf.Precision) + slot - start;
            if (x < RansFormat.Lower) Refill(ref x, stream, ref position);
            int max = cdfs.length(index) - 2;
            long decoded = value;
            if (value == max)
            {
                int digits = (int)Bypass(ref x, stream, ref position);
                if (digits > RansFormat.MaxBypassDigits) throw RansFormat.Damaged($"symbol {i} has {digits} bypass digits; at most {RansFormat.MaxBypassDigits} are written");
                ulong raw = 0;
                for (int d = 0; d < digits; d++) raw = (raw << RansFormat.BypassBits) | Bypass(ref x, stream, ref position);
                decoded = RansFormat.FromRaw(raw, max);
            }
            decoded += cdfs.offset(index);
            if (decoded is < int.MinValue or > int.MaxValue) throw RansFormat.Damaged($"symbol {i} decodes to {decoded}, outside int32");
            symbols[i] = (int)decoded;
        }
        if (x != RansFormat.Lower || position != stream.Length)
        {
            throw RansFormat.Damaged($"it ends in state {x} after {position} of {stream.Length} bytes, where a stream of these symbols ends in state {RansFormat.Lower} after all of them");
        }
    }

    /// <summary>A 4-bit bypass digit: d = x mod 16, x ← ⌊x/16⌋, refilled below L.</summary>
    private static uint Bypass(ref ulong x, ReadOnlySpan<byte> stream, ref int position)
    {
        uint digit = (uint)x & 15u;
        x >>= RansFormat.BypassBits;
        if (x < RansFormat.Lower) Refill(ref x, stream, ref position);
        return digit;
    }

    /// <summary>x ← x·2³² + the next word.</summary>
    private static void Refill(ref ulong x, ReadOnlySpan<byte> stream, ref int position)
    {
        if (position > stream.Length - 4) throw RansFormat.Damaged($"it ends after {stream.Length} bytes, before its symbols do");
        x = (x << 32) | BinaryPrimitives.ReadUInt32LittleEndian(stream[position..]);
        position += 4;
    }

    private interface IFind
    {
        int Find(QuantizedCdf cdfs, int index, uint slot, out uint start, out uint freq);
    }

    private readonly struct Lookup : IFind
    {
        public int Find(QuantizedCdf cdfs, int index, uint slot, out uint start, out uint freq) => cdfs.Find(index, slot, out start, out freq);
    }

    private readonly struct Linear : IFind
    {
        public int Find(QuantizedCdf cdfs, int index, uint slot, out uint start, out uint freq) => cdfs.FindLinear(index, slot, out start, out freq);
    }
}
