using System;
using System.IO;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace ImageCodec;

/// <summary>Images as tensors: (1, 3, H, W) float32 in [0, 1], read and written with Skia (PNG, JPEG).</summary>
public static class Images
{
    /// <summary>The largest side accepted: the .srz header holds 16 bits per side.</summary>
    public const int MaxSide = 65535;

    /// <summary>Decodes an image file's bytes (PNG, JPEG, or anything else Skia reads) to RGB.</summary>
    /// <exception cref="InvalidDataException">As <see cref="Decode(byte[], out string?)"/>.</exception>
    public static Tensor Decode(byte[] bytes) => Decode(bytes, out _);

    /// <summary>
    /// Decodes an image file's bytes (PNG, JPEG, or anything else Skia reads) to RGB. <paramref name="conversion"/> says
    /// what the file became when that is not itself: a grey image becomes RGB with three equal channels, a PNG with 16
    /// bits per channel becomes 8 bits per channel; null for 8-bit colour.
    /// </summary>
    /// <exception cref="InvalidDataException">The bytes are not an image Skia can decode, a side is above
    /// <see cref="MaxSide"/>, or a pixel is not opaque (the codec codes colour only, and would lose the alpha).</exception>
    public static Tensor Decode(byte[] bytes, out string? conversion)
    {
        using SKData encoded = SKData.CreateCopy(bytes);
        using SKCodec? codec = SKCodec.Create(encoded);
        if (codec is null) throw new InvalidDataException("not an image this program can read (PNG or JPEG).");
        int w = codec.Info.Width, h = codec.Info.Height;
        if (w > MaxSide || h > MaxSide) throw new InvalidDataException($"the image is {w}×{h}; at most {MaxSide} pixels a side.");
        using SKBitmap? rgba = SKBitmap.Decode(codec, new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        if (rgba is null) throw new InvalidDataException("not an image this program can read (PNG or JPEG).");
        byte[] pixels = rgba.Bytes;
        var planar = new float[3 * w * h];
        long transparent = 0;
        for (int i = 0; i < w * h; i++)
        {
            planar[i] = pixels[4 * i] / 255f;
            planar[w * h + i] = pixels[4 * i + 1] / 255f;
            planar[2 * w * h + i] = pixels[4 * i + 2] / 255f;
            if (pixels[4 * i + 3] != 255) transparent++;
        }
        if (transparent > 0)
        {
            throw new InvalidDataException($"{transparent} of {(long)w * h} pixels are not opaque; the codec codes colour only and would lose their alpha. Flatten the image onto a background first.");
        }
        conversion = Conversion(bytes, codec.Info.ColorType);
        return tensor(planar, new long[] { 1, 3, h, w });
    }

    /// <summary>What decoding to 8-bit RGB changes: PNG's header gives its bits per channel and whether it is grey.</summary>
    private static string? Conversion(byte[] bytes, SKColorType decodedAs)
    {
        bool png = bytes.Length >= 26 && bytes.AsSpan(0, 8).SequenceEqual(new byte[] { 137, 80, 78, 71, 13, 10, 26, 10 });
        int bits = png ? bytes[24] : 8;
        bool grey = png ? bytes[25] is 0 or 4 : decodedAs is SKColorType.Gray8;
        string? depth = bits > 8 ? $"{bits} bits per channel, reduced to 8" : null;
        string? colour = grey ? "grey, coded as RGB with three equal channels (decompress writes RGB)" : null;
        return depth is null ? colour : colour is null ? depth : $"{colour}; {depth}";
    }

    /// <summary>The image (1, 3, H, W) in [0, 1] as 8-bit RGB bytes, rounded and clamped.</summary>
    public static byte[] ToRgb(Tensor image, out int width, out int height)
    {
        using var scope = NewDisposeScope();
        height = (int)image.shape[2];
        width = (int)image.shape[3];
        Tensor q = EightBit(image[0]).to(ScalarType.Byte).permute(1, 2, 0).contiguous();
        return q.data<byte>().ToArray();
    }

    /// <summary>Encodes the image as PNG (or JPEG at <paramref name="jpegQuality"/>).</summary>
    public static byte[] Encode(Tensor image, int? jpegQuality = null) =>
        Encode(image, jpegQuality is null ? SKEncodedImageFormat.Png : SKEncodedImageFormat.Jpeg, jpegQuality ?? 100);

    /// <summary>Encodes the image with Skia's encoder for <paramref name="format"/> at <paramref name="quality"/> (0 to 100; PNG ignores it).</summary>
    public static byte[] Encode(Tensor image, SKEncodedImageFormat format, int quality)
    {
        byte[] rgb = ToRgb(image, out int w, out int h);
        using var bitmap = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        byte[] rgba = new byte[4 * w * h];
        for (int i = 0; i < w * h; i++)
        {
            rgba[4 * i] = rgb[3 * i];
            rgba[4 * i + 1] = rgb[3 * i + 1];
            rgba[4 * i + 2] = rgb[3 * i + 2];
            rgba[4 * i + 3] = 255;
        }
        System.Runtime.InteropServices.Marshal.Copy(rgba, 0, bitmap.GetPixels(), rgba.Length);
        // PNG at zlib level 3: 3.5 times faster than Skia's default 6 for 8 % more bytes (the 512×512 astronaut: 36 ms, 529 KB against 124 ms, 488 KB).
        // The pixmap is held (and disposed) here: a temporary one could be finalized while Skia still encodes from it
        // (a crash within a few calls once the collector runs beside them).
        using SKPixmap? pixmap = format == SKEncodedImageFormat.Png ? bitmap.PeekPixels() : null;
        using SKData data = (format == SKEncodedImageFormat.Png
            ? pixmap?.Encode(new SKPngEncoderOptions(SKPngEncoderFilterFlags.AllFilters, 3))
            : bitmap.Encode(format, quality)) ?? throw new InvalidOperationException($"Skia could not encode a {w}×{h} image as {format}.");
        return data.ToArray();
    }

    /// <summary>Pads (1, 3, H, W) on the right and bottom, repeating the edge, to multiples of <paramref name="multiple"/>.</summary>
    public static Tensor Pad(Tensor image, int multiple)
    {
        long h = image.shape[2], w = image.shape[3];
        long ph = (multiple - h % multiple) % multiple, pw = (multiple - w % multiple) % multiple;
        return ph == 0 && pw == 0 ? image.alias() : nn.functional.pad(image, new long[] { 0, pw, 0, ph }, PaddingModes.Replicate);
    }

    /// <summary>The top-left <paramref name="width"/>×<paramref name="height"/> of (1, 3, H, W).</summary>
    public static Tensor Crop(Tensor image, int width, int height) => image[.., .., ..height, ..width];

    /// <summary>
    /// MS-SSIM of 8-bit images (<see cref="SoftRound.Tf.Compression.MsSsim.ms_ssim"/>, data range 255), both rounded to
    /// 8 bits first; NaN for images with a side of <see cref="MsSsimMinimumSide"/> − 1 pixels or fewer, which its five
    /// scales do not fit.
    /// </summary>
    public static double MsSsim(Tensor reference, Tensor image)
    {
        if (Math.Min(image.shape[2], image.shape[3]) < MsSsimMinimumSide) return double.NaN;
        using var scope = NewDisposeScope();
        return SoftRound.Tf.Compression.MsSsim.ms_ssim(EightBit(reference), EightBit(image), dataRange: 255).item<double>();
    }

    /// <summary>The shortest side MS-SSIM's five scales with an 11-tap window take: (11 − 1)·2⁴ + 1.</summary>
    public const int MsSsimMinimumSide = 161;

    /// <summary>An image in [0, 1] as the 8-bit file holds it: y = round(255·clamp(x, 0, 1)), float64 values 0 … 255, any shape.</summary>
    internal static Tensor EightBit(Tensor image)
    {
        // Scalars held until the calls return: TorchSharp's implicit ones can be finalized during them (README, "A rare
        // crash in long runs"; this function met it in eval's sweep).
        using Scalar zero = 0.0.ToScalar(), one = 1.0.ToScalar(), full = 255.0.ToScalar();
        return image.clamp(zero, one).mul(full).round().to(ScalarType.Float64);
    }

    /// <summary>PSNR in dB of 8-bit images: 10·log10(255² / MSE), both rounded to 8 bits first.</summary>
    public static double Psnr(Tensor reference, Tensor image)
    {
        using var scope = NewDisposeScope();
        // d·d, not d.square(): TorchSharp writes that as pow(2), a Scalar made inside it that nothing keeps alive (README,
        // "A rare crash in long runs"; it stopped an eval in this line).
        Tensor difference = EightBit(reference) - EightBit(image);
        double mse = difference.mul(difference).mean().item<double>();
        return 10 * Math.Log10(255.0 * 255.0 / mse);
    }
}
