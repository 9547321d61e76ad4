namespace SoftRound.Tf.Entropy;

/// <summary>
/// How a rANS stream is laid out (docs/ENTROPY.md §4). Both layouts code the same values with the same 64-bit state
/// and 32-bit words; they differ in how the final state and the escape's bypass digits are written.
/// </summary>
public enum RansStreamLayout
{
    /// <summary>
    /// This library's layout, the default: the final state in the fewest bytes that hold it (5 to 8, so a stream is
    /// 0 to 3 bytes shorter), a bypass count of one 4-bit digit (at most 9), the digits most significant first.
    /// </summary>
    SoftRound,

    /// <summary>
    /// This library's layout with two rANS states that take the symbols in turn (even positions the first, odd the
    /// second), as ryg_rans interleaves them: the decoder runs two independent chains, about twice as fast (see the
    /// README's decoder benchmark), and a stream is 4 to 12 bytes longer. A header byte gives the byte counts of the two
    /// final states (4 to 8 each), then the states, then the 32-bit words, little-endian.
    /// </summary>
    Interleaved,

    /// <summary>
    /// CompressAI's layout (its <c>RansEncoder</c>, <c>BufferedRansEncoder</c> and <c>RansDecoder</c>): the final
    /// state in 8 bytes, the bypass count in 4-bit digits of 15 until one below 15, the digits least significant first.
    /// Streams written so decode in CompressAI given the same tables, and CompressAI's streams decode here.
    /// </summary>
    CompressAI,
}
