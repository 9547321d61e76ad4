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
    private ulong state, state1;
    private long decoded;

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
        (ulong x, ulong y) = Start(Member, stream, layout, out int at);
        Decode<Lookup>(Member, stream, layout, ref x, ref y, ref at, 0, indexes, cdfs, symbols);
        End(Member, stream, x, y, at);
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
        (state, state1) = Start(nameof(set_stream), copy, layout, out position);
        decoded = 0;
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
        ulong x = state, y = state1;
        int at = position;
        try
        {
            Decode<Lookup>(Member, current, layout, ref x, ref y, ref at, decoded, indexes, cdfs, symbols);
        }
        catch (InvalidDataException)
        {
            stream = null;
            throw;
        }
        (state, state1, position) = (x, y, at);
        decoded += symbols.Length;
    }

    /// <summary>Checks that the stream set ended with the symbols read (its state and length are the encoder's), and unsets it.</summary>
    /// <exception cref="InvalidOperationException">No stream is set.</exception>
    /// <exception cref="InvalidDataException">The stream holds more than was read, or was damaged.</exception>
    public void finish()
    {
        byte[] current = Current(nameof(finish));
        stream = null;
        End(nameof(finish), current, state, state1, position);
    }

    /// <summary>The same decoding with CompressAI's linear search for each symbol: the reference the lookup is tested and measured against.</summary>
    internal static void DecodeLinear(ReadOnlySpan<byte> stream, ReadOnlySpan<int> indexes, QuantizedCdf cdfs, Span<int> symbols)
    {
        const string Member = nameof(decode_with_indexes);
        Check(Member, indexes, cdfs, symbols);
        (ulong x, ulong y) = Start(Member, stream, RansStreamLayout.SoftRound, out int at);
        Decode<Linear>(Member, stream, RansStreamLayout.SoftRound, ref x, ref y, ref at, 0, indexes, cdfs, symbols);
        End(Member, stream, x, y, at);
    }

    private byte[] Current(string member) =>
        stream ?? throw new InvalidOperationException($"{nameof(RansDecoder)}.{member}: no stream is set; call set_stream first.");

    private static void Check(string member, ReadOnlySpan<int> indexes, QuantizedCdf cdfs, Span<int> symbols)
    {
        ArgumentNullException.ThrowIfNull(cdfs, nameof(cdfs));
        RansFormat.CheckIndexes($"{nameof(RansDecoder)}.{member}", symbols.Length, indexes, cdfs.count);
    }

    /// <summary>
    /// The initial states, read as <paramref name="layout"/> writes them (the second is L, unused, but in the
    /// interleaved layout); <paramref name="at"/> is the first word's position.
    /// </summary>
    private static (ulong, ulong) Start(string member, ReadOnlySpan<byte> stream, RansStreamLayout layout, out int at)
    {
        if (layout == RansStreamLayout.Interleaved)
        {
            if (stream.Length < 9) throw RansFormat.Damaged(member, $"it has {stream.Length} bytes, fewer than the 9 of every interleaved stream");
            int k0 = (stream[0] & 15) + 4, k1 = (stream[0] >> 4) + 4;
            if (k0 > 8 || k1 > 8) throw RansFormat.Damaged(member, $"its header byte {stream[0]} gives states of {k0} and {k1} bytes, where the encoder writes 4 to 8");
            if (stream.Length < 1 + k0 + k1) throw RansFormat.Damaged(member, $"it has {stream.Length} bytes, fewer than its header and states ({1 + k0 + k1})");
            ulong x0 = State(member, stream.Slice(1, k0), RansFormat.InterleavedStateBytes), x1 = State(member, stream.Slice(1 + k0, k1), RansFormat.InterleavedStateBytes);
            at = 1 + k0 + k1;
            return (x0, x1);
        }
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
        at = stateBytes;
        return (State(member, stream[..stateBytes], layout == RansStreamLayout.SoftRound ? RansFormat.StateBytes : null), RansFormat.Lower);
    }

    /// <summary>
    /// A state written little-endian in <paramref name="source"/>, in [L, 2⁶³), and in the bytes
    /// <paramref name="fewest"/> says the encoder writes it in (null: any).
    /// </summary>
    private static ulong State(string member, ReadOnlySpan<byte> source, Func<ulong, int>? fewest)
    {
        Span<byte> buffer = stackalloc byte[8];
        buffer.Clear();
        source.CopyTo(buffer);
        ulong x = BinaryPrimitives.ReadUInt64LittleEndian(buffer);
        if (x < RansFormat.Lower || x >> 63 != 0) throw RansFormat.Damaged(member, $"its initial state {x} is outside [2^31, 2^63)");
        if (fewest is not null && fewest(x) != source.Length)
        {
            throw RansFormat.Damaged(member, $"its initial state {x} is written in {source.Length} bytes, where the encoder writes {fewest(x)}");
        }
        return x;
    }

    private static void End(string member, ReadOnlySpan<byte> stream, ulong x, ulong y, int at)
    {
        if (x != RansFormat.Lower || y != RansFormat.Lower || at != stream.Length)
        {
            ulong off = x != RansFormat.Lower ? x : y;
            throw RansFormat.Damaged(member, $"it ends in state {off} after {at} of {stream.Length} bytes, where a stream of these symbols ends in state {RansFormat.Lower} after all of them");
        }
    }

    /// <summary>
    /// Decodes the symbols; in the interleaved layout symbol i (counted from the stream's start: <paramref name="first"/>
    /// symbols were decoded before this call) comes from state (i mod 2), <paramref name="x"/> or <paramref name="y"/>.
    /// </summary>
    private static void Decode<TFind>(string member, ReadOnlySpan<byte> stream, RansStreamLayout layout, ref ulong x, ref ulong y, ref int at, long first,
        ReadOnlySpan<int> indexes, QuantizedCdf cdfs, Span<int> symbols)
        where TFind : struct, IFind
    {
        ulong x0 = x, x1 = y;
        int position = at, i = 0, n = symbols.Length;
        if (layout != RansStreamLayout.Interleaved)
        {
            for (; i < n; i++) symbols[i] = One<TFind>(member, stream, layout, ref x0, ref position, indexes[i], cdfs, i);
        }
        else
        {
            // Two independent chains: the second state's work overlaps the first's.
            if ((first & 1) == 1 && n > 0)
            {
                symbols[0] = One<TFind>(member, stream, layout, ref x1, ref position, indexes[0], cdfs, 0);
                i = 1;
            }
            for (; i + 1 < n; i += 2)
            {
                symbols[i] = One<TFind>(member, stream, layout, ref x0, ref position, indexes[i], cdfs, i);
                symbols[i + 1] = One<TFind>(member, stream, layout, ref x1, ref position, indexes[i + 1], cdfs, i + 1);
            }
            if (i < n) symbols[i] = One<TFind>(member, stream, layout, ref x0, ref position, indexes[i], cdfs, i);
        }
        x = x0;
        y = x1;
        at = position;
    }

    /// <summary>One symbol from state <paramref name="x"/>: its slot's value, the state advanced and refilled, an escape's bypass digits read.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static int One<TFind>(string member, ReadOnlySpan<byte> stream, RansStreamLayout layout, ref ulong x, ref int position, int index, QuantizedCdf cdfs, int i)
        where TFind : struct, IFind
    {
        const uint Mask = QuantizedCdf.Total - 1;
        uint slot = (uint)x & Mask;
        int value = default(TFind).Find(cdfs, index, slot, out uint start, out uint freq);
        x = freq * (x >> QuantizedCdf.Precision) + slot - start;
        if (x < RansFormat.Lower) Refill(member, ref x, stream, ref position);
        (int max, int offset) = cdfs.EscapeAndOffset(index);
        long decoded = value;
        if (value == max) decoded = Escaped(member, layout, i, max, ref x, stream, ref position);
        decoded += offset;
        if (decoded is < int.MinValue or > int.MaxValue) throw RansFormat.Damaged(member, $"symbol {i} decodes to {decoded}, outside int32");
        return (int)decoded;
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
            raw = layout != RansStreamLayout.CompressAI ? (raw << RansFormat.BypassBits) | digit : raw | (digit << (RansFormat.BypassBits * d));
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
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void Refill(string member, ref ulong x, ReadOnlySpan<byte> stream, ref int position)
    {
        if (position > stream.Length - 4) EndedEarly(member, stream.Length);
        x = (x << 32) | BinaryPrimitives.ReadUInt32LittleEndian(stream[position..]);
        position += 4;
    }

    /// <summary>Throws for a stream that ends before its symbols do (kept out of <see cref="Refill"/>, which is inlined).</summary>
    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void EndedEarly(string member, int length) => throw RansFormat.Damaged(member, $"it ends after {length} bytes, before its symbols do");

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
