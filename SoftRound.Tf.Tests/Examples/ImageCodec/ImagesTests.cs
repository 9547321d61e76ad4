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
    public void Png_SurvivesTheCollectorRunningBesideIt()
    {
        // Encode once made its PNG from a temporary SKPixmap that the collector could finalize while Skia still read it:
        // with a thread collecting beside the calls the process crashed (a segmentation fault or Skia's trap) within
        // the first few.
        using var scope = NewDisposeScope();
        Tensor image = (rand(1, 3, 256, 256, generator: new Generator(2)) * 255).round() / 255;
        bool stop = false;
        var collector = new System.Threading.Thread(() =>
        {
            while (!System.Threading.Volatile.Read(ref stop))
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        });
        collector.Start();
        try
        {
            for (int i = 0; i < 20; i++) TensorAssert.Identical(image, Images.Decode(Images.Encode(image)));
        }
        finally
        {
            System.Threading.Volatile.Write(ref stop, true);
            collector.Join();
        }
    }

    [TestMethod]
    public void MsSsim_IsTheLibrarysOnTheEightBitValues_AndNaNWhereItsScalesDoNotFit()
    {
        using var scope = NewDisposeScope();
        Tensor image = rand(1, 3, 161, 170, generator: new Generator(2));
        Tensor noisy = (image + 0.05 * randn(1, 3, 161, 170, generator: new Generator(3))).clamp(0, 1);
        double expected = SoftRound.Tf.Compression.MsSsim.ms_ssim((image * 255).round().to(ScalarType.Float64), (noisy * 255).round().to(ScalarType.Float64)).item<double>();
        Assert.AreEqual(expected, Images.MsSsim(image, noisy), 1e-15);
        Assert.IsTrue(expected is > 0.5 and < 0.999, $"{expected}");
        // Values that round to the same 8 bits are the same image.
        Assert.AreEqual(1.0, Images.MsSsim(image, image + 0.4 / 255 * (image * 255 - (image * 255).round()).sign().neg()), 1e-15);
        Assert.IsTrue(double.IsNaN(Images.MsSsim(image[.., .., ..160], noisy[.., .., ..160])));
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

    /// <summary>A PNG of <paramref name="bitmap"/>, whose colour type decides the file's.</summary>
    internal static byte[] Png(SkiaSharp.SKBitmap bitmap)
    {
        using var data = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>A 16-bit RGB PNG of <paramref name="width"/>×<paramref name="height"/> pixels, all <paramref name="rgb"/>, written by hand (Skia writes 8 bits).</summary>
    private static byte[] Png16(int width, int height, ushort[] rgb)
    {
        static void Chunk(Stream output, string type, byte[] data)
        {
            byte[] typed = System.Text.Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
            uint crc = 0xFFFFFFFF;
            foreach (byte b in typed)
            {
                crc ^= b;
                for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
            }
            output.Write(BigEndian((uint)data.Length));
            output.Write(typed);
            output.Write(BigEndian(~crc));
        }
        static byte[] BigEndian(uint v) => new[] { (byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v };
        var raw = new MemoryStream();
        for (int y = 0; y < height; y++)
        {
            raw.WriteByte(0);
            for (int x = 0; x < width; x++)
                foreach (ushort v in rgb) raw.Write(new[] { (byte)(v >> 8), (byte)v });
        }
        var compressed = new MemoryStream();
        using (var z = new System.IO.Compression.ZLibStream(compressed, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true)) z.Write(raw.ToArray());
        var png = new MemoryStream();
        png.Write(new byte[] { 137, 80, 78, 71, 13, 10, 26, 10 });
        Chunk(png, "IHDR", BigEndian((uint)width).Concat(BigEndian((uint)height)).Concat(new byte[] { 16, 2, 0, 0, 0 }).ToArray());
        Chunk(png, "IDAT", compressed.ToArray());
        Chunk(png, "IEND", Array.Empty<byte>());
        return png.ToArray();
    }

    [TestMethod]
    public void Rgba_IsRefusedWhereAPixelIsNotOpaque_AndOpaqueRgbaIsItsColour()
    {
        using var scope = NewDisposeScope();
        using var bitmap = new SkiaSharp.SKBitmap(new SkiaSharp.SKImageInfo(5, 4, SkiaSharp.SKColorType.Rgba8888, SkiaSharp.SKAlphaType.Unpremul));
        bitmap.Erase(new SkiaSharp.SKColor(200, 100, 50, 255));
        Tensor opaque = Images.Decode(Png(bitmap), out string? conversion);
        Assert.IsNull(conversion);
        TensorAssert.Identical(tensor(new[] { 200f, 100f, 50f }).div(255).reshape(1, 3, 1, 1).expand(1, 3, 4, 5).contiguous(), opaque);
        bitmap.SetPixel(1, 2, new SkiaSharp.SKColor(200, 100, 50, 128));
        bitmap.SetPixel(4, 3, new SkiaSharp.SKColor(0, 0, 0, 0));
        StringAssert.StartsWith(Assert.ThrowsExactly<InvalidDataException>(() => Images.Decode(Png(bitmap))).Message,
            "2 of 20 pixels are not opaque; the codec codes colour only and would lose their alpha.");
    }

    [TestMethod]
    public void Grey_BecomesThreeEqualChannels_AndSixteenBitsEight_AndSaysSo()
    {
        using var scope = NewDisposeScope();
        using var grey = new SkiaSharp.SKBitmap(new SkiaSharp.SKImageInfo(3, 2, SkiaSharp.SKColorType.Gray8, SkiaSharp.SKAlphaType.Opaque));
        grey.Erase(new SkiaSharp.SKColor(77, 77, 77));
        byte[] greyPng = Png(grey);
        Assert.AreEqual(0, greyPng[25], "a grey PNG");
        TensorAssert.Identical(full(1, 3, 2, 3, 77f / 255), Images.Decode(greyPng, out string? conversion));
        Assert.AreEqual("grey, coded as RGB with three equal channels (decompress writes RGB)", conversion);

        // 16-bit RGB, each sample v·257 (exactly v in 8 bits).
        byte[] deepPng = Png16(3, 2, new ushort[] { 10 * 257, 20 * 257, 30 * 257 });
        Tensor image = Images.Decode(deepPng, out conversion);
        Assert.AreEqual("16 bits per channel, reduced to 8", conversion);
        TensorAssert.Identical(tensor(new[] { 10f, 20f, 30f }).div(255).reshape(1, 3, 1, 1).expand(1, 3, 2, 3).contiguous(), image);
        Images.Decode(Images.Encode(image), out conversion);
        Assert.IsNull(conversion, "8-bit colour needs no note");
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
