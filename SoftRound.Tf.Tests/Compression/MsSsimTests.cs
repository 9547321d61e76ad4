using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Tests.Helpers;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Compression;

[TestClass]
public sealed class MsSsimTests : WithoutOneDnn
{
    /// <summary>The fixture's images: a formula of (n, c, i, j) in float64 (ms_ssim_pytorch.py's), times <paramref name="scale"/>.</summary>
    private static (Tensor X, Tensor Y) Images(long[] shape, double scale)
    {
        long n = shape[0], c = shape[1], h = shape[2], w = shape[3];
        double[] x = new double[n * c * h * w], y = new double[x.Length];
        int k = 0;
        for (long a = 0; a < n; a++)
        for (long b = 0; b < c; b++)
        for (long i = 0; i < h; i++)
        for (long j = 0; j < w; j++, k++)
        {
            x[k] = 127.5 + 60 * Math.Sin(0.11 * i + 0.05 * j * (b + 1) + a) + 40 * Math.Cos(0.0074 * i * j + b);
            y[k] = (x[k] + 25 * Math.Sin(1.7 * i + 2.3 * j + 0.5 * b + a) + 10 * Math.Cos(0.23 * j - 0.41 * i)) * scale;
            x[k] *= scale;
        }
        return (tensor(x, shape, ScalarType.Float64), tensor(y, shape, ScalarType.Float64));
    }

    private static JsonElement[] Cases()
    {
        string path = Path.Combine(Repository.Root, "SoftRound.Tf.Tests", "Reference", "ms-ssim-pytorch.json");
        return JsonDocument.Parse(File.ReadAllText(path)).RootElement.GetProperty("cases").EnumerateArray().ToArray();
    }

    private static double[] Doubles(JsonElement e, string name) => e.GetProperty(name).EnumerateArray().Select(v => v.GetDouble()).ToArray();

    private static double[]? Weights(JsonElement e) =>
        e.GetProperty("weights").ValueKind == JsonValueKind.Null ? null : Doubles(e, "weights");

    private static Tensor MsSsimOf(JsonElement e, Tensor x, Tensor y) =>
        MsSsim.ms_ssim(x, y, e.GetProperty("data_range").GetDouble(), sizeAverage: false, e.GetProperty("win_size").GetInt32(),
            e.GetProperty("win_sigma").GetDouble(), Weights(e), e.GetProperty("k1").GetDouble(), e.GetProperty("k2").GetDouble());

    [TestMethod]
    public void Float64_EqualsPytorchMsssim_ValuesAndGradients()
    {
        foreach (JsonElement e in Cases())
        {
            using var scope = NewDisposeScope();
            long[] shape = e.GetProperty("shape").EnumerateArray().Select(v => v.GetInt64()).ToArray();
            double range = e.GetProperty("data_range").GetDouble();
            (Tensor x, Tensor y) = Images(shape, range / 255);
            x.requires_grad_(true);
            Tensor m = MsSsimOf(e, x, y);
            TensorAssert.Close(Doubles(e, "ms_ssim"), m, 0, 1e-13);
            Tensor s = MsSsim.ssim(x, y, range, sizeAverage: false, e.GetProperty("win_size").GetInt32(), e.GetProperty("win_sigma").GetDouble(),
                e.GetProperty("k1").GetDouble(), e.GetProperty("k2").GetDouble());
            TensorAssert.Close(Doubles(e, "ssim"), s, 0, 1e-13);
            m.sum().backward();
            Tensor grad = x.grad!.flatten();
            long[] picks = e.GetProperty("grad_indices").EnumerateArray().Select(v => v.GetInt64()).ToArray();
            TensorAssert.Close(Doubles(e, "grad_values"), grad[tensor(picks)], 1e-9, 1e-20);
            Assert.AreEqual(e.GetProperty("grad_sum").GetDouble(), grad.sum().item<double>(), 1e-9 * Math.Abs(e.GetProperty("grad_sum").GetDouble()), e.GetProperty("name").GetString());
            Assert.AreEqual(e.GetProperty("grad_sum_of_squares").GetDouble(), grad.square().sum().item<double>(), 1e-9 * e.GetProperty("grad_sum_of_squares").GetDouble());
        }
    }

    [TestMethod]
    public void Float32_IsCloserToTheFloat64ValueThanPytorchMsssimInFloat32()
    {
        foreach (JsonElement e in Cases())
        {
            using var scope = NewDisposeScope();
            long[] shape = e.GetProperty("shape").EnumerateArray().Select(v => v.GetInt64()).ToArray();
            (Tensor x, Tensor y) = Images(shape, e.GetProperty("data_range").GetDouble() / 255);
            Tensor xf = x.to(ScalarType.Float32), yf = y.to(ScalarType.Float32);
            Tensor m = MsSsimOf(e, xf, yf);
            Tensor s = MsSsim.ssim(xf, yf, e.GetProperty("data_range").GetDouble(), sizeAverage: false, e.GetProperty("win_size").GetInt32(),
                e.GetProperty("win_sigma").GetDouble(), e.GetProperty("k1").GetDouble(), e.GetProperty("k2").GetDouble());
            Assert.AreEqual(ScalarType.Float32, m.dtype);
            foreach ((Tensor value, string name) in new[] { (m, "ms_ssim"), (s, "ssim") })
            {
                double[] truth = Doubles(e, name), theirs = Doubles(e, name + "_float32");
                for (int i = 0; i < truth.Length; i++)
                {
                    // The inputs' float32 rounding moves the value by about 1e−8; float32 output adds half an ulp (3e−8).
                    double ours = value[i].item<float>();
                    Assert.AreEqual(truth[i], ours, 1e-7);
                    Assert.IsTrue(Math.Abs(ours - truth[i]) <= Math.Abs(theirs[i] - truth[i]) + 6e-8, $"{e.GetProperty("name")} {name}: {ours} vs {theirs[i]} (truth {truth[i]})");
                }
            }
        }
    }

    /// <summary>MS-SSIM straight from its definition in double loops: full 2-D window sums, pooling written out.</summary>
    private static double Reference(double[,] x, double[,] y, int size, double sigma, double[] weights, double range, double k1, double k2)
    {
        double[] g = Enumerable.Range(0, size).Select(k => Math.Exp(-(k - size / 2) * (k - size / 2) / (2 * sigma * sigma))).ToArray();
        double total = g.Sum();
        double c1 = k1 * range * (k1 * range), c2 = k2 * range * (k2 * range), product = 1;
        for (int level = 0; level < weights.Length; level++)
        {
            int h = x.GetLength(0), w = x.GetLength(1);
            double ssimSum = 0, csSum = 0;
            int count = 0;
            for (int i = 0; i + size <= h; i++)
            for (int j = 0; j + size <= w; j++, count++)
            {
                double mx = 0, my = 0, mxx = 0, myy = 0, mxy = 0;
                for (int u = 0; u < size; u++)
                for (int v = 0; v < size; v++)
                {
                    double wt = g[u] * g[v] / (total * total), a = x[i + u, j + v], b = y[i + u, j + v];
                    mx += wt * a; my += wt * b; mxx += wt * a * a; myy += wt * b * b; mxy += wt * a * b;
                }
                double cs = (2 * (mxy - mx * my) + c2) / (mxx - mx * mx + myy - my * my + c2);
                csSum += cs;
                ssimSum += (2 * mx * my + c1) / (mx * mx + my * my + c1) * cs;
            }
            if (level == weights.Length - 1) return product * Math.Pow(Math.Max(ssimSum / count, 0), weights[level]);
            product *= Math.Pow(Math.Max(csSum / count, 0), weights[level]);
            x = Pool(x);
            y = Pool(y);
        }
        throw new InvalidOperationException("no scales");
    }

    /// <summary>2×2 means; an odd side gets one zero before its first and after its last entry, counted in the mean.</summary>
    private static double[,] Pool(double[,] t)
    {
        int h = t.GetLength(0), w = t.GetLength(1), ph = h % 2, pw = w % 2;
        var pooled = new double[(h + 2 * ph) / 2, (w + 2 * pw) / 2];
        for (int i = 0; i < pooled.GetLength(0); i++)
        for (int j = 0; j < pooled.GetLength(1); j++)
        {
            double sum = 0;
            for (int u = 0; u < 2; u++)
            for (int v = 0; v < 2; v++)
            {
                int r = 2 * i + u - ph, c = 2 * j + v - pw;
                if (r >= 0 && r < h && c >= 0 && c < w) sum += t[r, c];
            }
            pooled[i, j] = sum / 4;
        }
        return pooled;
    }

    [TestMethod]
    public void EqualsTheDefinitionInDoubleLoops_OnOddSides()
    {
        using var scope = NewDisposeScope();
        (Tensor x, Tensor y) = Images(new long[] { 1, 2, 41, 37 }, 1);
        double[] weights = { 0.2, 0.3, 0.5 };
        Tensor perImage = MsSsim.ms_ssim(x, y, 255, sizeAverage: false, winSize: 7, winSigma: 1.0, weights: weights);
        double expected = 0;
        for (int c = 0; c < 2; c++)
        {
            double[,] a = new double[41, 37], b = new double[41, 37];
            for (int i = 0; i < 41; i++)
            for (int j = 0; j < 37; j++)
            {
                a[i, j] = x[0, c, i, j].item<double>();
                b[i, j] = y[0, c, i, j].item<double>();
            }
            expected += Reference(a, b, 7, 1.0, weights, 255, 0.01, 0.03) / 2;
        }
        Assert.AreEqual(expected, perImage[0].item<double>(), 1e-13);
        // One scale is SSIM itself.
        double[] one = { 1.0 };
        Assert.AreEqual(MsSsim.ssim(x, y, winSize: 7, winSigma: 1.0).item<double>(), MsSsim.ms_ssim(x, y, winSize: 7, winSigma: 1.0, weights: one).item<double>(), 1e-15);
    }

    [TestMethod]
    public void IdenticalImagesGiveExactlyOne_AndWorseImagesLess()
    {
        using var scope = NewDisposeScope();
        (Tensor x, Tensor y) = Images(new long[] { 2, 3, 176, 170 }, 1 / 255.0);
        Tensor f = x.to(ScalarType.Float32);
        Assert.AreEqual(1f, MsSsim.ms_ssim(f, f, dataRange: 1).item<float>());
        Assert.AreEqual(1f, MsSsim.ssim(f, f, dataRange: 1).item<float>());
        double close = MsSsim.ms_ssim(x, x + 0.25 * (y - x), dataRange: 1).item<double>();
        double far = MsSsim.ms_ssim(x, y, dataRange: 1).item<double>();
        Assert.IsTrue(1 > close && close > far && far > 0.9, $"{close} {far}");
        // sizeAverage: the batch mean of the per-image values.
        Tensor perImage = MsSsim.ms_ssim(x, y, dataRange: 1, sizeAverage: false);
        CollectionAssert.AreEqual(new long[] { 2 }, perImage.shape);
        Assert.AreEqual(perImage.mean().item<double>(), far, 1e-15);
    }

    [TestMethod]
    public void Gradient_MatchesACentralDifferenceAlongARandomDirection()
    {
        using var scope = NewDisposeScope();
        (Tensor x, Tensor y) = Images(new long[] { 1, 3, 165, 170 }, 1 / 255.0);
        Tensor v = randn(x.shape, ScalarType.Float64, generator: new TorchSharp.torch.Generator(7));
        Tensor xg = x.clone().requires_grad_(true);
        MsSsim.ms_ssim(xg, y, dataRange: 1).backward();
        double analytic = (xg.grad! * v).sum().item<double>();
        const double h = 1e-6;
        double numeric = (MsSsim.ms_ssim(x + h * v, y, dataRange: 1).item<double>() - MsSsim.ms_ssim(x - h * v, y, dataRange: 1).item<double>()) / (2 * h);
        Assert.AreEqual(numeric, analytic, 1e-6 * Math.Abs(numeric) + 1e-9);
        Assert.IsTrue(Math.Abs(analytic) > 1e-4, $"the direction should move MS-SSIM: {analytic}");
    }

    [TestMethod]
    public void BadArguments_AreRefusedWithTheParameterAndValueNamed()
    {
        using var scope = NewDisposeScope();
        Tensor x = zeros(1, 3, 176, 176), y = zeros(1, 3, 176, 176);
        void Throws<T>(Action call, string message) where T : Exception => StringAssert.Contains(Assert.ThrowsExactly<T>(call).Message, message);
        Throws<ArgumentNullException>(() => MsSsim.ms_ssim(null!, y), "MsSsim.ms_ssim: x is null.");
        Throws<ArgumentException>(() => MsSsim.ms_ssim(x, zeros(new long[] { 1, 3, 176, 176 }, ScalarType.Int32)), "MsSsim.ms_ssim: y has dtype Int32");
        Throws<ArgumentException>(() => MsSsim.ms_ssim(zeros(3, 176, 176), zeros(3, 176, 176)), "MsSsim.ms_ssim: x must be (N, C, H, W); got shape [3, 176, 176].");
        Throws<ArgumentException>(() => MsSsim.ms_ssim(x, zeros(1, 3, 176, 175)), "MsSsim.ms_ssim: y must have x's shape [1, 3, 176, 176] and dtype Float32; got [1, 3, 176, 175], Float32.");
        Throws<ArgumentException>(() => MsSsim.ms_ssim(x, y.to(ScalarType.Float64)), "got [1, 3, 176, 176], Float64.");
        Throws<ArgumentException>(() => MsSsim.ms_ssim(zeros(1, 1, 160, 300), zeros(1, 1, 160, 300)), "MsSsim.ms_ssim: the smaller side of x (160) must be longer than (winSize − 1)·2^4 = 160 for 5 scales.");
        Throws<ArgumentException>(() => MsSsim.ssim(zeros(1, 1, 10, 30), zeros(1, 1, 10, 30)), "MsSsim.ssim: the smaller side of x (10) must be at least winSize (11).");
        Throws<ArgumentOutOfRangeException>(() => MsSsim.ms_ssim(x, y, dataRange: 0), "MsSsim.ms_ssim: dataRange must be finite and > 0; got 0.");
        Throws<ArgumentOutOfRangeException>(() => MsSsim.ssim(x, y, dataRange: double.PositiveInfinity), "MsSsim.ssim: dataRange must be finite and > 0; got Infinity.");
        Throws<ArgumentOutOfRangeException>(() => MsSsim.ms_ssim(x, y, winSize: 10), "MsSsim.ms_ssim: winSize must be odd and ≥ 1; got 10.");
        Throws<ArgumentOutOfRangeException>(() => MsSsim.ms_ssim(x, y, winSigma: double.NaN), "MsSsim.ms_ssim: winSigma must be finite and > 0; got NaN.");
        Throws<ArgumentOutOfRangeException>(() => MsSsim.ms_ssim(x, y, k1: -0.01), "MsSsim.ms_ssim: k1 must be finite and ≥ 0; got -0.01.");
        Throws<ArgumentOutOfRangeException>(() => MsSsim.ms_ssim(x, y, k2: double.NaN), "MsSsim.ms_ssim: k2 must be finite and ≥ 0; got NaN.");
        Throws<ArgumentException>(() => MsSsim.ms_ssim(x, y, weights: Array.Empty<double>()), "MsSsim.ms_ssim: weights must be 1 to 8 finite numbers ≥ 0; got [].");
        Throws<ArgumentException>(() => MsSsim.ms_ssim(x, y, weights: new[] { 0.5, -0.5 }), "got [0.5, -0.5].");
        Throws<ArgumentException>(() => MsSsim.ms_ssim(x, y, weights: Enumerable.Repeat(0.1, 9).ToArray()), "1 to 8 finite numbers");
        Throws<ArgumentOutOfRangeException>(() => MsSsim.ms_ssim(x, y, winSigma: 0), "MsSsim.ms_ssim: winSigma must be finite and > 0; got 0.");
        Throws<ArgumentOutOfRangeException>(() => MsSsim.ssim(x, y, winSigma: double.PositiveInfinity), "MsSsim.ssim: winSigma must be finite and > 0; got Infinity.");
        Throws<ArgumentOutOfRangeException>(() => MsSsim.ssim(x, y, k1: double.PositiveInfinity), "MsSsim.ssim: k1 must be finite and ≥ 0; got Infinity.");
        Throws<ArgumentOutOfRangeException>(() => MsSsim.ssim(x, y, k2: double.PositiveInfinity), "MsSsim.ssim: k2 must be finite and ≥ 0; got Infinity.");
    }

    [TestMethod]
    public void EdgeArguments_AreAccepted()
    {
        using var scope = NewDisposeScope();
        (Tensor x, Tensor y) = Images(new long[] { 1, 1, 40, 37 }, 1);
        // A one-tap window is SSIM pixel by pixel; K1 = K2 = 0 is Wang et al.'s formula without stabilising constants.
        Assert.IsTrue(double.IsFinite(MsSsim.ssim(x, y, winSize: 1).item<double>()));
        Assert.IsTrue(double.IsFinite(MsSsim.ssim(x, y, k1: 0, k2: 0).item<double>()));
        // Up to eight scales, and a scale of weight 0 counts for nothing: [0, 1] is SSIM at the second scale.
        Tensor big = rand(1, 1, 1300, 1300, generator: new Generator(2)), other = (big + 0.1 * rand(1, 1, 1300, 1300, generator: new Generator(3))).clamp(0, 1);
        Assert.IsTrue(double.IsFinite(MsSsim.ms_ssim(big, other, dataRange: 1, winSize: 11, weights: Enumerable.Repeat(0.125, 8).ToArray()).item<float>()));
        double[] zeroThenOne = { 0.0, 1.0 };
        Tensor pooledX = nn.functional.avg_pool2d(x, new long[] { 2, 2 }, padding: new long[] { 0, 1 });
        Tensor pooledY = nn.functional.avg_pool2d(y, new long[] { 2, 2 }, padding: new long[] { 0, 1 });
        Assert.AreEqual(MsSsim.ssim(pooledX, pooledY, winSize: 7, winSigma: 1.0).item<double>(),
            MsSsim.ms_ssim(x, y, winSize: 7, winSigma: 1.0, weights: zeroThenOne).item<double>(), 1e-15);
    }

    [TestMethod]
    public void LeavesNoLiveTensors_AndTheInputsUntouched()
    {
        Tensor x = rand(1, 3, 170, 180), y = rand(1, 3, 170, 180);
        Tensor xCopy = x.clone(), yCopy = y.clone();
        long before = LiveTensors.Count();
        MsSsim.ms_ssim(x, y, dataRange: 1).Dispose();
        MsSsim.ssim(x, y, dataRange: 1).Dispose();
        Assert.AreEqual(before, LiveTensors.Count());
        TensorAssert.Identical(xCopy, x);
        TensorAssert.Identical(yCopy, y);
        foreach (Tensor t in new[] { x, y, xCopy, yCopy }) t.Dispose();
    }
}
