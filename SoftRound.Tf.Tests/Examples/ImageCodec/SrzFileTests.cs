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
    public void RoundTrip_OfOneToFourStreams_KeepsTheHeaderAndEveryStream()
    {
        for (int count = 1; count <= SrzFile.MaxStreams; count++)
        {
            byte[][] streams = Enumerable.Range(0, count).Select(s => Enumerable.Range(0, 300 - 97 * s).Select(i => (byte)(i * 7 + s)).ToArray()).ToArray();
            byte[] file = SrzFile.Write(new SrzFile.Header(Id, 451, 300, count), streams);
            Assert.AreEqual(SrzFile.HeaderLength + 4 * (count - 1) + streams.Sum(s => s.Length) + SrzFile.ChecksumLength, file.Length);
            // The layout of the class's table: version 2, the level, the identifier, the size, the count, the lengths.
            CollectionAssert.AreEqual(new byte[] { 0x89, (byte)'S', (byte)'R', (byte)'Z', 2, (byte)count, 1, 2, 3, 4, 5, 6, 7, 8, 451 % 256, 1, 300 % 256, 1, (byte)count }, file[..19]);
            for (int i = 0; i < count - 1; i++) Assert.AreEqual((uint)streams[i].Length, BitConverter.ToUInt32(file, 19 + 4 * i));
            Assert.AreEqual(count, SrzFile.Quality(file));
            (SrzFile.Header header, byte[][] read) = SrzFile.Read(file, Id);
            Assert.AreEqual((451, 300, count), (header.Width, header.Height, header.Quality));
            CollectionAssert.AreEqual(Id, header.Weights);
            Assert.AreEqual(count, read.Length);
            for (int i = 0; i < count; i++) CollectionAssert.AreEqual(streams[i], read[i]);
        }
    }

    /// <summary><paramref name="header"/> (a file's bytes without their checksum) followed by a checksum that matches them.</summary>
    private static byte[] Signed(byte[] header) => header.Concat(SHA256.HashData(header)[..SrzFile.ChecksumLength]).ToArray();

    [TestMethod]
    public void Refuses_WithWhatIsWrong()
    {
        byte[] file = SrzFile.Write(new SrzFile.Header(Id, 16, 16), new[] { new byte[] { 9, 9, 9, 9, 9 } });
        StringAssert.Contains(Refused(file, new byte[8]), "made with other weights (identifier 0102030405060708)");
        StringAssert.Contains(Refused("‰PNG not this at all"u8.ToArray()), "not an .srz file");
        StringAssert.Contains(Refused(file[..10]), "truncated");
        byte[] other = (byte[])file.Clone();
        other[4] = 1;
        StringAssert.Contains(Refused(other), "the file is of format version 1; this program reads version 2.");
        StringAssert.Contains(Refused(file[..^1]), "checksum");
        byte[] level = file[..^SrzFile.ChecksumLength];
        level[5] = 7;
        StringAssert.Contains(Refused(Signed(level)), "the file records quality level 7; levels are 0 to 6.");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => SrzFile.Quality(Signed(level))).Message, "quality level 7");
        foreach (byte count in new byte[] { 0, 5, 255 })
        {
            byte[] streams = file[..^SrzFile.ChecksumLength];
            streams[18] = count;
            StringAssert.Contains(Refused(Signed(streams)), $"the file records {count} streams");
        }
        // Two streams whose first claims more bytes than follow.
        byte[] two = SrzFile.Write(new SrzFile.Header(Id, 16, 16), new[] { new byte[] { 1, 2 }, new byte[] { 3 } })[..^SrzFile.ChecksumLength];
        BitConverter.GetBytes(4u).CopyTo(two, 19);
        StringAssert.Contains(Refused(Signed(two)), "the file's stream 1 of 2 is 4 bytes long; only 3 remain.");
        BitConverter.GetBytes(uint.MaxValue).CopyTo(two, 19);
        StringAssert.Contains(Refused(Signed(two)), "is 4294967295 bytes long");
        // Four streams' lengths need 12 bytes after the header: a file that ends sooner is refused.
        byte[] short4 = two[..19];
        short4[18] = 4;
        StringAssert.Contains(Refused(Signed(short4.Concat(new byte[4]).ToArray())), "the file records 4 streams in 23 bytes");
    }

    [TestMethod]
    public void Write_RefusesWhatAFileCannotHold_NamingIt()
    {
        string Message(SrzFile.Header header, byte[][] streams) =>
            Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SrzFile.Write(header, streams)).Message;
        byte[][] one = { Array.Empty<byte>() };
        foreach ((int w, int h) in new[] { (0, 5), (5, 0), (65536, 5), (5, 65536) })
            StringAssert.Contains(Message(new SrzFile.Header(Id, w, h), one), $"SrzFile.Write: the image is {w}×{h}");
        foreach (int q in new[] { -1, 7 })
            StringAssert.Contains(Message(new SrzFile.Header(Id, 5, 5, q), one), $"SrzFile.Write: the quality level is {q}; it must be 0 to 6.");
        StringAssert.Contains(Message(new SrzFile.Header(new byte[7], 5, 5), one), "SrzFile.Write: the weights identifier");
        StringAssert.Contains(Message(new SrzFile.Header(Id, 5, 5), Array.Empty<byte[]>()), "SrzFile.Write: 0 streams; a file holds 1 to 4, none null.");
        StringAssert.Contains(Message(new SrzFile.Header(Id, 5, 5), new byte[5][]), "SrzFile.Write: 5 streams");
        StringAssert.Contains(Message(new SrzFile.Header(Id, 5, 5), new byte[][] { new byte[1], null! }), "SrzFile.Write: 2 streams");
        Assert.AreEqual("streams", Assert.ThrowsExactly<ArgumentNullException>(() => SrzFile.Write(new SrzFile.Header(Id, 5, 5), null!)).ParamName);
    }

    [TestMethod]
    public void Limits_AndTheSmallestFile()
    {
        // The smallest file: header and checksum around one empty stream.
        byte[] empty = SrzFile.Write(new SrzFile.Header(Id, 1, 65535), new[] { Array.Empty<byte>() });
        Assert.AreEqual(SrzFile.HeaderLength + SrzFile.ChecksumLength, empty.Length);
        (SrzFile.Header header, byte[][] streams) = SrzFile.Read(empty, Id);
        Assert.AreEqual((1, 65535, 0), (header.Width, header.Height, header.Quality));
        Assert.AreEqual(0, streams.Single().Length);
        Assert.AreEqual(65535, SrzFile.Read(SrzFile.Write(new SrzFile.Header(Id, 65535, 1, 6), new[] { new byte[] { 7 } }), Id).header.Width);
        // Only the magic number: truncated, not foreign.
        StringAssert.Contains(Refused(empty[..4]), "the file is truncated: 4 bytes, fewer than the 23 of an empty one.");
        StringAssert.Contains(Refused(empty[..22]), "the file is truncated: 22 bytes");
        // A zero side behind a valid checksum.
        foreach (int at in new[] { 14, 16 })
        {
            byte[] zero = empty[..SrzFile.HeaderLength];
            zero[at] = 0;
            zero[at + 1] = 0;
            StringAssert.Contains(Refused(Signed(zero)), "the file describes a");
        }
    }

    [TestMethod]
    public void EveryTruncationAndFlippedBit_IsRefused()
    {
        byte[] file = SrzFile.Write(new SrzFile.Header(Id, 64, 48, 3), new[] { Enumerable.Range(0, 30).Select(i => (byte)i).ToArray(), new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 } });
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
