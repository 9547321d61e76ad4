using System;

namespace SoftRound.Tf.Entropy;

/// <summary>
/// Writes integer symbols into a byte stream with range asymmetric numeral systems (rANS), each symbol coded with the
/// table its index names in a <see cref="QuantizedCdf"/>. A value inside a table costs −log2(f/2¹⁶) bits; any other
/// int32 is coded as the table's escape followed by its 4-bit bypass digits, so every symbol can be written.
/// <see cref="RansDecoder"/> reads the stream back. The format is in docs/ENTROPY.md §4.
/// </summary>
/// <remarks>
/// CompressAI's <c>RansEncoder.encode_with_indexes(symbols, indexes, cdfs, cdf_lengths, offsets)</c>, with the three
/// lists in one <see cref="QuantizedCdf"/>; tensorflow_compression's <c>range_encoder</c>. It is a
/// <see cref="BufferedRansEncoder"/> flushed after each call; an instance keeps its buffers between calls, so it is
/// not for use by several threads at once.
/// </remarks>
public sealed class RansEncoder
{
    private readonly BufferedRansEncoder buffered;

    /// <summary>Creates an encoder for streams of <paramref name="layout"/> (default this library's).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="layout"/> is not a defined layout.</exception>
    public RansEncoder(RansStreamLayout layout = RansStreamLayout.SoftRound) => buffered = new BufferedRansEncoder(layout);

    /// <summary>The layout of the streams written.</summary>
    public RansStreamLayout layout => buffered.layout;

    /// <summary>
    /// The stream of <paramref name="symbols"/>, symbol i coded with table <paramref name="indexes"/>[i]. The stream is
    /// the final state in 5 to 8 bytes (8 in CompressAI's layout), then 32-bit words, little-endian.
    /// </summary>
    /// <param name="symbols">The symbols: any int32.</param>
    /// <param name="indexes">The table of each symbol, in [0, cdfs.count); as many as symbols.</param>
    /// <param name="cdfs">The tables.</param>
    /// <exception cref="ArgumentNullException"><paramref name="cdfs"/> is null.</exception>
    /// <exception cref="ArgumentException">The lengths of <paramref name="symbols"/> and <paramref name="indexes"/> differ.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside [0, cdfs.count) (the message names its position and value), or a symbol cannot be carried by CompressAI's layout (see <see cref="BufferedRansEncoder.encode_with_indexes"/>).</exception>
    public byte[] encode_with_indexes(ReadOnlySpan<int> symbols, ReadOnlySpan<int> indexes, QuantizedCdf cdfs)
    {
        buffered.Append(nameof(RansEncoder) + "." + nameof(encode_with_indexes), symbols, indexes, cdfs);
        return buffered.flush();
    }
}
