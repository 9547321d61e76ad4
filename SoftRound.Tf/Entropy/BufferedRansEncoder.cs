using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;

namespace SoftRound.Tf.Entropy;

/// <summary>
/// Collects symbols over several calls and writes them as one rANS stream at <see cref="flush"/> (CompressAI's
/// <c>BufferedRansEncoder</c>): what an autoregressive model needs, whose tables for a position depend on the values
/// decoded before it. A <see cref="RansDecoder"/> reads the stream back with <see cref="RansDecoder.set_stream"/> and
/// <see cref="RansDecoder.decode_stream(ReadOnlySpan{int}, QuantizedCdf)"/>, call for call, or all at once.
/// </summary>
/// <remarks>
/// Each call resolves its symbols against its tables at once (each call may name other tables), so only the
/// intervals are kept: 8 bytes per coded item. rANS is last in, first out, so nothing is written before
/// <see cref="flush"/>, which codes the items backwards. An instance is not for use by several threads at once.
/// </remarks>
public sealed class BufferedRansEncoder
{
    private RansFormat.Item[] items = new RansFormat.Item[256];
    private int count;
    private long symbolCount;
    private uint[] words = new uint[64];

    /// <summary>Creates an encoder for streams of <paramref name="layout"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="layout"/> is not a defined layout.</exception>
    public BufferedRansEncoder(RansStreamLayout layout = RansStreamLayout.SoftRound)
    {
        if (!Enum.IsDefined(layout)) throw new ArgumentOutOfRangeException(nameof(layout), layout, $"{nameof(BufferedRansEncoder)}: layout {(int)layout} is not a {nameof(RansStreamLayout)}.");
        this.layout = layout;
    }

    /// <summary>The layout of the streams written.</summary>
    public RansStreamLayout layout { get; }

    /// <summary>
    /// Appends <paramref name="symbols"/>, symbol i coded with table <paramref name="indexes"/>[i] of
    /// <paramref name="cdfs"/>: a value inside the table as its interval, any other int32 as the escape and bypass
    /// digits. Nothing is appended when the call throws.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="cdfs"/> is null.</exception>
    /// <exception cref="ArgumentException">The lengths of <paramref name="symbols"/> and <paramref name="indexes"/> differ.</exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// An index is outside [0, cdfs.count), or (CompressAI's layout) a symbol is so far outside its table that its raw
    /// bypass value exceeds 2³¹ − 1, which CompressAI's decoder cannot read.
    /// </exception>
    public void encode_with_indexes(ReadOnlySpan<int> symbols, ReadOnlySpan<int> indexes, QuantizedCdf cdfs) =>
        Append(nameof(BufferedRansEncoder) + "." + nameof(encode_with_indexes), symbols, indexes, cdfs);

    /// <summary><see cref="encode_with_indexes"/>, its messages naming <paramref name="name"/>.</summary>
    internal void Append(string name, ReadOnlySpan<int> symbols, ReadOnlySpan<int> indexes, QuantizedCdf cdfs)
    {
        ArgumentNullException.ThrowIfNull(cdfs, nameof(cdfs));
        RansFormat.CheckIndexes(name, symbols.Length, indexes, cdfs.count);
        int start = count;
        for (int i = 0; i < symbols.Length; i++)
        {
            int index = indexes[i];
            // The interleaved layout codes even positions (counted from the last flush) into state 0, odd into state 1.
            int st = layout == RansStreamLayout.Interleaved ? (int)((symbolCount + i) & 1) : 0;
            int max = cdfs.length(index) - 2;
            long value = (long)symbols[i] - cdfs.offset(index);
            if (value >= 0 && value < max)
            {
                (uint s, uint f) = cdfs.Interval(index, (int)value);
                Add(new RansFormat.Item(s, f, QuantizedCdf.Precision, st));
                continue;
            }
            (uint escapeStart, uint escapeFreq) = cdfs.Interval(index, max);
            Add(new RansFormat.Item(escapeStart, escapeFreq, QuantizedCdf.Precision, st));
            ulong raw = RansFormat.ToRaw(value, max);
            if (layout == RansStreamLayout.CompressAI && raw > int.MaxValue)
            {
                count = start;
                throw new ArgumentOutOfRangeException(nameof(symbols), symbols[i],
                    $"{name}: symbols[{i.ToString(CultureInfo.InvariantCulture)}] = {symbols[i]} lies {value} from table {index}'s first value; CompressAI's layout carries bypass values below 2^31 only.");
            }
            int digits = RansFormat.Digits(raw);
            if (layout != RansStreamLayout.CompressAI)
            {
                Add(RansFormat.Item.Bypass((uint)digits, st));
                for (int d = digits - 1; d >= 0; d--) Add(RansFormat.Item.Bypass(RansFormat.Digit(raw, d), st));
            }
            else
            {
                // CompressAI writes the digit count in 4-bit pieces of at most 15; a raw value below 2^31 has at most 8
                // digits, so one piece holds the count.
                Add(RansFormat.Item.Bypass((uint)digits, st));
                for (int d = 0; d < digits; d++) Add(RansFormat.Item.Bypass(RansFormat.Digit(raw, d), st));
            }
        }
        symbolCount += symbols.Length;
    }

    /// <summary>
    /// The stream of every symbol appended since the last flush, in order; the encoder is then empty. In this library's
    /// layout the stream is the final state in 5 to 8 bytes, then 32-bit words, little-endian; in CompressAI's, the
    /// state in 8 bytes, then the words; interleaved, a byte with the two states' byte counts, the states in 4 to 8
    /// bytes each, then the words.
    /// </summary>
    public byte[] flush()
    {
        Span<ulong> x = stackalloc ulong[2] { RansFormat.Lower, RansFormat.Lower };
        int top = words.Length;
        // rANS is last in, first out: the items go in backwards so that the decoder reads them forwards.
        for (int i = count - 1; i >= 0; i--)
        {
            RansFormat.Item item = items[i];
            ref ulong state = ref x[item.State];
            ulong limit = ((RansFormat.Lower >> item.Bits) << 32) * item.Freq;
            if (state >= limit)
            {
                if (top == 0) Grow(ref top);
                words[--top] = (uint)state;
                state >>= 32;
            }
            state = ((state / item.Freq) << item.Bits) + state % item.Freq + item.Start;
        }
        count = 0;
        symbolCount = 0;
        int wordCount = words.Length - top;
        Span<byte> bytes = stackalloc byte[8];
        byte[] stream;
        int at;
        if (layout == RansStreamLayout.Interleaved)
        {
            int k0 = RansFormat.InterleavedStateBytes(x[0]), k1 = RansFormat.InterleavedStateBytes(x[1]);
            stream = new byte[1 + k0 + k1 + 4 * wordCount];
            stream[0] = (byte)((k0 - 4) | ((k1 - 4) << 4));
            BinaryPrimitives.WriteUInt64LittleEndian(bytes, x[0]);
            bytes[..k0].CopyTo(stream.AsSpan(1));
            BinaryPrimitives.WriteUInt64LittleEndian(bytes, x[1]);
            bytes[..k1].CopyTo(stream.AsSpan(1 + k0));
            at = 1 + k0 + k1;
        }
        else
        {
            int stateBytes = layout == RansStreamLayout.SoftRound ? RansFormat.StateBytes(x[0]) : 8;
            stream = new byte[stateBytes + 4 * wordCount];
            BinaryPrimitives.WriteUInt64LittleEndian(bytes, x[0]);
            bytes[..stateBytes].CopyTo(stream);
            at = stateBytes;
        }
        for (int w = 0; w < wordCount; w++) BinaryPrimitives.WriteUInt32LittleEndian(stream.AsSpan(at + 4 * w), words[top + w]);
        return stream;
    }

    private void Add(RansFormat.Item item)
    {
        if (count == items.Length) Array.Resize(ref items, items.Length * 2);
        items[count++] = item;
    }

    /// <summary>Doubles the word buffer, keeping the words written so far at its end.</summary>
    private void Grow(ref int top)
    {
        var larger = new uint[words.Length * 2];
        words.AsSpan(top).CopyTo(larger.AsSpan(larger.Length - (words.Length - top)));
        top += larger.Length - words.Length;
        words = larger;
    }
}
