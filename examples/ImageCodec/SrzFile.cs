using System;
using System.Buffers.Binary;
using System.IO;
using System.Security.Cryptography;

namespace ImageCodec;

/// <summary>
/// The .srz file: a 17-byte header, the entropy-coded latents, and a 4-byte checksum.
/// <code>
/// offset  size  field
///      0     4  magic 0x89 'S' 'R' 'Z'
///      4     1  format version (1)
///      5     8  weights identifier: the first 8 bytes of SHA-256 over the model's state (<see cref="Weights.Identifier"/>)
///     13     2  image width, 1 to 65535 (little-endian)
///     15     2  image height, 1 to 65535
///     17     L  the latents' rANS stream (SoftRound.Tf.Entropy; its length is the rest of the file)
///   17+L     4  the first 4 bytes of SHA-256 over bytes [0, 17 + L)
/// </code>
/// </summary>
public static class SrzFile
{
    /// <summary>The magic number: a byte with the high bit set (so that text tools see binary), then "SRZ".</summary>
    public static ReadOnlySpan<byte> Magic => new byte[] { 0x89, (byte)'S', (byte)'R', (byte)'Z' };

    /// <summary>The format version this code writes and reads.</summary>
    public const byte Version = 1;

    /// <summary>The header's size in bytes.</summary>
    public const int HeaderLength = 17;

    /// <summary>The checksum's size in bytes.</summary>
    public const int ChecksumLength = 4;

    /// <summary>What a file says about its image and the weights that made it.</summary>
    public readonly record struct Header(byte[] Weights, int Width, int Height);

    /// <summary>The file for an image of <paramref name="header"/>'s size whose latents are <paramref name="stream"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The size is outside 1 to 65535, or the weights identifier is not 8 bytes.</exception>
    public static byte[] Write(Header header, ReadOnlySpan<byte> stream)
    {
        if (header.Width is < 1 or > 65535 || header.Height is < 1 or > 65535)
        {
            throw new ArgumentOutOfRangeException(nameof(header), $"{nameof(SrzFile)}.{nameof(Write)}: the image is {header.Width}×{header.Height}; each side must be 1 to 65535 pixels.");
        }
        if (header.Weights is not { Length: 8 }) throw new ArgumentOutOfRangeException(nameof(header), $"{nameof(SrzFile)}.{nameof(Write)}: the weights identifier must be 8 bytes.");
        var file = new byte[HeaderLength + stream.Length + ChecksumLength];
        Magic.CopyTo(file);
        file[4] = Version;
        header.Weights.CopyTo(file, 5);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(13), (ushort)header.Width);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(15), (ushort)header.Height);
        stream.CopyTo(file.AsSpan(HeaderLength));
        Checksum(file.AsSpan(0, HeaderLength + stream.Length)).CopyTo(file.AsSpan(HeaderLength + stream.Length));
        return file;
    }

    /// <summary>The header and the latents' stream of <paramref name="file"/>, checked against the weights that will decode it.</summary>
    /// <exception cref="InvalidDataException">
    /// The file is not an .srz file, is of another format version, is truncated or corrupted (its checksum), has a
    /// zero size, or was made with other weights than <paramref name="weights"/>; the message says which.
    /// </exception>
    public static (Header header, byte[] stream) Read(ReadOnlySpan<byte> file, ReadOnlySpan<byte> weights)
    {
        if (file.Length < Magic.Length || !file[..Magic.Length].SequenceEqual(Magic))
        {
            throw new InvalidDataException("not an .srz file (its first bytes are not the .srz magic number).");
        }
        if (file.Length < HeaderLength + ChecksumLength) throw new InvalidDataException($"the file is truncated: {file.Length} bytes, fewer than the {HeaderLength + ChecksumLength} of an empty one.");
        if (file[4] != Version) throw new InvalidDataException($"the file is of format version {file[4]}; this program reads version {Version}.");
        int payload = file.Length - ChecksumLength;
        if (!Checksum(file[..payload]).AsSpan().SequenceEqual(file[payload..]))
        {
            throw new InvalidDataException("the file is corrupted or truncated: its checksum does not match its contents.");
        }
        byte[] id = file.Slice(5, 8).ToArray();
        if (!id.AsSpan().SequenceEqual(weights))
        {
            throw new InvalidDataException($"the file was made with other weights (identifier {Convert.ToHexString(id)}); these weights are {Convert.ToHexString(weights)}.");
        }
        int width = BinaryPrimitives.ReadUInt16LittleEndian(file[13..]), height = BinaryPrimitives.ReadUInt16LittleEndian(file[15..]);
        if (width == 0 || height == 0) throw new InvalidDataException($"the file describes a {width}×{height} image.");
        return (new Header(id, width, height), file[HeaderLength..payload].ToArray());
    }

    private static byte[] Checksum(ReadOnlySpan<byte> bytes) => SHA256.HashData(bytes)[..ChecksumLength];
}
