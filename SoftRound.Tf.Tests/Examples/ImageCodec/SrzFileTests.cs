using System;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using CsCheck;
using ImageCodec;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace SoftRound.Tf.Tests.Examples.ImageCodec;

[TestClass]
public sealed class SrzFileTests
{
    private static readonly byte[] Id = { 1, 2, 3, 4, 5, 6, 7, 8 };

    private static string Refused(byte[] file, byte[]? weights = null) =>
        Assert.ThrowsExactly<InvalidDataException>(() => SrzFile.Read(file, weights ?? Id)).Message;

    [TestMethod]
    public void RoundTrip()
    {
        byte[] stream = Enumerable.Range(0, 300).Select(i => (byte)(i * 7)).ToArray();
        byte[] file = SrzFile.Write(new SrzFile.Header(Id, 451, 300), stream);
        Assert.AreEqual(SrzFile.HeaderLength + stream.Length + SrzFile.ChecksumLength, file.Length);
        (SrzFile.Header header, byte[] read) = SrzFile.Read(file, Id);
        Assert.AreEqual(451, header.Width);
        Assert.AreEqual(300, header.Height);
        CollectionAssert.AreEqual(Id, header.Weights);
        CollectionAssert.AreEqual(stream, read);
    }

    [TestMethod]
    public void Refuses_WithWhatIsWrong()
    {
        byte[] file = SrzFile.Write(new SrzFile.Header(Id, 16, 16), new byte[] { 9, 9, 9, 9, 9 });
        StringAssert.Contains(Refused(file, new byte[8]), "made with other weights (identifier 0102030405060708)");
        StringAssert.Contains(Refused("‰PNG not this"u8.ToArray()), "not an .srz file");
        StringAssert.Contains(Refused(file[..10]), "truncated");
        byte[] other = (byte[])file.Clone();
        other[4] = 2;
        StringAssert.Contains(Refused(other), "format version 2");
        StringAssert.Contains(Refused(file[..^1]), "checksum");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SrzFile.Write(new SrzFile.Header(Id, 0, 5), Array.Empty<byte>()));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SrzFile.Write(new SrzFile.Header(Id, 70000, 5), Array.Empty<byte>()));
    }

    [TestMethod]
    public void Limits_AndTheSmallestFile()
    {
        // The smallest file: header and checksum around an empty stream.
        byte[] empty = SrzFile.Write(new SrzFile.Header(Id, 1, 65535), Array.Empty<byte>());
        Assert.AreEqual(SrzFile.HeaderLength + SrzFile.ChecksumLength, empty.Length);
        (SrzFile.Header header, byte[] stream) = SrzFile.Read(empty, Id);
        Assert.AreEqual((1, 65535), (header.Width, header.Height));
        Assert.AreEqual(0, stream.Length);
        Assert.AreEqual(65535, SrzFile.Read(SrzFile.Write(new SrzFile.Header(Id, 65535, 1), new byte[] { 7 }), Id).header.Width);
        foreach ((int w, int h) in new[] { (0, 5), (5, 0), (65536, 5), (5, 65536) })
        {
            var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SrzFile.Write(new SrzFile.Header(Id, w, h), Array.Empty<byte>()));
            StringAssert.Contains(e.Message, $"SrzFile.Write: the image is {w}×{h}");
        }
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SrzFile.Write(new SrzFile.Header(new byte[7], 5, 5), Array.Empty<byte>())).Message,
            "SrzFile.Write: the weights identifier");
        // Only the magic number: truncated, not foreign.
        StringAssert.Contains(Refused(empty[..4]), "the file is truncated: 4 bytes, fewer than the 21 of an empty one.");
        StringAssert.Contains(Refused(empty[..20]), "the file is truncated: 20 bytes");
        // A zero side behind a valid checksum.
        foreach (int at in new[] { 13, 15 })
        {
            byte[] zero = empty[..SrzFile.HeaderLength];
            zero[at] = 0;
            zero[at + 1] = 0;
            byte[] file = zero.Concat(SHA256.HashData(zero)[..SrzFile.ChecksumLength]).ToArray();
            StringAssert.Contains(Refused(file), "the file describes a");
        }
    }

    [TestMethod]
    public void EveryTruncationAndFlippedBit_IsRefused()
    {
        byte[] file = SrzFile.Write(new SrzFile.Header(Id, 64, 48), Enumerable.Range(0, 40).Select(i => (byte)i).ToArray());
        for (int length = 0; length < file.Length; length++) Refused(file[..length]);
        for (int bit = 0; bit < file.Length * 8; bit++)
        {
            byte[] damaged = (byte[])file.Clone();
            damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            Refused(damaged);
        }
    }

    [TestMethod]
    public void RandomBytes_AreRefused()
    {
        Gen.Byte.Array[0, 200].Sample(bytes =>
        {
            try
            {
                SrzFile.Read(bytes, Id);
                Assert.Fail("random bytes were accepted");
            }
            catch (InvalidDataException)
            {
            }
        }, iter: 2000, threads: 1);
    }
}
