using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using SoftRound.Tf;
using SoftRound.Tf.Entropy;
using static TorchSharp.torch;
using SoftRound.Tf.Compression;

namespace ImageCodec;

/// <summary>Rate and distortion on held-out images: the codec from the bytes it writes, and JPEG at a sweep of qualities.</summary>
public static class Evaluation
{
    /// <summary>One point of a rate–distortion curve, averaged over the images.</summary>
    /// <param name="Method">The quantizer (or "JPEG").</param>
    /// <param name="Setting">λ, or JPEG's quality.</param>
    /// <param name="Seed">The training seed (0 for JPEG).</param>
    /// <param name="Steps">The training steps (0 for JPEG).</param>
    /// <param name="Bpp">Bits per pixel of the files written.</param>
    /// <param name="EstimatedBpp">Bits per pixel the likelihoods estimate (NaN for JPEG).</param>
    /// <param name="Psnr">PSNR in dB of the 8-bit decoded images.</param>
    /// <param name="Seconds">Compress and decompress time per image (codec), encode and decode (JPEG).</param>
    public sealed record Point(string Method, double Setting, int Seed, int Steps, double Bpp, double EstimatedBpp, double Psnr, double CompressSeconds, double DecompressSeconds);

    /// <summary>The label of a training quantizer in tables and plots.</summary>
    public static string Label(QuantizationMode mode) => mode switch
    {
        QuantizationMode.UniformNoise => "uniform noise",
        QuantizationMode.RoundSt => "round_st",
        QuantizationMode.SoftRoundNoise => "soft_round + noise",
        QuantizationMode.DifferentiableRound => "differentiable_round",
        _ => "ste_soft_round",
    };

    /// <summary>The codec's point: each image compressed to bytes and decompressed, its bpp from the bytes.</summary>
    public static Point Codec(FactorizedPrior model, ModelFile.Config config, IReadOnlyList<Tensor> images)
    {
        double bpp = 0, estimated = 0, psnr = 0, compress = 0, decompress = 0;
        foreach (Tensor image in images)
        {
            using var scope = NewDisposeScope();
            double pixels = image.shape[2] * image.shape[3];
            var clock = Stopwatch.StartNew();
            byte[] file = ImageCodec.Codec.Compress(model, image);
            compress += clock.Elapsed.TotalSeconds;
            clock.Restart();
            Tensor decoded = ImageCodec.Codec.Decompress(model, file);
            decompress += clock.Elapsed.TotalSeconds;
            (_, Tensor likelihoods) = ImageCodec.Codec.Forward(model, image);
            bpp += file.Length * 8 / pixels;
            estimated += Bits.total(likelihoods.to(ScalarType.Float64)).item<double>() / pixels;
            psnr += Images.Psnr(image, decoded);
        }
        int n = images.Count;
        return new Point(Label(config.Mode), config.Lambda, config.Seed, config.Steps, bpp / n, estimated / n, psnr / n, compress / n, decompress / n);
    }

    /// <summary>JPEG (Skia's encoder, 4:2:0) at each quality: bytes of the file, PSNR of its decoding.</summary>
    public static IReadOnlyList<Point> Jpeg(IReadOnlyList<Tensor> images, IEnumerable<int> qualities) =>
        qualities.Select(q =>
        {
            double bpp = 0, psnr = 0, encode = 0, decode = 0;
            foreach (Tensor image in images)
            {
                using var scope = NewDisposeScope();
                var clock = Stopwatch.StartNew();
                byte[] jpeg = Images.Encode(image, q);
                encode += clock.Elapsed.TotalSeconds;
                clock.Restart();
                Tensor decoded = Images.Decode(jpeg);
                decode += clock.Elapsed.TotalSeconds;
                bpp += jpeg.Length * 8.0 / (image.shape[2] * image.shape[3]);
                psnr += Images.Psnr(image, decoded);
            }
            return new Point("JPEG", q, 0, 0, bpp / images.Count, double.NaN, psnr / images.Count, encode / images.Count, decode / images.Count);
        }).ToArray();

    /// <summary>A quantizer's standing: its mean PSNR gain over JPEG at the same bpp, per seed and over the seeds.</summary>
    /// <param name="Method">The quantizer.</param>
    /// <param name="Steps">The training steps of its models.</param>
    /// <param name="PerSeed">Each seed's mean Δ PSNR over that seed's λ values inside JPEG's range.</param>
    /// <param name="Mean">The mean over the seeds.</param>
    public sealed record Standing(string Method, int Steps, IReadOnlyDictionary<int, double> PerSeed, double Mean)
    {
        /// <summary>The spread over the seeds: the largest minus the smallest seed's mean.</summary>
        public double Spread => PerSeed.Values.Max() - PerSeed.Values.Min();
    }

    /// <summary>
    /// The quantizers ranked by their mean Δ PSNR against JPEG (codec PSNR − JPEG's interpolated PSNR at the codec's bpp),
    /// averaged over λ for each seed and then over the seeds; points outside JPEG's range are left out. Models trained
    /// for different step counts are ranked apart.
    /// </summary>
    public static IReadOnlyList<Standing> Ranking(IEnumerable<Point> codec, IReadOnlyList<Point> jpeg) =>
        codec.Select(p => (p, delta: p.Psnr - JpegPsnrAt(jpeg, p.Bpp))).Where(e => !double.IsNaN(e.delta))
            .GroupBy(e => (e.p.Method, e.p.Steps))
            .Select(g =>
            {
                var perSeed = g.GroupBy(e => e.p.Seed).OrderBy(s => s.Key).ToDictionary(s => s.Key, s => s.Average(e => e.delta));
                return new Standing(g.Key.Method, g.Key.Steps, perSeed, perSeed.Values.Average());
            })
            .OrderByDescending(s => s.Mean).ToArray();

    /// <summary>JPEG's PSNR at <paramref name="bpp"/>, linearly interpolated between its two nearest qualities; NaN outside its range.</summary>
    public static double JpegPsnrAt(IReadOnlyList<Point> jpeg, double bpp)
    {
        Point[] sorted = jpeg.OrderBy(p => p.Bpp).ToArray();
        for (int i = 1; i < sorted.Length; i++)
        {
            if (bpp >= sorted[i - 1].Bpp && bpp <= sorted[i].Bpp)
            {
                double t = (bpp - sorted[i - 1].Bpp) / (sorted[i].Bpp - sorted[i - 1].Bpp);
                return sorted[i - 1].Psnr + t * (sorted[i].Psnr - sorted[i - 1].Psnr);
            }
        }
        return double.NaN;
    }
}
