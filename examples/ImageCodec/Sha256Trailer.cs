using System;
using System.IO;
using System.Security.Cryptography;

namespace ImageCodec;

/// <summary>The files that end in SHA-256 over everything before it (32 bytes): the weights file and the training checkpoint.</summary>
public static class Sha256Trailer
{
    /// <summary>The trailer's length in bytes.</summary>
    public const int Length = 32;

    /// <summary>The bytes written so far to <paramref name="content"/> followed by their SHA-256.</summary>
    public static byte[] Append(MemoryStream content)
    {
        byte[] hash = SHA256.HashData(content.GetBuffer().AsSpan(0, (int)content.Length));
        content.Write(hash);
        return content.ToArray();
    }

    /// <summary>Whether <paramref name="file"/> holds at least <paramref name="minimum"/> bytes before a trailer that matches them.</summary>
    public static bool Verify(byte[] file, int minimum) =>
        file.Length - Length >= minimum && SHA256.HashData(file.AsSpan(0, file.Length - Length)).AsSpan().SequenceEqual(file.AsSpan(file.Length - Length));
}
