using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using SoftRound.Tf;
using SoftRound.Tf.Entropy;
using SkiaSharp;
using static TorchSharp.torch;
using SoftRound.Tf.Compression;

namespace ImageCodec;

/// <summary>Rate and distortion on held-out images: the codec from the bytes it writes, and JPEG at a sweep of qualities.</summary>
public static class Evaluation
{
    /// <summary>One point of a rate–distortion curve, averaged over the images.</summary>
    /// <param name="Method">"architecture quantizer" (or "JPEG", "WebP").</param>
    /// <param name="Setting">λ, or JPEG's quality.</param>
    /// <param name="Seed">The training seed (0 for JPEG).</param>
    /// <param name="Steps">The training steps (0 for JPEG).</param>
    /// <param name="Bpp">Bits per pixel of the files written.</param>
    /// <param name="EstimatedBpp">Bits per pixel the likelihoods estimate (NaN for JPEG).</param>
    /// <param name="Psnr">PSNR in dB of the 8-bit decoded images.</param>
    /// <param name="MsSsim">MS-SSIM of the 8-bit decoded images (pytorch_msssim's conventions, range 255).</param>
    /// <param name="CompressSeconds">Compress time per image (codec), encode time (JPEG, WebP).</param>
    /// <param name="DecompressSeconds">Decompress time per image (codec), decode time (JPEG, WebP).</param>
    public sealed record Point(string Method, double Setting, int Seed, int Steps, double Bpp, double EstimatedBpp, double Psnr, double MsSsim, double CompressSeconds, double DecompressSeconds)
    {
        /// <summary>MS-SSIM in dB, as the field plots it: −10·log10(1 − MS-SSIM).</summary>
        public double MsSsimDb => -10 * Math.Log10(1 - MsSsim);
    }

    /// <summary>A quality measure of a point, higher is better: PSNR or MS-SSIM, both in dB.</summary>
    /// <param name="Name">Its name in tables and plots.</param>
    /// <param name="Of">Its value at a point.</param>
    public sealed record Metric(string Name, Func<Point, double> Of)
    {
        /// <summary>PSNR (dB).</summary>
        public static Metric Psnr { get; } = new("PSNR", p => p.Psnr);

        /// <summary>MS-SSIM in dB, −10·log10(1 − MS-SSIM).</summary>
        public static Metric MsSsimDb { get; } = new("MS-SSIM", p => p.MsSsimDb);
    }

    /// <summary>
    /// A difference as the tables print it: with its sign and <paramref name="decimals"/> decimals ("+1.41", "-0.49"),
    /// rounded first so that a value rounding to zero prints unsigned ("0.00"; .NET's "+0.00;-0.00" prints −0.004 as
    /// "-+0.00"); "n/a" for NaN.
    /// </summary>
    public static string Signed(double value, int decimals)
    {
        if (double.IsNaN(value)) return "n/a";
        string digits = "0." + new string('0', decimals);
        return (Math.Round(value, decimals) + 0.0).ToString($"+{digits};-{digits};{digits}", CultureInfo.InvariantCulture);
    }

    /// <summary>The label of a training quantizer in tables and plots.</summary>
    public static string Label(QuantizationMode mode) => mode switch
    {
        QuantizationMode.UniformNoise => "uniform noise",
        QuantizationMode.RoundSt => "round_st",
        QuantizationMode.SoftRoundNoise => "soft_round + noise",
        QuantizationMode.DifferentiableRound => "differentiable_round",
        _ => "ste_soft_round",
    };

    /// <summary>The label of an architecture in tables and plots.</summary>
    public static string Label(Architecture architecture) => architecture switch
    {
        Architecture.FactorizedPrior => "factorized",
        Architecture.ScaleHyperprior => "hyperprior",
        Architecture.VariableRateHyperprior => "variable-rate",
        Architecture.JointAutoregressiveHierarchicalPriors => "autoregressive",
        _ => "mean-scale",
    };

    /// <summary>
    /// The codec's point: each image compressed to bytes and decompressed, its bpp from the bytes; its method is
    /// "architecture quantizer", and "… refined" with <paramref name="refinement"/> (whose estimated bpp is not
    /// computed: NaN).
    /// </summary>
    public static Point Codec(CompressionModel model, ModelFile.Config config, IReadOnlyList<Tensor> images, ImageCodec.Codec.Refinement? refinement = null)
    {
        double bpp = 0, estimated = 0, psnr = 0, msSsim = 0, compress = 0, decompress = 0;
        foreach (Tensor image in images)
        {
            using var scope = NewDisposeScope();
            double pixels = image.shape[2] * image.shape[3];
            var clock = Stopwatch.StartNew();
            byte[] file = ImageCodec.Codec.Compress(model, image, refinement: refinement);
            compress += clock.Elapsed.TotalSeconds;
            clock.Restart();
            Tensor decoded = ImageCodec.Codec.Decompress(model, file);
            decompress += clock.Elapsed.TotalSeconds;
            bpp += file.Length * 8 / pixels;
            if (refinement is null)
            {
                (_, Tensor[] likelihoods) = ImageCodec.Codec.Forward(model, image);
                estimated += Bits.total(likelihoods.Select(l => l.to(ScalarType.Float64)).ToArray()).item<double>() / pixels;
            }
            else estimated = double.NaN;
            psnr += Images.Psnr(image, decoded);
            msSsim += Images.MsSsim(image, decoded);
        }
        int n = images.Count;
        string refined = refinement is null ? "" : $" refined {refinement.Steps}";
        return new Point($"{Label(config.Architecture)} {Label(config.Mode)}{refined}", config.Lambda, config.Seed, config.Steps, bpp / n, estimated / n, psnr / n, msSsim / n, compress / n, decompress / n);
    }

    /// <summary>
    /// The qualities <c>eval</c> sweeps JPEG at: 3 to 90, reaching below the lowest quality level's rate (Skia's JPEG
    /// writes files of the same size, to 0.1 %, at 0, 1 and 2, and a curve needs distinct rates).
    /// </summary>
    public static IReadOnlyList<int> JpegQualities { get; } = new[] { 3, 4, 5, 10, 15, 20, 25, 30, 40, 50, 60, 70, 80, 90 };

    /// <summary>The qualities <c>eval</c> sweeps WebP at: 0 to 90, reaching below the lowest quality level's rate.</summary>
    public static IReadOnlyList<int> WebpQualities { get; } = new[] { 0, 1, 2, 3, 4, 5, 10, 15, 20, 25, 30, 40, 50, 60, 70, 80, 90 };

    /// <summary>JPEG (Skia's encoder, 4:2:0) at each quality: bytes of the file, PSNR of its decoding.</summary>
    public static IReadOnlyList<Point> Jpeg(IReadOnlyList<Tensor> images, IEnumerable<int> qualities) => Reference("JPEG", SKEncodedImageFormat.Jpeg, images, qualities);

    /// <summary>WebP (Skia's encoder, libwebp, lossy) at each quality: bytes of the file, PSNR of its decoding.</summary>
    public static IReadOnlyList<Point> Webp(IReadOnlyList<Tensor> images, IEnumerable<int> qualities) => Reference("WebP", SKEncodedImageFormat.Webp, images, qualities);

    private static IReadOnlyList<Point> Reference(string method, SKEncodedImageFormat format, IReadOnlyList<Tensor> images, IEnumerable<int> qualities) =>
        qualities.Select(q =>
        {
            double bpp = 0, psnr = 0, msSsim = 0, encode = 0, decode = 0;
            foreach (Tensor image in images)
            {
                using var scope = NewDisposeScope();
                var clock = Stopwatch.StartNew();
                byte[] file = Images.Encode(image, format, q);
                encode += clock.Elapsed.TotalSeconds;
                clock.Restart();
                Tensor decoded = Images.Decode(file);
                decode += clock.Elapsed.TotalSeconds;
                bpp += file.Length * 8.0 / (image.shape[2] * image.shape[3]);
                psnr += Images.Psnr(image, decoded);
                msSsim += Images.MsSsim(image, decoded);
            }
            int n = images.Count;
            return new Point(method, q, 0, 0, bpp / n, double.NaN, psnr / n, msSsim / n, encode / n, decode / n);
        }).ToArray();

    /// <summary>A curve: points of one method, one per setting, sorted by setting.</summary>
    /// <param name="Method">The method.</param>
    /// <param name="Seeds">The training seeds of its points, ascending (0 for JPEG and WebP).</param>
    /// <param name="Steps">The training steps of its models, ascending (0 for JPEG and WebP).</param>
    /// <param name="Points">Its points.</param>
    public sealed record Curve(string Method, IReadOnlyList<int> Seeds, IReadOnlyList<int> Steps, IReadOnlyList<Point> Points)
    {
        /// <summary>The seeds as the tables print them: "5", or "5, 6".</summary>
        public string SeedLabel => string.Join(", ", Seeds);

        /// <summary>The step counts as the tables print them: "6000", or "6000, 16000".</summary>
        public string StepsLabel => string.Join(", ", Steps);
    }

    /// <summary>
    /// The points as curves: per method, one curve where no two points share a setting (quality levels fine-tuned with
    /// different seeds or for different step counts are one curve), else one per step count and seed (a sweep of several
    /// seeds or lengths).
    /// </summary>
    public static IReadOnlyList<Curve> Curves(IEnumerable<Point> points) =>
        points.GroupBy(p => p.Method)
            .SelectMany(g => g.Select(p => p.Setting).Distinct().Count() == g.Count()
                ? new[] { g.ToArray() }
                : g.GroupBy(p => (p.Steps, p.Seed)).OrderBy(s => s.Key).Select(s => s.ToArray()))
            .Select(c => c.OrderBy(p => p.Setting).ToArray())
            .Select(c => new Curve(c[0].Method, c.Select(p => p.Seed).Distinct().Order().ToArray(), c.Select(p => p.Steps).Distinct().Order().ToArray(), c))
            .ToArray();

    /// <summary>The header line of <c>eval</c>'s rd.csv: a point's own columns, the two references' quality at its rate, its times.</summary>
    public const string CsvHeader = "method,setting,seed,steps,bpp,estimated_bpp,psnr,ms_ssim,ms_ssim_db,jpeg_psnr_at_bpp,webp_psnr_at_bpp,jpeg_ms_ssim_db_at_bpp,webp_ms_ssim_db_at_bpp,compress_s,decompress_s";

    /// <summary>
    /// rd.csv's lines: <see cref="CsvHeader"/>, then one per point of <paramref name="points"/>, <paramref name="jpeg"/>
    /// and <paramref name="webp"/>, numbers in the invariant culture's round-trip form; the references' quality at a
    /// codec point's rate (PSNR, then MS-SSIM in dB; empty on the references' own rows).
    /// </summary>
    public static IEnumerable<string> CsvLines(IEnumerable<Point> points, IReadOnlyList<Point> jpeg, IReadOnlyList<Point> webp)
    {
        static string R(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        yield return CsvHeader;
        foreach (Point p in points.Concat(jpeg).Concat(webp))
        {
            bool reference = p.Method is "JPEG" or "WebP";
            IEnumerable<string> at = new[] { Metric.Psnr, Metric.MsSsimDb }.SelectMany(m => new[] { jpeg, webp }.Select(curve => reference ? "" : R(QualityAt(curve, p.Bpp, m))));
            yield return string.Join(",", new[] { p.Method, R(p.Setting), R(p.Seed), R(p.Steps), R(p.Bpp), R(p.EstimatedBpp), R(p.Psnr), R(p.MsSsim), R(p.MsSsimDb) }
                .Concat(at).Concat(new[] { R(p.CompressSeconds), R(p.DecompressSeconds) }));
        }
    }

    /// <summary>The points of an rd.csv <c>eval</c> wrote (<see cref="CsvLines"/>), in its order.</summary>
    /// <exception cref="InvalidDataException">
    /// The text does not start with <see cref="CsvHeader"/>, or a line has another number of columns, an empty method,
    /// a number that does not parse, or a seed or step count that is not a whole number ≥ 0; the message names the
    /// line and the column.
    /// </exception>
    public static IReadOnlyList<Point> ReadCsv(string name, string text)
    {
        string[] lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        if (lines[0] != CsvHeader) throw new InvalidDataException($"{name} is not an rd.csv of eval: its first line is not the header \"{CsvHeader[..30]}…\".");
        string[] columns = CsvHeader.Split(',');
        var points = new List<Point>();
        for (int n = 1; n < lines.Length; n++)
        {
            if (lines[n].Length == 0) continue;
            string[] f = lines[n].Split(',');
            if (f.Length != columns.Length) throw new InvalidDataException($"{name} line {n + 1} has {f.Length} columns; expected {columns.Length}.");
            if (f[0].Trim().Length == 0) throw new InvalidDataException($"{name} line {n + 1} has no method.");
            double Value(int c)
            {
                if (double.TryParse(f[c], NumberStyles.Float, CultureInfo.InvariantCulture, out double v)) return v;
                throw new InvalidDataException($"{name} line {n + 1}: {columns[c]} is \"{f[c]}\", not a number.");
            }
            int Whole(int c)
            {
                double v = Value(c);
                if (v >= 0 && v <= int.MaxValue && v == Math.Floor(v)) return (int)v;
                throw new InvalidDataException($"{name} line {n + 1}: {columns[c]} is {f[c]}; expected a whole number ≥ 0.");
            }
            points.Add(new Point(f[0], Value(1), Whole(2), Whole(3), Value(4), Value(5), Value(6), Value(7), Value(13), Value(14)));
        }
        return points;
    }

    /// <summary>A method's curve after a change against its curve before: BD-rates in percent and BD-PSNR in dB (NaN: the curves do not overlap).</summary>
    public sealed record Comparison(string Method, int Points, double BdRatePsnr, double BdRateMsSsim, double BdPsnr);

    /// <summary>
    /// For each method that makes one curve (<see cref="Curves"/>) in both <paramref name="anchor"/> and
    /// <paramref name="test"/>, in <paramref name="test"/>'s order: the <see cref="BdRate"/> of its curve in test against
    /// its curve in anchor, on PSNR and on MS-SSIM, and the <see cref="BdQuality"/> on PSNR. Methods with several curves
    /// (sweeps of several seeds) are left out.
    /// </summary>
    /// <exception cref="InvalidDataException">A curve has two points at the same quality or rate (not one eval wrote).</exception>
    public static IReadOnlyList<Comparison> Compare(IReadOnlyList<Point> anchor, IReadOnlyList<Point> test)
    {
        Dictionary<string, Curve> single(IReadOnlyList<Point> points) => Curves(points).GroupBy(c => c.Method).Where(g => g.Count() == 1).ToDictionary(g => g.Key, g => g.Single());
        Dictionary<string, Curve> before = single(anchor), after = single(test);
        try
        {
            return after.Values.Where(c => before.ContainsKey(c.Method)).Select(c => new Comparison(c.Method, c.Points.Count,
                BdRate(before[c.Method].Points, c.Points, Metric.Psnr), BdRate(before[c.Method].Points, c.Points, Metric.MsSsimDb),
                BdQuality(before[c.Method].Points, c.Points, Metric.Psnr))).ToArray();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"a curve cannot be compared: {e.Message}", e);
        }
    }

    /// <summary>
    /// The points in the order <c>eval</c>'s tables list them: method by method (ordinal order of their names), each
    /// method's <see cref="Curves"/> one after another, each curve's points by setting (so quality levels trained for
    /// different step counts still come in level order).
    /// </summary>
    public static IReadOnlyList<Point> TableOrder(IEnumerable<Point> points) =>
        Curves(points.OrderBy(p => p.Method, StringComparer.Ordinal)).SelectMany(c => c.Points).ToArray();

    /// <summary>A quantizer's standing: its mean PSNR gain over JPEG at the same bpp, per curve and over the curves.</summary>
    /// <param name="Method">The quantizer.</param>
    /// <param name="Steps">The training steps of its models (<see cref="Curve.StepsLabel"/>).</param>
    /// <param name="PerSeed">Each curve's (<see cref="Curves"/>: a seed's, or one of several seeds' levels) mean Δ PSNR over its λ values inside JPEG's range, by its <see cref="Curve.SeedLabel"/>.</param>
    /// <param name="Mean">The mean over the curves.</param>
    public sealed record Standing(string Method, string Steps, IReadOnlyDictionary<string, double> PerSeed, double Mean)
    {
        /// <summary>The spread over the curves: the largest minus the smallest curve's mean.</summary>
        public double Spread => PerSeed.Values.Max() - PerSeed.Values.Min();
    }

    /// <summary>
    /// The quantizers ranked by their mean Δ PSNR against JPEG (codec PSNR − JPEG's interpolated PSNR at the codec's bpp),
    /// averaged over λ for each curve (<see cref="Curves"/>: a seed's models, or quality levels of several seeds) and
    /// then over the curves; points outside JPEG's range are left out. Curves of different step counts (their
    /// <see cref="Curve.StepsLabel"/>) are ranked apart.
    /// </summary>
    public static IReadOnlyList<Standing> Ranking(IEnumerable<Point> codec, IReadOnlyList<Point> jpeg) =>
        Curves(codec.Where(p => !double.IsNaN(QualityAt(jpeg, p.Bpp))))
            .GroupBy(c => (c.Method, c.StepsLabel))
            .Select(g =>
            {
                var perSeed = g.OrderBy(c => c.Seeds[0]).ToDictionary(c => c.SeedLabel, c => c.Points.Average(p => p.Psnr - QualityAt(jpeg, p.Bpp)));
                return new Standing(g.Key.Method, g.Key.StepsLabel, perSeed, perSeed.Values.Average());
            })
            .OrderByDescending(s => s.Mean).ToArray();

    /// <summary>
    /// A reference curve's quality (<paramref name="metric"/>, PSNR when null) at <paramref name="bpp"/>, linearly
    /// interpolated between its two nearest points; NaN outside its range.
    /// </summary>
    public static double QualityAt(IReadOnlyList<Point> curve, double bpp, Metric? metric = null)
    {
        Func<Point, double> of = (metric ?? Metric.Psnr).Of;
        Point[] sorted = curve.OrderBy(p => p.Bpp).ToArray();
        for (int i = 1; i < sorted.Length; i++)
        {
            if (bpp >= sorted[i - 1].Bpp && bpp <= sorted[i].Bpp)
            {
                double t = (bpp - sorted[i - 1].Bpp) / (sorted[i].Bpp - sorted[i - 1].Bpp);
                return of(sorted[i - 1]) + t * (of(sorted[i]) - of(sorted[i - 1]));
            }
        }
        return double.NaN;
    }

    /// <summary>
    /// The Bjøntegaard delta rate of <paramref name="test"/> against <paramref name="anchor"/>, in percent: the mean
    /// difference of ln(bpp) over the quality range both curves cover (<paramref name="metric"/>, PSNR when null), each
    /// curve ln(bpp) as a function of quality interpolated piecewise cubically (PCHIP, Fritsch–Carlson, as the field's
    /// tools do), as exp(mean) − 1. Negative: fewer bits at the same quality. NaN when either curve has fewer than two
    /// points, a point's quality is NaN (MS-SSIM of small images), or the ranges do not overlap.
    /// </summary>
    /// <exception cref="ArgumentException">A curve has two points at the same quality.</exception>
    public static double BdRate(IReadOnlyList<Point> anchor, IReadOnlyList<Point> test, Metric? metric = null)
    {
        Func<Point, double> of = (metric ?? Metric.Psnr).Of;
        double mean = MeanDifference($"{nameof(Evaluation)}.{nameof(BdRate)}", "quality", anchor, test, of, p => Math.Log(p.Bpp));
        return (Math.Exp(mean) - 1) * 100;
    }

    /// <summary>
    /// The Bjøntegaard delta quality of <paramref name="test"/> against <paramref name="anchor"/> (BD-PSNR on PSNR, in
    /// dB): the mean difference of quality (<paramref name="metric"/>, PSNR when null) over the range of ln(bpp) both
    /// curves cover, each curve's quality as a function of ln(bpp) interpolated as in <see cref="BdRate"/>. Positive:
    /// better quality at the same rate. NaN as for <see cref="BdRate"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A curve has two points at the same rate.</exception>
    public static double BdQuality(IReadOnlyList<Point> anchor, IReadOnlyList<Point> test, Metric? metric = null)
    {
        Func<Point, double> of = (metric ?? Metric.Psnr).Of;
        return MeanDifference($"{nameof(Evaluation)}.{nameof(BdQuality)}", "rate", anchor, test, p => Math.Log(p.Bpp), of);
    }

    /// <summary>
    /// The mean of test's y minus anchor's y over the x both curves cover, each y(x) a <see cref="Pchip"/>; NaN when either
    /// curve has fewer than two points, a point's x or y is NaN, or the ranges do not overlap.
    /// </summary>
    /// <exception cref="ArgumentException">Two points of a curve have the same x (<paramref name="along"/>, as the message calls it, with <paramref name="member"/>).</exception>
    private static double MeanDifference(string member, string along, IReadOnlyList<Point> anchor, IReadOnlyList<Point> test, Func<Point, double> x, Func<Point, double> y)
    {
        if (anchor.Count < 2 || test.Count < 2) return double.NaN;
        if (anchor.Concat(test).Any(p => double.IsNaN(x(p)) || double.IsNaN(y(p)))) return double.NaN;
        string duplicate = $"{member}: a curve has two points at the same {along}.";
        Pchip a = new(anchor, x, y, duplicate), t = new(test, x, y, duplicate);
        double low = Math.Max(a.Low, t.Low), high = Math.Min(a.High, t.High);
        if (!(high > low)) return double.NaN;
        return (t.Integral(low, high) - a.Integral(low, high)) / (high - low);
    }

    /// <summary>A curve's y as a piecewise cubic Hermite function of its x with Fritsch–Carlson's monotone slopes.</summary>
    private sealed class Pchip
    {
        private readonly double[] x, y, d;

        /// <exception cref="ArgumentException">Two points have the same x: <paramref name="duplicate"/> is the message.</exception>
        public Pchip(IReadOnlyList<Point> curve, Func<Point, double> along, Func<Point, double> value, string duplicate)
        {
            Point[] sorted = curve.OrderBy(along).ToArray();
            x = sorted.Select(along).ToArray();
            y = sorted.Select(value).ToArray();
            if (x.Zip(x.Skip(1)).Any(pair => !(pair.Second > pair.First))) throw new ArgumentException(duplicate, nameof(curve));
            int n = x.Length;
            double[] h = new double[n - 1], delta = new double[n - 1];
            for (int k = 0; k < n - 1; k++)
            {
                h[k] = x[k + 1] - x[k];
                delta[k] = (y[k + 1] - y[k]) / h[k];
            }
            d = new double[n];
            if (n == 2)
            {
                d[0] = d[1] = delta[0];
                return;
            }
            for (int k = 1; k < n - 1; k++)
            {
                if (delta[k - 1] * delta[k] <= 0) continue;
                double w1 = 2 * h[k] + h[k - 1], w2 = h[k] + 2 * h[k - 1];
                d[k] = (w1 + w2) / (w1 / delta[k - 1] + w2 / delta[k]);
            }
            d[0] = EndSlope(h[0], h[1], delta[0], delta[1]);
            d[n - 1] = EndSlope(h[n - 2], h[n - 3], delta[n - 2], delta[n - 3]);
        }

        public double Low => x[0];

        public double High => x[^1];

        /// <summary>The one-sided three-point slope at an end, kept to the shape of the data.</summary>
        private static double EndSlope(double h0, double h1, double delta0, double delta1)
        {
            double slope = ((2 * h0 + h1) * delta0 - h0 * delta1) / (h0 + h1);
            if (Math.Sign(slope) != Math.Sign(delta0)) return 0;
            if (Math.Sign(delta0) != Math.Sign(delta1) && Math.Abs(slope) > Math.Abs(3 * delta0)) return 3 * delta0;
            return slope;
        }

        private double At(double v)
        {
            int k = Math.Clamp(Array.BinarySearch(x, v) is var i && i >= 0 ? i : ~i - 1, 0, x.Length - 2);
            double hk = x[k + 1] - x[k], s = (v - x[k]) / hk;
            double h00 = (1 + 2 * s) * (1 - s) * (1 - s), h10 = s * (1 - s) * (1 - s), h01 = s * s * (3 - 2 * s), h11 = s * s * (s - 1);
            return h00 * y[k] + h10 * hk * d[k] + h01 * y[k + 1] + h11 * hk * d[k + 1];
        }

        /// <summary>∫ from <paramref name="low"/> to <paramref name="high"/>, by Simpson's rule on each cubic piece (exact).</summary>
        public double Integral(double low, double high)
        {
            double sum = 0;
            for (int k = 0; k < x.Length - 1; k++)
            {
                double a = Math.Max(low, x[k]), b = Math.Min(high, x[k + 1]);
                if (b > a) sum += (b - a) / 6 * (At(a) + 4 * At((a + b) / 2) + At(b));
            }
            return sum;
        }
    }
}
