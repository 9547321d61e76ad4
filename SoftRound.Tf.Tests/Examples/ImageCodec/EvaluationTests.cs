using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using SoftRound.Tf.Tests.Helpers;
using ImageCodec;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf;
using static TorchSharp.torch;
using SoftRound.Tf.Compression;

namespace SoftRound.Tf.Tests.Examples.ImageCodec;

[TestClass]
public sealed class EvaluationTests
{
    private static Evaluation.Point Jpeg(double bpp, double psnr) => new("JPEG", 0, 0, 0, bpp, double.NaN, psnr, double.NaN, 0, 0);

    private static Evaluation.Point Codec(string method, int seed, double bpp, double psnr, int steps = 100) => new(method, 0.01, seed, steps, bpp, bpp, psnr, double.NaN, 0, 0);

    [TestMethod]
    public void QualityAt_InterpolatesBetweenNeighbours_AndIsNaNOutside()
    {
        var curve = new[] { Jpeg(0.8, 34), Jpeg(0.2, 26), Jpeg(0.4, 30) };
        Assert.AreEqual(28.0, Evaluation.QualityAt(curve, 0.3), 1e-12);
        Assert.AreEqual(32.0, Evaluation.QualityAt(curve, 0.6), 1e-12);
        Assert.AreEqual(26.0, Evaluation.QualityAt(curve, 0.2), 1e-12);
        Assert.IsTrue(double.IsNaN(Evaluation.QualityAt(curve, 0.1)));
        Assert.IsTrue(double.IsNaN(Evaluation.QualityAt(curve, 0.9)));
    }

    [TestMethod]
    public void Metrics_AreEachPointsPsnr_AndMsSsimInDecibels_AndDriveQualityAtAndBdRate()
    {
        Evaluation.Point Point(double bpp, double psnr, double msSsim) => new("x", 0, 0, 0, bpp, double.NaN, psnr, msSsim, 0, 0);
        Assert.AreEqual(20.0, Point(0.1, 30, 0.99).MsSsimDb, 1e-12);
        Assert.AreEqual(30.0, Evaluation.Metric.Psnr.Of(Point(0.1, 30, 0.99)));
        Assert.AreEqual(20.0, Evaluation.Metric.MsSsimDb.Of(Point(0.1, 30, 0.99)), 1e-12);
        // MS-SSIM 0.99 and 0.999 are 20 and 30 dB: halfway in bpp is 25 dB, not halfway in MS-SSIM.
        var curve = new[] { Point(0.2, 26, 0.99), Point(0.4, 40, 0.999) };
        Assert.AreEqual(25.0, Evaluation.QualityAt(curve, 0.3, Evaluation.Metric.MsSsimDb), 1e-9);
        Assert.AreEqual(33.0, Evaluation.QualityAt(curve, 0.3), 1e-12);
        // The same curves, rates scaled by 0.8, give −20 % on either metric; a curve better in PSNR only is 0 on MS-SSIM.
        var anchor = new[] { Point(0.2, 26, 0.95), Point(0.4, 29, 0.97), Point(0.8, 33, 0.985) };
        var cheaper = anchor.Select(p => p with { Bpp = 0.8 * p.Bpp }).ToArray();
        Assert.AreEqual(-20.0, Evaluation.BdRate(anchor, cheaper, Evaluation.Metric.MsSsimDb), 1e-9);
        var sharper = anchor.Select(p => p with { Psnr = p.Psnr + 1 }).ToArray();
        Assert.AreEqual(0.0, Evaluation.BdRate(anchor, sharper, Evaluation.Metric.MsSsimDb), 1e-12);
        Assert.IsTrue(Evaluation.BdRate(anchor, sharper) < -10);
        // Images too small for MS-SSIM: NaN, not an exception.
        var small = anchor.Select(p => p with { MsSsim = double.NaN }).ToArray();
        Assert.IsTrue(double.IsNaN(Evaluation.BdRate(anchor, small, Evaluation.Metric.MsSsimDb)));
        Assert.AreEqual(0.0, Evaluation.BdRate(anchor, small), 1e-12);
    }

    [TestMethod]
    public void Curves_JoinOnePointPerSetting_AcrossSeedsAndStepCounts_AndSplitASweepOfSeveralSeedsBySeed()
    {
        Evaluation.Point P(string method, double setting, int seed, int steps) => new(method, setting, seed, steps, setting, double.NaN, 30, 0.9, 0, 0);
        var points = new[]
        {
            // Quality levels, the last two fine-tuned once more with another seed: one curve.
            P("levels", 0.0067, 5, 6000), P("levels", 0.0018, 5, 6000), P("levels", 0.025, 6, 6000), P("levels", 0.0483, 6, 6000),
            // Quality levels of which two trained longer (widened): one curve.
            P("mixed", 0.0067, 5, 6000), P("mixed", 0.0018, 5, 6000), P("mixed", 0.025, 7, 16000), P("mixed", 0.0483, 7, 16000),
            // A sweep of two seeds at the same λ values: one curve per seed; another step count apart.
            P("sweep", 0.01, 2, 100), P("sweep", 0.02, 1, 100), P("sweep", 0.01, 1, 100), P("sweep", 0.02, 2, 100), P("sweep", 0.01, 1, 200),
            P("JPEG", 50, 0, 0), P("JPEG", 10, 0, 0),
        };
        var curves = Evaluation.Curves(points);
        Assert.AreEqual(6, curves.Count);
        Assert.AreEqual(("levels", "5, 6", "6000"), (curves[0].Method, curves[0].SeedLabel, curves[0].StepsLabel));
        CollectionAssert.AreEqual(new[] { 0.0018, 0.0067, 0.025, 0.0483 }, curves[0].Points.Select(p => p.Setting).ToArray());
        Assert.AreEqual(("mixed", "5, 7", "6000, 16000"), (curves[1].Method, curves[1].SeedLabel, curves[1].StepsLabel));
        CollectionAssert.AreEqual(new[] { 0.0018, 0.0067, 0.025, 0.0483 }, curves[1].Points.Select(p => p.Setting).ToArray());
        Assert.AreEqual(("sweep", "1", "100"), (curves[2].Method, curves[2].SeedLabel, curves[2].StepsLabel));
        CollectionAssert.AreEqual(new[] { 0.01, 0.02 }, curves[2].Points.Select(p => p.Setting).ToArray());
        Assert.AreEqual(("sweep", "2", "100"), (curves[3].Method, curves[3].SeedLabel, curves[3].StepsLabel));
        CollectionAssert.AreEqual(new[] { 2, 2 }, curves[3].Points.Select(p => p.Seed).ToArray());
        Assert.AreEqual(("sweep", "1", "200", 1), (curves[4].Method, curves[4].SeedLabel, curves[4].StepsLabel, curves[4].Points.Count));
        Assert.AreEqual(("JPEG", "0"), (curves[5].Method, curves[5].SeedLabel));
        CollectionAssert.AreEqual(new[] { 10.0, 50.0 }, curves[5].Points.Select(p => p.Setting).ToArray());
    }

    [TestMethod]
    public void TableOrder_ListsMethodsInOrder_EachCurveBySetting_LevelsOfMixedStepCountsInLevelOrder()
    {
        Evaluation.Point P(string method, double setting, int seed, int steps) => new(method, setting, seed, steps, setting, double.NaN, 30, 0.9, 0, 0);
        var points = new[]
        {
            P("levels", 0.025, 20, 5000), P("levels", 0.0018, 14, 6000), P("levels", 0.0067, 19, 9000), P("levels", 0.0483, 20, 5000),
            P("factorized", 0.0067, 1, 30000),
            P("levels refined", 0.0067, 19, 9000), P("levels refined", 0.0018, 14, 6000),
            P("Sweep", 0.02, 2, 100), P("Sweep", 0.01, 2, 100), P("Sweep", 0.02, 1, 100), P("Sweep", 0.01, 1, 100),
        };
        var order = Evaluation.TableOrder(points).Select(p => (p.Method, p.Setting, p.Seed)).ToArray();
        CollectionAssert.AreEqual(new[]
        {
            ("Sweep", 0.01, 1), ("Sweep", 0.02, 1), ("Sweep", 0.01, 2), ("Sweep", 0.02, 2),
            ("factorized", 0.0067, 1),
            ("levels", 0.0018, 14), ("levels", 0.0067, 19), ("levels", 0.025, 20), ("levels", 0.0483, 20),
            ("levels refined", 0.0018, 14), ("levels refined", 0.0067, 19),
        }, order);
    }

    private static (Evaluation.Point[] levels, Evaluation.Point[] jpeg, Evaluation.Point[] webp) CsvPoints()
    {
        Evaluation.Point Level(double lambda, int seed, int steps, double bpp, double psnr, double msSsim) =>
            new("autoregressive soft_round + noise", lambda, seed, steps, bpp, bpp * 1.003, psnr, msSsim, 0.25, 0.5);
        var levels = new[] { Level(0.0018, 14, 6000, 0.137, 27.81, 0.9367), Level(0.0067, 19, 9000, 0.2793515431323525, 29.7157, 0.9656), Level(0.0483, 20, 5000, 0.76, 32.29, 0.9849) };
        Evaluation.Point Reference(string method, double q, double bpp, double psnr, double msSsim) => new(method, q, 0, 0, bpp, double.NaN, psnr, msSsim, 0.01, 0.02);
        var jpeg = new[] { Reference("JPEG", 3, 0.1, 22, 0.80), Reference("JPEG", 50, 0.5, 30, 0.95), Reference("JPEG", 90, 1.2, 35, 0.99) };
        var webp = new[] { Reference("WebP", 0, 0.11, 25, 0.88), Reference("WebP", 50, 0.6, 32.5, 0.975), Reference("WebP", 90, 1.5, 38, 0.995) };
        return (levels, jpeg, webp);
    }

    [TestMethod]
    public void CsvLines_ReadCsv_GiveBackEveryPointExactly_WithTheReferencesQualityAtEachRate()
    {
        var (levels, jpeg, webp) = CsvPoints();
        // A small image's MS-SSIM is NaN: it must come back NaN, not fail.
        levels[0] = levels[0] with { MsSsim = double.NaN };
        string[] lines = Evaluation.CsvLines(levels, jpeg, webp).ToArray();
        Assert.AreEqual(Evaluation.CsvHeader, lines[0]);
        Assert.AreEqual(1 + 3 + 3 + 3, lines.Length);
        string[] second = lines[2].Split(',');
        Assert.AreEqual(Evaluation.QualityAt(jpeg, levels[1].Bpp), double.Parse(second[9], System.Globalization.CultureInfo.InvariantCulture));
        Assert.AreEqual(Evaluation.QualityAt(webp, levels[1].Bpp, Evaluation.Metric.MsSsimDb), double.Parse(second[12], System.Globalization.CultureInfo.InvariantCulture));
        Assert.AreEqual("", lines[4].Split(',')[9], "JPEG has no reference columns");
        Assert.AreEqual("", lines[7].Split(',')[12], "WebP has no reference columns");
        CollectionAssert.AreEqual(levels.Concat(jpeg).Concat(webp).ToArray(), Evaluation.ReadCsv("rd.csv", string.Join("\r\n", lines) + "\r\n").ToArray());
    }

    [TestMethod]
    public void ReadCsv_RefusesWhatEvalDidNotWrite_NamingLineAndColumn()
    {
        var (levels, jpeg, webp) = CsvPoints();
        string[] lines = Evaluation.CsvLines(levels, jpeg, webp).ToArray();
        string Refused(string text) => Assert.ThrowsExactly<InvalidDataException>(() => Evaluation.ReadCsv("x.csv", text)).Message;
        string With(int line, Func<string, string> change) => string.Join("\n", lines.Select((l, i) => i == line ? change(l) : l));
        StringAssert.Contains(Refused(""), "x.csv is not an rd.csv of eval");
        StringAssert.Contains(Refused(With(0, l => l.Replace("psnr", "PSNR"))), "is not an rd.csv of eval");
        StringAssert.Contains(Refused(With(2, l => l + ",1")), "x.csv line 3 has 16 columns; expected 15.");
        StringAssert.Contains(Refused(With(1, l => " " + l[l.IndexOf(',')..])), "x.csv line 2 has no method.");
        StringAssert.Contains(Refused(With(3, l => l.Replace("0.76,", "0.7.6,"))), "x.csv line 4: bpp is \"0.7.6\", not a number.");
        StringAssert.Contains(Refused(With(2, l => l.Replace(",19,", ",-1,"))), "x.csv line 3: seed is -1; expected a whole number ≥ 0.");
        StringAssert.Contains(Refused(With(2, l => l.Replace(",9000,", ",9000.5,"))), "x.csv line 3: steps is 9000.5; expected a whole number ≥ 0.");
        StringAssert.Contains(Refused(With(2, l => l.Replace(",9000,", ",2147483648,"))), "x.csv line 3: steps is 2147483648; expected a whole number ≥ 0.");
        Assert.AreEqual(int.MaxValue, Evaluation.ReadCsv("x.csv", With(2, l => l.Replace(",9000,", ",2147483647,")))[1].Steps);
    }

    [TestMethod]
    public void ReadCsv_TruncatedCorruptedOrRandomText_ReadsOrRefuses_NeverAnotherException()
    {
        var (levels, jpeg, webp) = CsvPoints();
        string text = string.Join("\n", Evaluation.CsvLines(levels, jpeg, webp));
        var random = new Random(11);
        for (int trial = 0; trial < 3000; trial++)
        {
            char[] chars = (trial % 3) switch
            {
                0 => text[..random.Next(text.Length + 1)].ToCharArray(),
                1 => text.ToCharArray(),
                _ => Enumerable.Range(0, random.Next(400)).Select(_ => (char)random.Next(1, 0x3000)).ToArray(),
            };
            const string Damage = ",.-\nE9x0 ";
            if (trial % 3 == 1) for (int k = 0; k < 1 + random.Next(4); k++) chars[random.Next(chars.Length)] = Damage[random.Next(Damage.Length)];
            try
            {
                IReadOnlyList<Evaluation.Point> points = Evaluation.ReadCsv("fuzz", new string(chars));
                Assert.IsTrue(points.All(p => p.Method.Trim().Length > 0 && p.Seed >= 0 && p.Steps >= 0));
            }
            catch (InvalidDataException)
            {
            }
        }
    }

    [TestMethod]
    public void Compare_GivesEachMethodsBdRateAgainstItsCurveBefore_LeavingOutWhatCannotBeCompared()
    {
        var (levels, jpeg, webp) = CsvPoints();
        // After: the same qualities at 0.9 times the bits: exactly −10 % (ln bpp shifted by ln 0.9 at every quality).
        Evaluation.Point[] after = levels.Select(p => p with { Bpp = p.Bpp * 0.9 }).ToArray();
        Evaluation.Point Sweep(int seed, double setting, double bpp, double psnr) => new("sweep", setting, seed, 100, bpp, bpp, psnr, 0.9, 0, 0);
        var anchor = levels.Concat(jpeg).Concat(new[] { Sweep(1, 0.01, 0.2, 28), Sweep(1, 0.02, 0.4, 30), Sweep(2, 0.01, 0.2, 28), Sweep(2, 0.02, 0.4, 30) }).ToArray();
        var test = after.Concat(webp).Concat(jpeg.Take(2)).Concat(new[] { Sweep(1, 0.01, 0.2, 28), Sweep(1, 0.02, 0.4, 30), Sweep(2, 0.01, 0.2, 28), Sweep(2, 0.02, 0.4, 30) }).ToArray();
        var rows = Evaluation.Compare(anchor, test);
        // WebP is only after, the sweep has two curves: both left out; JPEG's two points lie on its curve's first segment.
        CollectionAssert.AreEqual(new[] { "autoregressive soft_round + noise", "JPEG" }, rows.Select(r => r.Method).ToArray());
        Assert.AreEqual(3, rows[0].Points);
        Assert.AreEqual(-10.0, rows[0].BdRatePsnr, 1e-9);
        Assert.AreEqual(-10.0, rows[0].BdRateMsSsim, 1e-9);
        // The same qualities at fewer bits: PSNR gained at the same rate, as BdQuality measures it.
        Assert.AreEqual(Evaluation.BdQuality(levels, after), rows[0].BdPsnr);
        Assert.IsTrue(rows[0].BdPsnr > 0.05, $"{rows[0].BdPsnr}");
        Assert.AreEqual(2, rows[1].Points);
        // Two points at one quality in a curve cannot be interpolated: refused as data.
        Evaluation.Point[] twice = levels.Append(levels[1] with { Setting = 0.5, Bpp = 0.5 }).ToArray();
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => Evaluation.Compare(levels, twice)).Message, "a curve cannot be compared:");
    }

    [TestMethod]
    public void Ranking_AveragesTheGainOverJpeg_PerSeedThenOverSeeds()
    {
        // JPEG: 26 dB at 0.2 bpp, 30 at 0.4, 34 at 0.8.
        var jpeg = new[] { Jpeg(0.8, 34), Jpeg(0.2, 26), Jpeg(0.4, 30) };
        var points = new[]
        {
            Codec("a", 1, 0.3, 29), Codec("a", 1, 0.6, 33), // +1, +1
            Codec("a", 2, 0.3, 27.5),                       // −0.5
            Codec("b", 1, 0.3, 28.5), Codec("b", 2, 0.3, 28.7), Codec("b", 2, 0.1, 40), // +0.5, +0.7; 0.1 bpp is outside JPEG's range
            Codec("a", 1, 0.3, 35, steps: 9000),            // another training length: ranked apart
        };
        var ranking = Evaluation.Ranking(points, jpeg);
        Assert.AreEqual(3, ranking.Count);
        Assert.AreEqual(("a", "9000"), (ranking[0].Method, ranking[0].Steps));
        Assert.AreEqual(("b", "100"), (ranking[1].Method, ranking[1].Steps));
        Assert.AreEqual(0.6, ranking[1].Mean, 1e-12);
        Assert.AreEqual(0.2, ranking[1].Spread, 1e-12);
        Assert.AreEqual(1.0, ranking[2].PerSeed["1"], 1e-12);
        Assert.AreEqual(-0.5, ranking[2].PerSeed["2"], 1e-12);
        Assert.AreEqual(0.25, ranking[2].Mean, 1e-12);
        Assert.AreEqual(1.5, ranking[2].Spread, 1e-12);
        // Quality levels of two seeds, one λ each, are one curve: +2 and +1.
        var levels = new[] { Codec("c", 5, 0.3, 30) with { Setting = 0.001 }, Codec("c", 6, 0.6, 33) with { Setting = 0.002 } };
        Evaluation.Standing joined = Evaluation.Ranking(levels, jpeg).Single();
        Assert.AreEqual("5, 6", joined.PerSeed.Keys.Single());
        Assert.AreEqual((1.5, 0.0), (joined.Mean, joined.Spread));
    }

    [TestMethod]
    public void JpegAndWebp_RateAndQualityRiseTogether_AndWebpIsWebp()
    {
        using var scope = NewDisposeScope();
        Tensor image = rand(1, 3, 48, 64, generator: new Generator(3)) * 0.3 + linspace(0, 0.7, 64).reshape(1, 1, 1, 64);
        foreach (var points in new[] { Evaluation.Jpeg(new[] { image }, new[] { 10, 50, 90 }), Evaluation.Webp(new[] { image }, new[] { 10, 50, 90 }) })
        {
            Assert.IsTrue(points[0].Bpp < points[1].Bpp && points[1].Bpp < points[2].Bpp, points[0].Method);
            Assert.IsTrue(points[0].Psnr < points[1].Psnr && points[1].Psnr < points[2].Psnr, points[0].Method);
        }
        Assert.AreEqual("WebP", Evaluation.Webp(new[] { image }, new[] { 50 })[0].Method);
        Assert.IsTrue(double.IsNaN(Evaluation.Jpeg(new[] { image }, new[] { 50 })[0].MsSsim), "48×64 is too small for MS-SSIM's scales");
        Tensor large = rand(1, 3, 176, 192, generator: new Generator(4)) * 0.3 + linspace(0, 0.7, 192).reshape(1, 1, 1, 192);
        foreach (var points in new[] { Evaluation.Jpeg(new[] { large }, new[] { 10, 90 }), Evaluation.Webp(new[] { large }, new[] { 10, 90 }) })
        {
            Assert.IsTrue(points[0].MsSsim < points[1].MsSsim && points[1].MsSsim < 1, points[0].Method);
            Assert.AreEqual(Images.MsSsim(large, Images.Decode(Images.Encode(large, points[0].Method == "JPEG" ? SkiaSharp.SKEncodedImageFormat.Jpeg : SkiaSharp.SKEncodedImageFormat.Webp, 10))), points[0].MsSsim, 1e-12);
        }
        byte[] webp = Images.Encode(image, SkiaSharp.SKEncodedImageFormat.Webp, 50);
        CollectionAssert.AreEqual("RIFF"u8.ToArray(), webp[..4]);
        CollectionAssert.AreEqual("WEBP"u8.ToArray(), webp[8..12]);
    }

    private static Evaluation.Point[] Curve(params (double bpp, double psnr)[] points) => points.Select(p => new Evaluation.Point("x", 0, 0, 0, p.bpp, double.NaN, p.psnr, double.NaN, 0, 0)).ToArray();

    [TestMethod]
    public void BdRate_OfACurveWithEveryRateScaled_IsTheScale_WhateverItsShape()
    {
        // ln(bpp) shifts by ln 0.8 at every PSNR, so the mean difference is ln 0.8 for any interpolation: −20 %.
        var anchor = Curve((0.2, 26), (0.35, 29.5), (0.5, 31), (0.9, 33.2), (1.6, 36));
        var test = anchor.Select(p => p with { Bpp = 0.8 * p.Bpp }).ToArray();
        Assert.AreEqual(-20.0, Evaluation.BdRate(anchor, test), 1e-9);
        Assert.AreEqual(25.0, Evaluation.BdRate(test, anchor), 1e-9);
        Assert.AreEqual(0.0, Evaluation.BdRate(anchor, anchor.Reverse().ToArray()), 1e-12, "order does not matter");
    }

    [TestMethod]
    public void BdRate_OnStraightLines_IsTheirShift_AndOnlyTheOverlapCounts()
    {
        // ln(bpp) = (PSNR − 30)/5 for the anchor; the test is 1 dB better everywhere: ln(bpp) lower by 1/5.
        var anchor = Curve(Enumerable.Range(0, 5).Select(k => (Math.Exp((26.0 + 2 * k - 30) / 5), 26.0 + 2 * k)).ToArray());
        var test = Curve(Enumerable.Range(0, 4).Select(k => (Math.Exp((27.0 + 1.5 * k - 1 - 30) / 5), 27.0 + 1.5 * k)).ToArray());
        Assert.AreEqual((Math.Exp(-0.2) - 1) * 100, Evaluation.BdRate(anchor, test), 1e-9);
        Assert.IsTrue(double.IsNaN(Evaluation.BdRate(anchor, test[..1])), "one point is no curve");
        Assert.IsTrue(double.IsNaN(Evaluation.BdRate(anchor, Curve((0.1, 40), (0.2, 41)))), "no overlap");
    }

    [TestMethod]
    public void BdRate_Pchip_KeepsAMonotoneCurveMonotone_AgainstAHandIntegral()
    {
        // Two points: the interpolant is the straight line through them, whose integral is the trapezoid's.
        var anchor = Curve((0.25, 28), (1.0, 34));
        var test = Curve((0.2, 28), (0.5, 31), (1.0, 34));
        // The test's three points: slopes (ln 2.5)/3 and (ln 2)/3 agree in sign; the interior slope is their weighted
        // harmonic mean, the end slopes the shape-preserving three-point formula: the integral is the Hermite cubic's.
        double d1 = Math.Log(2.5) / 3, d2 = Math.Log(2) / 3;
        double mid = (3 + 3.0 * 2 + 3 + 3.0 * 2) / ((2 * 3 + 3) / d1 + (3 + 2 * 3) / d2);
        double end0 = ((2 * 3 + 3) * d1 - 3 * d2) / 6, end1 = ((2 * 3 + 3) * d2 - 3 * d1) / 6;
        double Piece(double y0, double y1, double s0, double s1) => 3 * (y0 + y1) / 2 + 9 * (s0 - s1) / 12;
        double testIntegral = Piece(Math.Log(0.2), Math.Log(0.5), end0, mid) + Piece(Math.Log(0.5), Math.Log(1.0), mid, end1);
        double anchorIntegral = 6 * (Math.Log(0.25) + Math.Log(1.0)) / 2;
        Assert.AreEqual((Math.Exp((testIntegral - anchorIntegral) / 6) - 1) * 100, Evaluation.BdRate(anchor, test), 1e-9);
        Assert.AreEqual("Evaluation.BdRate: a curve has two points at the same quality. (Parameter 'curve')",
            Assert.ThrowsExactly<ArgumentException>(() => Evaluation.BdRate(anchor, Curve((0.2, 28), (0.3, 28)))).Message);
    }

    [TestMethod]
    public void BdQuality_OnStraightLines_IsTheirOffset_AndOnlyTheOverlapCounts()
    {
        // PSNR = 30 + 5·ln(bpp) for the anchor, 1.25 dB more at every rate for the test, at other rates and over a
        // narrower range: +1.25 dB; the other way round −1.25.
        var anchor = Curve(Enumerable.Range(0, 5).Select(k => (Math.Exp(-2 + 0.5 * k), 30 + 5 * (-2 + 0.5 * k))).ToArray());
        var test = Curve(Enumerable.Range(0, 4).Select(k => (Math.Exp(-1.7 + 0.4 * k), 31.25 + 5 * (-1.7 + 0.4 * k))).ToArray());
        Assert.AreEqual(1.25, Evaluation.BdQuality(anchor, test), 1e-9);
        Assert.AreEqual(-1.25, Evaluation.BdQuality(test, anchor), 1e-9);
        Assert.AreEqual(0.0, Evaluation.BdQuality(anchor, anchor.Reverse().ToArray()), 1e-12, "order does not matter");
        Assert.IsTrue(double.IsNaN(Evaluation.BdQuality(anchor, test[..1])), "one point is no curve");
        Assert.IsTrue(double.IsNaN(Evaluation.BdQuality(anchor, Curve((2.0, 40), (3.0, 41)))), "no overlap");
        Assert.IsTrue(double.IsNaN(Evaluation.BdQuality(anchor, test, Evaluation.Metric.MsSsimDb)), "no MS-SSIM");
        Assert.AreEqual("Evaluation.BdQuality: a curve has two points at the same rate. (Parameter 'curve')",
            Assert.ThrowsExactly<ArgumentException>(() => Evaluation.BdQuality(anchor, Curve((0.2, 28), (0.2, 29)))).Message);
    }

    [TestMethod]
    public void BdQuality_Pchip_AgainstAHandIntegral_OnMsSsimToo()
    {
        // The anchor's two points: a straight line in ln(bpp). The test's three, equally spaced in ln(bpp) (h = ln 2):
        // slopes 3/h and 1.5/h; the interior slope their harmonic mean (equal weights), the ends the three-point formula.
        double h = Math.Log(2);
        var anchor = Curve((0.25, 27), (1.0, 33));
        var test = Curve((0.25, 28), (0.5, 31), (1.0, 32.5));
        double d1 = 3 / h, d2 = 1.5 / h;
        double mid = 2 / (1 / d1 + 1 / d2), end0 = (3 * d1 - d2) / 2, end1 = (3 * d2 - d1) / 2;
        double Piece(double y0, double y1, double s0, double s1) => h * (y0 + y1) / 2 + h * h * (s0 - s1) / 12;
        double testIntegral = Piece(28, 31, end0, mid) + Piece(31, 32.5, mid, end1), anchorIntegral = 2 * h * (27 + 33) / 2;
        double expected = (testIntegral - anchorIntegral) / (2 * h);
        Assert.AreEqual(expected, Evaluation.BdQuality(anchor, test), 1e-12);
        // The same numbers as MS-SSIM in dB: the same delta on that metric.
        static Evaluation.Point[] AsMsSsim(Evaluation.Point[] curve) => curve.Select(p => p with { Psnr = 0, MsSsim = 1 - Math.Pow(10, -p.Psnr / 10) }).ToArray();
        Assert.AreEqual(expected, Evaluation.BdQuality(AsMsSsim(anchor), AsMsSsim(test), Evaluation.Metric.MsSsimDb), 1e-9);
    }

    /// <summary>The committed weights (checked to be the README's model) on the <paramref name="count"/> PNGs of data/<paramref name="set"/>.</summary>
    private static (Evaluation.Point codec, Tensor[] images) CommittedOn(string set, int count)
    {
        string folder = Path.Combine(Repository.Root, "examples", "ImageCodec");
        (CompressionModel model, ModelFile.Config config) = ModelFile.Load(Path.Combine(folder, "weights", "default.srzw"));
        Assert.AreEqual(new ModelFile.Config(32, 48, QuantizationMode.SoftRoundNoise, 5.0, 0.0067, 1, 30000), config);
        Tensor[] images = Directory.GetFiles(Path.Combine(folder, "data", set), "*.png").OrderBy(f => f, StringComparer.Ordinal)
            .Select(f => Images.Decode(File.ReadAllBytes(f))).ToArray();
        Assert.AreEqual(count, images.Length);
        return (Evaluation.Codec(model, config, images), images);
    }

    [TestMethod]
    public void CommittedWeights_ReproduceTheReadmesNumbers_AndBeatJpegThere()
    {
        using var scope = NewDisposeScope();
        (Evaluation.Point codec, Tensor[] images) = CommittedOn("eval", 3);
        // The README's numbers (float32 convolutions may move a latent across a rounding boundary on another CPU).
        Assert.AreEqual(0.3026, codec.Bpp, 0.002);
        Assert.AreEqual(28.02, codec.Psnr, 0.03);
        Assert.IsTrue(Math.Abs(codec.Bpp / codec.EstimatedBpp - 1) < 0.01, $"file {codec.Bpp} bpp, estimate {codec.EstimatedBpp}");
        double jpeg = Evaluation.QualityAt(Evaluation.Jpeg(images, new[] { 10, 15, 20 }), codec.Bpp);
        Assert.AreEqual(27.76, jpeg, 0.03);
        Assert.IsTrue(codec.Psnr > jpeg + 0.2, $"codec {codec.Psnr} dB, JPEG {jpeg} dB at {codec.Bpp} bpp");
        // And where it loses: WebP at the same rate.
        Assert.AreEqual(29.60, Evaluation.QualityAt(Evaluation.Webp(images, new[] { 10, 15 }), codec.Bpp), 0.03);
    }

    [TestMethod]
    public void CommittedWeights_OnTheSixMoreHeldOutPhotographs_GiveTheReadmesNumbers()
    {
        using var scope = NewDisposeScope();
        (Evaluation.Point codec, Tensor[] images) = CommittedOn("heldout", 6);
        Assert.AreEqual(0.3158, codec.Bpp, 0.002);
        Assert.AreEqual(26.40, codec.Psnr, 0.03);
        Assert.AreEqual(27.08, Evaluation.QualityAt(Evaluation.Jpeg(images, new[] { 10, 15 }), codec.Bpp), 0.03);
        Assert.AreEqual(29.09, Evaluation.QualityAt(Evaluation.Webp(images, new[] { 10, 15 }), codec.Bpp), 0.03);
    }

    /// <summary>
    /// The README's curve of the committed quality levels on scikit-image's three held-out photographs: (bpp, PSNR,
    /// MS-SSIM in dB) per level, the BD-rates on PSNR and on MS-SSIM and the BD-PSNR (the six other held-out photographs' curve, from the same command with
    /// <c>--images data/heldout</c>, takes a minute more and is not repeated here).
    /// </summary>
    [TestMethod]
    [DataRow("eval", 3, new[] { 0.1315, 0.1894, 0.2862, 0.4233, 0.6068, 0.8036 }, new[] { 27.79, 28.64, 30.08, 31.36, 32.81, 33.93 },
        new[] { 11.92, 13.26, 14.87, 16.50, 18.04, 19.35 }, new[] { -41.9, -11.1, -49.0, -33.6 }, new[] { 2.53, 0.51 })]
    public void CommittedQualityLevels_GiveTheReadmesCurve(string set, int count, double[] bpp, double[] psnr, double[] msSsimDb, double[] bdRates, double[] bdPsnr)
    {
        using var scope = NewDisposeScope();
        string folder = Path.Combine(Repository.Root, "examples", "ImageCodec");
        Tensor[] images = Directory.GetFiles(Path.Combine(folder, "data", set), "*.png").OrderBy(f => f, StringComparer.Ordinal)
            .Select(f => Images.Decode(File.ReadAllBytes(f))).ToArray();
        Assert.AreEqual(count, images.Length);
        var curve = Enumerable.Range(1, 6).Select(level =>
        {
            (CompressionModel model, ModelFile.Config config) = ModelFile.Load(Path.Combine(folder, "weights", $"q{level}.srzw"));
            Assert.AreEqual(Architecture.JointAutoregressiveHierarchicalPriors, config.Architecture);
            return Evaluation.Codec(model, config, images);
        }).ToArray();
        Console.WriteLine(string.Join("\n", curve.Select(p => $"{p.Bpp:0.0000} bpp {p.Psnr:0.000} dB (estimate {p.EstimatedBpp:0.0000})")));
        IReadOnlyList<Evaluation.Point> jpegCurve = Evaluation.Jpeg(images, Evaluation.JpegQualities), webpCurve = Evaluation.Webp(images, Evaluation.WebpQualities);
        foreach (IReadOnlyList<Evaluation.Point> reference in new[] { jpegCurve, webpCurve })
        {
            // Each sweep reaches below the lowest level's rate, its rates distinct and rising, so every level has a
            // reference to be compared with.
            Assert.IsTrue(reference[0].Bpp < curve[0].Bpp, $"{reference[0].Method} starts at {reference[0].Bpp} bpp");
            for (int k = 1; k < reference.Count; k++) Assert.IsTrue(reference[k].Bpp > reference[k - 1].Bpp * 1.01, $"{reference[k].Method} {reference[k].Setting}");
        }
        double[] measured = new[] { Evaluation.Metric.Psnr, Evaluation.Metric.MsSsimDb }
            .SelectMany(m => new[] { Evaluation.BdRate(jpegCurve, curve, m), Evaluation.BdRate(webpCurve, curve, m) }).ToArray();
        Console.WriteLine($"BD-rate on PSNR: {measured[0]:0.00} % vs JPEG, {measured[1]:0.00} % vs WebP; on MS-SSIM: {measured[2]:0.00} %, {measured[3]:0.00} %");
        for (int i = 0; i < 6; i++)
        {
            // Float32 convolutions may move a latent across a rounding boundary on another CPU: 1 % of the rate, 0.03 dB.
            Assert.AreEqual(bpp[i], curve[i].Bpp, bpp[i] * 0.01, $"level {i + 1}");
            Assert.AreEqual(psnr[i], curve[i].Psnr, 0.03, $"level {i + 1}");
            Assert.AreEqual(msSsimDb[i], curve[i].MsSsimDb, 0.03, $"level {i + 1}");
            // The goal: the files within 1 % of the likelihoods' estimate. These levels' files come out 0.2 % below it to
            // 0.8 % above (the README; below: the tables price the Gaussian's tail latents under the estimate, see CodecTests).
            double deviation = curve[i].Bpp / curve[i].EstimatedBpp - 1;
            Assert.IsTrue(deviation is < 0.01 and > -0.01, $"level {i + 1}: file {curve[i].Bpp} bpp, estimate {curve[i].EstimatedBpp}");
            if (i > 0) Assert.IsTrue(curve[i].Bpp > curve[i - 1].Bpp && curve[i].Psnr > curve[i - 1].Psnr, $"level {i + 1} is not above level {i}");
        }
        for (int k = 0; k < 4; k++) Assert.AreEqual(bdRates[k], measured[k], 0.5, $"BD-rate {k}");
        Assert.AreEqual(bdPsnr[0], Evaluation.BdQuality(jpegCurve, curve), 0.03, "BD-PSNR vs JPEG");
        Assert.AreEqual(bdPsnr[1], Evaluation.BdQuality(webpCurve, curve), 0.03, "BD-PSNR vs WebP");
    }

    [TestMethod]
    public void Codec_WithRefinement_IsItsOwnCurve_RatedByTheRefinedFilesBytes()
    {
        using var scope = NewDisposeScope();
        string folder = Path.Combine(Repository.Root, "examples", "ImageCodec");
        (CompressionModel model, ModelFile.Config config) = ModelFile.Load(Path.Combine(folder, "weights", "q2.srzw"));
        Tensor image = Images.Decode(File.ReadAllBytes(Path.Combine(folder, "data", "eval", "astronaut.png")))[.., .., 300..364, 200..264].contiguous();
        var refinement = new global::ImageCodec.Codec.Refinement(config.Lambda, 5);
        Evaluation.Point refined = Evaluation.Codec(model, config, new[] { image }, refinement), plain = Evaluation.Codec(model, config, new[] { image });
        Assert.AreEqual("autoregressive round_st refined 5", refined.Method);
        Assert.AreEqual("autoregressive round_st", plain.Method);
        Assert.AreEqual(global::ImageCodec.Codec.Compress(model, image, 0, refinement).Length * 8 / 4096.0, refined.Bpp, 1e-12);
        Assert.IsTrue(double.IsNaN(refined.EstimatedBpp) && !double.IsNaN(plain.EstimatedBpp));
    }

    [TestMethod]
    [DataRow(1.4149, 2, "+1.41")]
    [DataRow(-0.486, 2, "-0.49")]
    [DataRow(-0.004, 2, "0.00")]
    [DataRow(0.004, 2, "0.00")]
    [DataRow(-0.0, 2, "0.00")]
    [DataRow(-0.04, 1, "0.0")]
    [DataRow(-0.06, 1, "-0.1")]
    [DataRow(double.NaN, 2, "n/a")]
    public void Signed_PrintsTheSignOfWhatItPrints(double value, int decimals, string expected) =>
        Assert.AreEqual(expected, Evaluation.Signed(value, decimals));

    [TestMethod]
    public void Labels()
    {
        Assert.AreEqual("uniform noise", Evaluation.Label(QuantizationMode.UniformNoise));
        Assert.AreEqual("soft_round + noise", Evaluation.Label(QuantizationMode.SoftRoundNoise));
        Assert.AreEqual("differentiable_round", Evaluation.Label(QuantizationMode.DifferentiableRound));
        Assert.AreEqual(4, Training.Quantizers.Length);
        Assert.AreEqual("factorized", Evaluation.Label(Architecture.FactorizedPrior));
        Assert.AreEqual("hyperprior", Evaluation.Label(Architecture.ScaleHyperprior));
        Assert.AreEqual("mean-scale", Evaluation.Label(Architecture.MeanScaleHyperprior));
        Assert.AreEqual("variable-rate", Evaluation.Label(Architecture.VariableRateHyperprior));
        Assert.AreEqual("autoregressive", Evaluation.Label(Architecture.JointAutoregressiveHierarchicalPriors));
    }
}
