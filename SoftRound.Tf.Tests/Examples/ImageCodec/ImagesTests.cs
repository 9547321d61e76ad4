using System;
using System.IO;
using System.Linq;
using CsCheck;
using ImageCodec;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Tests.Helpers;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Examples.ImageCodec;

[TestClass]
public sealed class ImagesTests
{
    [TestMethod]
    public void Png_RoundTripsExactly_AndJpegLoses()
    {
        using var scope = NewDisposeScope();
        Tensor image = (rand(1, 3, 19, 23, generator: new Generator(1)) * 255).round() / 255;
        TensorAssert.Identical(image, Images.Decode(Images.Encode(image)));
        Tensor jpeg = Images.Decode(Images.Encode(image, jpegQuality: 50));
        Assert.IsTrue(Images.Psnr(image, jpeg) is > 10 and < 60);
        Assert.AreEqual(double.PositiveInfinity, Images.Psnr(image, image));
    }

    [TestMethod]
    public void PadAndCrop()
    {
        using var scope = NewDisposeScope();
        Tensor image = rand(1, 3, 17, 30);
        Tensor padded = Images.Pad(image, 16);
        CollectionAssert.AreEqual(new long[] { 1, 3, 32, 32 }, padded.shape);
        TensorAssert.Identical(image, Images.Crop(padded, 30, 17).contiguous());
        // The padding repeats the last row and column.
        TensorAssert.Identical(image[.., .., 16, 29].contiguous(), padded[.., .., 31, 31].contiguous());
    }

    [TestMethod]
    public void SidesUpTo65535_AreAccepted_AndLongerOnesRefused()
    {
        using var scope = NewDisposeScope();
        static byte[] Png(int width, int height)
        {
            using var bitmap = new SkiaSharp.SKBitmap(width, height);
            bitmap.Erase(new SkiaSharp.SKColor(10, 200, 30));
            using var data = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
            return data.ToArray();
        }
        CollectionAssert.AreEqual(new long[] { 1, 3, 1, 65535 }, Images.Decode(Png(65535, 1)).shape);
        CollectionAssert.AreEqual(new long[] { 1, 3, 65535, 1 }, Images.Decode(Png(1, 65535)).shape);
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => Images.Decode(Png(65536, 1))).Message, "the image is 65536×1; at most 65535 pixels a side.");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => Images.Decode(Png(1, 65536))).Message, "the image is 1×65536; at most 65535 pixels a side.");
    }

    [TestMethod]
    public void NotAnImage_IsRefused()
    {
        byte[] png = Images.Encode(zeros(1, 3, 8, 8));
        Gen.Byte.Array[0, 300].Sample(bytes =>
        {
            try
            {
                Images.Decode(bytes);
            }
            catch (InvalidDataException)
            {
            }
        }, iter: 500, threads: 1);
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => Images.Decode("not an image"u8.ToArray())).Message, "not an image");
        for (int length = 0; length < 20; length++) Assert.ThrowsExactly<InvalidDataException>(() => Images.Decode(png[..length]));
    }
}
