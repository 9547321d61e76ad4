using System.IO;
using System.Linq;
using System.Security.Cryptography;
using ImageCodec;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace SoftRound.Tf.Tests.Examples.ImageCodec;

[TestClass]
public sealed class Sha256TrailerTests
{
    [TestMethod]
    public void Append_EndsInTheHashOfWhatCameBefore_AndVerifyCatchesEveryFlippedBitAndShortFiles()
    {
        var content = new MemoryStream();
        content.Write("0123456789"u8);
        byte[] file = Sha256Trailer.Append(content);
        CollectionAssert.AreEqual("0123456789"u8.ToArray().Concat(SHA256.HashData("0123456789"u8)).ToArray(), file);
        Assert.IsTrue(Sha256Trailer.Verify(file, 10));
        Assert.IsFalse(Sha256Trailer.Verify(file, 11), "fewer bytes before the trailer than asked");
        for (int bit = 0; bit < 8 * file.Length; bit++)
        {
            byte[] flipped = (byte[])file.Clone();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.IsFalse(Sha256Trailer.Verify(flipped, 0), $"bit {bit}");
        }
        Assert.IsFalse(Sha256Trailer.Verify(file[..^1], 0));
        Assert.IsFalse(Sha256Trailer.Verify(new byte[31], 0));
        Assert.IsTrue(Sha256Trailer.Verify(SHA256.HashData(System.Array.Empty<byte>()), 0), "an empty content");
    }
}
