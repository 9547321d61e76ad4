using System;
using System.Buffers.Binary;
using System.IO;

namespace SoftRound.Tf.Entropy;

/// <summary>
/// Reads back the symbols a <see cref="RansEncoder"/> or <see cref="BufferedRansEncoder"/> wrote, given the same
/// indexes and tables: all at once (<see cref="decode_with_indexes(ReadOnlySpan{byte}, ReadOnlySpan{int}, QuantizedCdf)"/>),
/// or a few at a time from a stream set once (<see cref="set_stream"/>, <see cref="decode_stream(ReadOnlySpan{int}, QuantizedCdf)"/>,
/// <see cref="finish"/>), as an autoregressive model needs. A stream that is truncated, corrupted or made with other
/// tables gives an <see cref="InvalidDataException"/> when the damage shows (the stream ends early, a bypass count or
/// a value is out of range, or the final state or length is not the encoder's), and otherwise wrong symbols; it never
/// reads outside the stream, loops without end or crashes.
/// </summary>
/// <remarks>
/// CompressAI's <c>RansDecoder</c> (<c>decode_with_indexes</c>, <c>set_stream</c>, <c>decode_stream</c>), with the
/// three lists in one <see cref="QuantizedCdf"/>. A symbol's table entry is found through a lookup of the slot's top
/// 10 bits and a short scan, where CompressAI scans the table from its start. CompressAI never checks where a stream
/// ends; <see cref="finish"/> does. The incremental state makes an instance unfit for several threads at once.
/// </remarks>
public sealed class RansDecoder
{
    private byte[]? stream;
    private int position;
    private ulong state;

    /// <summary>Creates a decoder for streams of <paramref name="layout"/> (default this library's).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="layout"/> is not a defined layout.</exception>
    public RansDecoder(RansStreamLayout layout = RansStreamLayout.SoftRound)
    {
        if (!Enum.IsDefined(layout)) throw new ArgumentOutOfRangeException(nameof(layout), layout, $"{nameof(RansDecoder)}: layout {(int)layout} is not a {nameof(RansStreamLayout)}.");
        this.layout = layout;
    }

    /// <summary>The layout of the streams read.</summary>
    public RansStreamLayout layout { get; }

    /// <summary>The symbols of <paramref name="stream"/>, symbol i read with table <paramref name="indexes"/>[i].</summary>
    /// <param name="stream">A whole stream from an encoder of this layout.</param>
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

    /// <summary>Writes the symbols of <paramref name="stream"/> into <paramref name="symbols"/> (as many as indexes); the stream must end with them.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="cdfs"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="symbols"/> and <paramref name="indexes"/> differ in length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside [0, cdfs.count).</exception>
    /// <exception cref="InvalidDataException">The stream is damaged in a way the decoder can see (see the class).</exception>
    public void decode_with_indexes(ReadOnlySpan<byte> stream, ReadOnlySpan<int> indexes, QuantizedCdf cdfs, Span<int> symbols)
    {
        const string Member = nameof(decode_with_indexes);
        Check(Member, indexes, cdfs, symbols);
        ulong x = Start(Member, stream, layout, out int at);
        Decode<Lookup>(Member, stream, layout, ref x, ref at, indexes, cdfs, symbols);
        End(Member, stream, x, at);
    }

    /// <summary>
    /// Starts reading <paramref name="stream"/> (a copy is kept) for <see cref="decode_stream(ReadOnlySpan{int}, QuantizedCdf)"/>;
    /// replaces any stream set before.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    /// <exception cref="InvalidDataException">The stream is too short, or its initial state is not one an encoder writes; no stream is set then.</exception>
    public void set_stream(byte[] stream)
    {
        ArgumentNullException.ThrowIfNull(stream, nameof(stream));
        this.stream = null;
        byte[] copy = (byte[])stream.Clone();
        state = Start(nameof(set_stream), copy, layout, out position);
        this.stream = copy;
    }

    /// <summary>The next <paramref name="indexes"/>.Length symbols of the stream set, symbol i read with table <paramref name="indexes"/>[i].</summary>
    /// <exception cref="InvalidOperationException">No stream is set.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="cdfs"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside [0, cdfs.count).</exception>
    /// <exception cref="InvalidDataException">The stream is damaged in a way the decoder can see; the stream is unset then.</exception>
    public int[] decode_stream(ReadOnlySpan<int> indexes, QuantizedCdf cdfs)
    {
        var symbols = new int[indexes.Length];
        decode_stream(indexes, cdfs, symbols);
        return symbols;
    }

    /// <summary>Writes the next symbols of the stream set into <paramref name="symbols"/> (as many as indexes).</summary>
    /// <exception cref="InvalidOperationException">No stream is set.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="cdfs"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="symbols"/> and <paramref name="indexes"/> differ in length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside [0, cdfs.count).</exception>
    /// <exception cref="InvalidDataException">The stream is damaged in a way the decoder can see; the stream is unset then.</exception>
    public void decode_stream(ReadOnlySpan<int> indexes, QuantizedCdf cdfs, Span<int> symbols)
    {
        const string Member = nameof(decode_stream);
        byte[] current = Current(Member);
        Check(Member, indexes, cdfs, symbols);
        ulong x = state;
        int at = position;
        try
        {
            Decode<Lookup>(Member, current, layout, ref x, ref at, indexes, cdfs, symbols);
        }
        catch (InvalidDataException)
        {
            stream = null;
            throw;
        }
        state = x;
        position = at;
    }

    /// <summary>Checks that the stream set ended with the symbols read (its state and length are the encoder's), and unsets it.</summary>
    /// <exception cref="InvalidOperationException">No stream is set.</exception>
    /// <exception cref="InvalidDataException">The stream holds more than was read, or was damaged.</exception>
    public void finish()
    {
        byte[] current = Current(nameof(finish));
        stream = null;
        End(nameof(finish), current, state, position);
    }

    /// <summary>The same decoding with CompressAI's linear search for each symbol: the reference the lookup is tested and measured against.</summary>
    internal static void DecodeLinear(ReadOnlySpan<byte> stream, ReadOnlySpan<int> indexes, QuantizedCdf cdfs, Span<int> symbols)
    {
        const string Member = nameof(decode_with_indexes);
        Check(Member, indexes, cdfs, symbols);
        ulong x = Start(Member, stream, RansStreamLayout.SoftRound, out int at);
        Decode<Linear>(Member, stream, RansStreamLayout.SoftRound, ref x, ref at, indexes, cdfs, symbols);
        End(Member, stream, x, at);
    }

    private byte[] Current(string member) =>
        stream ?? throw new InvalidOperationException($"{nameof(RansDecoder)}.{member}: no stream is set; call set_stream first.");

    private static void Check(string member, ReadOnlySpan<int> indexes, QuantizedCdf cdfs, Span<int> symbols)
    {
        ArgumentNullException.ThrowIfNull(cdfs, nameof(cdfs));
        RansFormat.CheckIndexes($"{nameof(RansDecoder)}.{member}", symbols.Length, indexes, cdfs.count);
    }

    /// <summary>The initial state, read as <paramref name="layout"/> writes it; <paramref name="at"/> is the first word's position.</summary>
    private static ulong Start(string member, ReadOnlySpan<byte> stream, RansStreamLayout layout, out int at)
    {
        int stateBytes;
        if (layout == RansStreamLayout.SoftRound)
        {
            stateBytes = RansFormat.StateBytesOfStream(member, stream.Length);
        }
        else
        {
            if (stream.Length < 8 || stream.Length % 4 != 0) throw RansFormat.Damaged(member, $"it has {stream.Length} bytes, where CompressAI's layout writes 8 or more, a multiple of 4");
            stateBytes = 8;
        }
        Span<byte> bytes = stackalloc byte[8];
        bytes.Clear();
        stream[..stateBytes].CopyTo(bytes);
        ulong x = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (x < RansFormat.Lower || x >> 63 != 0) throw RansFormat.Damaged(member, $"its initial state {x} is outside [2^31, 2^63)");
        if (layout == RansStreamLayout.SoftRound && RansFormat.StateBytes(x) != stateBytes)
        {
            throw RansFormat.Damaged(member, $"its initial state {x} is written in {stateBytes} bytes, where the encoder writes {RansFormat.StateBytes(x)}");
        }
        at = stateBytes;
        return x;
    }

    private static void End(string member, ReadOnlySpan<byte> stream, ulong x, int at)
    {
        if (x != RansFormat.Lower || at != stream.Length)
        {
            throw RansFormat.Damaged(member, $"it ends in state {x} after {at} of {stream.Length} bytes, where a stream of these symbols ends in state {RansFormat.Lower} after all of them");
        }
    }

    private static void Decode<TFind>(string member, ReadOnlySpan<byte> stream, RansStreamLayout layout, ref ulong state, ref int at,
        ReadOnlySpan<int> indexes, QuantizedCdf cdfs, Span<int> symbols)
        where TFind : struct, IFind
    {
        ulong x = state;
        int position = at;
        const uint Mask = QuantizedCdf.Total - 1;
        for (int i = 0; i < symbols.Length; i++)
        {
            int index = indexes[i];
            uint slot = (uint)x & Mask;
            int value = default(TFind).Find(cdfs, index, slot, out uint start, out uint freq);
            x = freq * (x >> QuantizedCdf.Precision) + slot - start;
            if (x < RansFormat.Lower) Refill(member, ref x, stream, ref position);
            int max = cdfs.length(index) - 2;
            long decoded = value;
            if (value == max) decoded = Escaped(member, layout, i, max, ref x, stream, ref position);
            decoded += cdfs.offset(index);
            if (decoded is < int.MinValue or > int.MaxValue) throw RansFormat.Damaged(member, $"symbol {i} decodes to {decoded}, outside int32");
            symbols[i] = (int)decoded;
        }
        state = x;
        at = position;
    }

    /// <summary>The value after an escape, read from its bypass count and digits as <paramref name="layout"/> writes them.</summary>
    private static long Escaped(string member, RansStreamLayout layout, int i, int max, ref ulong x, ReadOnlySpan<byte> stream, ref int position)
    {
        int digits = (int)Bypass(member, ref x, stream, ref position);
        if (layout == RansStreamLayout.CompressAI)
        {
            for (uint more = (uint)digits; more == RansFormat.DigitMask && digits <= RansFormat.MaxBypassDigits;)
            {
                more = Bypass(member, ref x, stream, ref position);
                digits += (int)more;
            }
        }
        if (digits > RansFormat.MaxBypassDigits) throw RansFormat.Damaged(member, $"symbol {i} has {digits} bypass digits; at most {RansFormat.MaxBypassDigits} are written");
        ulong raw = 0;
        for (int d = 0; d < digits; d++)
        {
            ulong digit = Bypass(member, ref x, stream, ref position);
            raw = layout == RansStreamLayout.SoftRound ? (raw << RansFormat.BypassBits) | digit : raw | (digit << (RansFormat.BypassBits * d));
        }
        return RansFormat.FromRaw(raw, max);
    }

    /// <summary>A 4-bit bypass digit: d = x mod 16, x ← ⌊x/16⌋, refilled below L.</summary>
    private static uint Bypass(string member, ref ulong x, ReadOnlySpan<byte> stream, ref int position)
    {
        uint digit = (uint)x & RansFormat.DigitMask;
        x >>= RansFormat.BypassBits;
        if (x < RansFormat.Lower) Refill(member, ref x, stream, ref position);
        return digit;
    }

    /// <summary>x ← x·2³² + the next word.</summary>
    private static void Refill(string member, ref ulong x, ReadOnlySpan<byte> stream, ref int position)
    {
        if (position > stream.Length - 4) throw RansFormat.Damaged(member, $"it ends after {stream.Length} bytes, before its symbols do");
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
