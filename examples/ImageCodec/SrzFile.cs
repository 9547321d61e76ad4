using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;

namespace ImageCodec;

/// <summary>
/// The .srz file: a header, the entropy-coded latents (one stream per latent: ŷ's, then ẑ's for a hyperprior model),
/// and a 4-byte checksum.
/// <code>
/// offset  size      field
///      0     4      magic 0x89 'S' 'R' 'Z'
///      4     1      format version (2)
///      5     1      quality level: 1 to 6 (<c>compress --quality</c>), or 0 for weights named on the command line
///      6     8      weights identifier: the first 8 bytes of SHA-256 over the model's state (<see cref="Weights.Identifier"/>)
///     14     2      image width, 1 to 65535 (little-endian)
///     16     2      image height, 1 to 65535
///     18     1      number of streams S, 1 to 4
///     19     4(S−1) the length in bytes of each stream but the last (uint32, little-endian)
///      …     L      the streams, one after another (SoftRound.Tf.Entropy's rANS layout); the last one's length is the rest
///      …     4      the first 4 bytes of SHA-256 over every byte before them
/// </code>
/// Version 1 (one stream, no quality level or stream count) is refused with its version named.
/// </summary>
public static class SrzFile
{
    /// <summary>The magic number: a byte with the high bit set (so that text tools see binary), then "SRZ".</summary>
    public static ReadOnlySpan<byte> Magic => new byte[] { 0x89, (byte)'S', (byte)'R', (byte)'Z' };

    /// <summary>The format version this code writes and reads.</summary>
    public const byte Version = 2;

    /// <summary>The header's size in bytes for one stream (each further stream adds 4).</summary>
    public const int HeaderLength = 19;

    /// <summary>The checksum's size in bytes.</summary>
    public const int ChecksumLength = 4;

    /// <summary>The highest quality level.</summary>
    public const int MaxQuality = 6;

    /// <summary>The most streams a file holds.</summary>
    public const int MaxStreams = 4;

    /// <summary>What a file says about its image and the weights that made it.</summary>
    /// <param name="Weights">The weights identifier (8 bytes).</param>
    /// <param name="Width">The image's width in pixels.</param>
    /// <param name="Height">The image's height in pixels.</param>
    /// <param name="Quality">The quality level (1 to <see cref="MaxQuality"/>), or 0 for weights chosen by hand.</param>
    public readonly record struct Header(byte[] Weights, int Width, int Height, int Quality = 0);

    /// <summary>The file for an image of <paramref name="header"/>'s size whose latents are <paramref name="streams"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// The size is outside 1 to 65535, the quality outside 0 to <see cref="MaxQuality"/>, the weights identifier is not
    /// 8 bytes, or there are not 1 to <see cref="MaxStreams"/> streams.
    /// </exception>
    public static byte[] Write(Header header, IReadOnlyList<byte[]> streams)
    {
        string name = $"{nameof(SrzFile)}.{nameof(Write)}";
        if (header.Width is < 1 or > 65535 || header.Height is < 1 or > 65535)
        {
            throw new ArgumentOutOfRangeException(nameof(header), $"{name}: the image is {header.Width}×{header.Height}; each side must be 1 to 65535 pixels.");
        }
        if (header.Quality is < 0 or > MaxQuality) throw new ArgumentOutOfRangeException(nameof(header), $"{name}: the quality level is {header.Quality}; it must be 0 to {MaxQuality}.");
        if (header.Weights is not { Length: 8 }) throw new ArgumentOutOfRangeException(nameof(header), $"{name}: the weights identifier must be 8 bytes.");
        ArgumentNullException.ThrowIfNull(streams, nameof(streams));
        if (streams.Count is < 1 or > MaxStreams || streams.Any(s => s is null))
        {
            throw new ArgumentOutOfRangeException(nameof(streams), $"{name}: {streams.Count} streams; a file holds 1 to {MaxStreams}, none null.");
        }
        int headerLength = HeaderLength + 4 * (streams.Count - 1);
        var file = new byte[headerLength + streams.Sum(s => s.Length) + ChecksumLength];
        Magic.CopyTo(file);
        file[4] = Version;
        file[5] = (byte)header.Quality;
        header.Weights.CopyTo(file, 6);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(14), (ushort)header.Width);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(16), (ushort)header.Height);
        file[18] = (byte)streams.Count;
        int at = headerLength;
        for (int i = 0; i < streams.Count; i++)
        {
            if (i < streams.Count - 1) BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(HeaderLength + 4 * i), (uint)streams[i].Length);
            streams[i].CopyTo(file, at);
            at += streams[i].Length;
        }
        Checksum(file.AsSpan(0, at)).CopyTo(file.AsSpan(at));
        return file;
    }

    /// <summary>
    /// The quality level a file records (byte 5), without checking the rest: what <c>decompress</c> needs to choose the
    /// weights before <see cref="Read"/> checks the file against them.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not an .srz file of this version, is shorter than its header, or records a level above <see cref="MaxQuality"/>.</exception>
    public static int Quality(ReadOnlySpan<byte> file)
    {
        CheckStart(file);
        return file[5];
    }

    /// <summary>The header and the latents' streams of <paramref name="file"/>, checked against the weights that will decode it.</summary>
    /// <exception cref="InvalidDataException">
    /// The file is not an .srz file, is of another format version, is truncated or corrupted (its checksum), has a
    /// zero size, a quality level above <see cref="MaxQuality"/>, 0 or more than <see cref="MaxStreams"/> streams or
    /// stream lengths longer than the file, or was made with other weights than <paramref name="weights"/>; the
    /// message says which.
    /// </exception>
    public static (Header header, byte[][] streams) Read(ReadOnlySpan<byte> file, ReadOnlySpan<byte> weights)
    {
        CheckStart(file);
        int payload = file.Length - ChecksumLength;
        if (!Checksum(file[..payload]).AsSpan().SequenceEqual(file[payload..]))
        {
            throw new InvalidDataException("the file is corrupted or truncated: its checksum does not match its contents.");
        }
        byte[] id = file.Slice(6, 8).ToArray();
        if (!id.AsSpan().SequenceEqual(weights))
        {
            throw new InvalidDataException($"the file was made with other weights (identifier {Convert.ToHexString(id)}); these weights are {Convert.ToHexString(weights)}.");
        }
        int quality = file[5];
        int width = BinaryPrimitives.ReadUInt16LittleEndian(file[14..]), height = BinaryPrimitives.ReadUInt16LittleEndian(file[16..]);
        if (width == 0 || height == 0) throw new InvalidDataException($"the file describes a {width}×{height} image.");
        int count = file[18];
        int header = HeaderLength + 4 * (count - 1);
        if (count is < 1 or > MaxStreams || header > payload)
        {
            throw new InvalidDataException($"the file records {count} streams in {payload} bytes; a file holds 1 to {MaxStreams}.");
        }
        var streams = new byte[count][];
        long at = header;
        for (int i = 0; i < count; i++)
        {
            long length = i < count - 1 ? BinaryPrimitives.ReadUInt32LittleEndian(file[(HeaderLength + 4 * i)..]) : payload - at;
            if (at + length > payload) throw new InvalidDataException($"the file's stream {i + 1} of {count} is {length} bytes long; only {payload - at} remain.");
            streams[i] = file.Slice((int)at, (int)length).ToArray();
            at += length;
        }
        return (new Header(id, width, height, quality), streams);
    }

    /// <summary>Throws unless the file starts with the magic number and this version, is as long as the smallest file, and records a quality level.</summary>
    private static void CheckStart(ReadOnlySpan<byte> file)
    {
        if (file.Length < Magic.Length || !file[..Magic.Length].SequenceEqual(Magic))
        {
            throw new InvalidDataException("not an .srz file (its first bytes are not the .srz magic number).");
        }
        if (file.Length < HeaderLength + ChecksumLength) throw new InvalidDataException($"the file is truncated: {file.Length} bytes, fewer than the {HeaderLength + ChecksumLength} of an empty one.");
        if (file[4] != Version) throw new InvalidDataException($"the file is of format version {file[4]}; this program reads version {Version}.");
        if (file[5] > MaxQuality) throw new InvalidDataException($"the file records quality level {file[5]}; levels are 0 to {MaxQuality}.");
    }

    private static byte[] Checksum(ReadOnlySpan<byte> bytes) => SHA256.HashData(bytes)[..ChecksumLength];
}
