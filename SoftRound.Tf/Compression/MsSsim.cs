using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using SoftRound.Tf.Internals;
using TorchSharp;
using static TorchSharp.torch;
using static SoftRound.Tf.Internals.KeptScalars;

namespace SoftRound.Tf.Compression;

/// <summary>
/// Structural similarity (Wang et al. 2004) and its multi-scale form (Wang, Simoncelli &amp; Bovik 2003), the
/// distortion learned-compression papers report beside PSNR, with pytorch_msssim's conventions (the implementation
/// CompressAI evaluates and trains with): an 11-tap Gaussian window of σ = 1.5 applied separably without padding,
/// C1 = (K1·L)², C2 = (K2·L)², five scales with the weights 0.0448, 0.2856, 0.3001, 0.2363, 0.1333, and between scales
/// a 2×2 average pool that pads an odd side with one zero on each end (counted in the average). Differentiable, so it
/// also serves as a training loss (1 − ms_ssim).
/// </summary>
/// <remarks>
/// Computed in float64 whatever the inputs' dtype (σ² = E[x²] − μ² cancels badly in float32), then returned in the
/// inputs' dtype; gradients flow through both casts. Differences from pytorch_msssim: a side shorter than the window
/// is refused (pytorch_msssim skips the smoothing along it with a warning); <see cref="ms_ssim"/> requires the
/// smaller side to exceed (winSize − 1)·2^(levels − 1) for the number of weights given (pytorch_msssim requires
/// (winSize − 1)·16 whatever their number); the window is built in float64 (pytorch_msssim builds it in float32).
/// </remarks>
public static class MsSsim
{
    /// <summary>The five scales' exponents of Wang et al. 2003 (pytorch_msssim's and tf.image's default).</summary>
    public static IReadOnlyList<double> DefaultWeights { get; } = Array.AsReadOnly(new[] { 0.0448, 0.2856, 0.3001, 0.2363, 0.1333 });

    /// <summary>
    /// SSIM of two image batches (N, C, H, W): per channel, the mean over the valid window positions of
    /// ((2·μx·μy + C1)/(μx² + μy² + C1))·((2·σxy + C2)/(σx² + σy² + C2)), the statistics weighted by the Gaussian
    /// window; then the mean over the channels (per image), and over the batch when <paramref name="sizeAverage"/>.
    /// </summary>
    /// <param name="x">Images, (N, C, H, W), floating point.</param>
    /// <param name="y">Images of the same shape and dtype.</param>
    /// <param name="dataRange">L, the range of the pixel values (255 for 8-bit values, 1 for [0, 1]).</param>
    /// <param name="sizeAverage">A 0-dim mean over the batch (true) or one value per image (shape (N)).</param>
    /// <param name="winSize">The window's taps, odd.</param>
    /// <param name="winSigma">The window's standard deviation.</param>
    /// <param name="k1">K1 of C1 = (K1·L)².</param>
    /// <param name="k2">K2 of C2 = (K2·L)².</param>
    /// <returns>The SSIM in the inputs' dtype.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="x"/> or <paramref name="y"/> is null.</exception>
    /// <exception cref="ArgumentException">The inputs are not floating point, not 4-D, differ in shape or dtype, or a side is shorter than the window.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A number is out of its range (see the parameters).</exception>
    public static Tensor ssim(Tensor x, Tensor y, double dataRange = 255, bool sizeAverage = true, int winSize = 11, double winSigma = 1.5, double k1 = 0.01, double k2 = 0.03)
    {
        const string op = nameof(MsSsim) + "." + nameof(ssim);
        Check(op, x, y, dataRange, winSize, winSigma, k1, k2, levels: 1);
        using var scope = NewDisposeScope();
        Tensor window = Window(winSize, winSigma);
        (Tensor perChannel, _) = Statistics(x.to(ScalarType.Float64), y.to(ScalarType.Float64), window, dataRange, k1, k2);
        return Reduce(perChannel.mean(new long[] { 1 }), sizeAverage, x.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// MS-SSIM of two image batches (N, C, H, W): per channel, relu(cs₁)^w₁·…·relu(cs_{L−1})^w_{L−1}·relu(ssim_L)^w_L
    /// over L = <paramref name="weights"/>.Length scales, each scale after the first a 2×2 average pool of the one
    /// before (an odd side padded with one zero on each end), cs the mean contrast–structure term
    /// (2·σxy + C2)/(σx² + σy² + C2); then the mean over the channels (per image), and over the batch when
    /// <paramref name="sizeAverage"/>. 1 for identical images; the field often reports −10·log10(1 − MS-SSIM) in dB.
    /// </summary>
    /// <param name="x">Images, (N, C, H, W), floating point; the smaller side longer than (winSize − 1)·2^(L − 1) (160 by default).</param>
    /// <param name="y">Images of the same shape and dtype.</param>
    /// <param name="dataRange">L, the range of the pixel values (255 for 8-bit values, 1 for [0, 1]).</param>
    /// <param name="sizeAverage">A 0-dim mean over the batch (true) or one value per image (shape (N)).</param>
    /// <param name="winSize">The window's taps, odd.</param>
    /// <param name="winSigma">The window's standard deviation.</param>
    /// <param name="weights">The scales' exponents, finite and ≥ 0, 1 to 8 of them; <see cref="DefaultWeights"/> when null.</param>
    /// <param name="k1">K1 of C1 = (K1·L)².</param>
    /// <param name="k2">K2 of C2 = (K2·L)².</param>
    /// <returns>The MS-SSIM in the inputs' dtype.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="x"/> or <paramref name="y"/> is null.</exception>
    /// <exception cref="ArgumentException">The inputs are not floating point, not 4-D, differ in shape or dtype, the smaller side is too short for the scales, or <paramref name="weights"/> is empty, longer than 8 or has an entry that is negative or not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A number is out of its range (see the parameters).</exception>
    public static Tensor ms_ssim(Tensor x, Tensor y, double dataRange = 255, bool sizeAverage = true, int winSize = 11, double winSigma = 1.5, IReadOnlyList<double>? weights = null, double k1 = 0.01, double k2 = 0.03)
    {
        const string op = nameof(MsSsim) + "." + nameof(ms_ssim);
        weights ??= DefaultWeights;
        if (weights.Count is < 1 or > 8 || weights.Any(w => !double.IsFinite(w) || w < 0))
        {
            string listed = string.Join(", ", weights.Select(w => w.ToString(CultureInfo.InvariantCulture)));
            throw new ArgumentException($"{op}: weights must be 1 to 8 finite numbers ≥ 0; got [{listed}].", nameof(weights));
        }
        Check(op, x, y, dataRange, winSize, winSigma, k1, k2, weights.Count);
        using var scope = NewDisposeScope();
        Tensor window = Window(winSize, winSigma);
        Tensor a = x.to(ScalarType.Float64), b = y.to(ScalarType.Float64);
        var factors = new List<Tensor>();
        for (int level = 0; level < weights.Count; level++)
        {
            (Tensor ssimPerChannel, Tensor csPerChannel) = Statistics(a, b, window, dataRange, k1, k2);
            using Scalar weight = weights[level].ToScalar();
            if (level == weights.Count - 1)
            {
                factors.Add(nn.functional.relu(ssimPerChannel).pow(weight));
                break;
            }
            factors.Add(nn.functional.relu(csPerChannel).pow(weight));
            long[] padding = { a.shape[2] % 2, a.shape[3] % 2 };
            a = nn.functional.avg_pool2d(a, new long[] { 2, 2 }, padding: padding);
            b = nn.functional.avg_pool2d(b, new long[] { 2, 2 }, padding: padding);
        }
        Tensor perChannel = stack(factors).prod(0L);
        return Reduce(perChannel.mean(new long[] { 1 }), sizeAverage, x.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>The normalised Gaussian window g_k ∝ exp(−(k − ⌊w/2⌋)²/(2σ²)), k = 0 … w − 1, in float64.</summary>
    private static Tensor Window(int size, double sigma)
    {
        double[] g = Enumerable.Range(0, size).Select(k => Math.Exp(-Math.Pow(k - size / 2, 2) / (2 * sigma * sigma))).ToArray();
        double sum = g.Sum();
        return tensor(g.Select(v => v / sum).ToArray(), ScalarType.Float64);
    }

    /// <summary>The per-channel means (N, C) of the SSIM map and of the contrast–structure map, in float64.</summary>
    private static (Tensor Ssim, Tensor Cs) Statistics(Tensor x, Tensor y, Tensor window, double dataRange, double k1, double k2)
    {
        using Scalar c1 = Math.Pow(k1 * dataRange, 2).ToScalar(), c2 = Math.Pow(k2 * dataRange, 2).ToScalar();
        long channels = x.shape[1], taps = window.shape[0];
        Tensor across = window.reshape(1, 1, 1, taps).expand(channels, 1, 1, taps);
        Tensor down = window.reshape(1, 1, taps, 1).expand(channels, 1, taps, 1);
        Tensor Blur(Tensor t) => nn.functional.conv2d(nn.functional.conv2d(t, across, groups: channels), down, groups: channels);
        Tensor muX = Blur(x), muY = Blur(y);
        Tensor muXX = muX.pow(S(2L)), muYY = muY.pow(S(2L)), muXY = muX * muY;
        Tensor varX = Blur(x * x) - muXX, varY = Blur(y * y) - muYY, covXY = Blur(x * y) - muXY;
        Tensor cs = (S(2) * covXY).add(c2, One) / varX.add(varY, One).add(c2, One);
        Tensor ssimMap = (S(2) * muXY).add(c1, One) / muXX.add(muYY, One).add(c1, One) * cs;
        return (ssimMap.flatten(2).mean(new long[] { -1 }), cs.flatten(2).mean(new long[] { -1 }));
    }

    private static Tensor Reduce(Tensor perImage, bool sizeAverage, ScalarType dtype) =>
        (sizeAverage ? perImage.mean() : perImage).to(dtype);

    private static void Check(string op, Tensor x, Tensor y, double dataRange, int winSize, double winSigma, double k1, double k2, int levels)
    {
        OpGuard.FloatingPoint(op, nameof(x), x);
        OpGuard.FloatingPoint(op, nameof(y), y);
        if (x.dim() != 4) throw new ArgumentException($"{op}: x must be (N, C, H, W); got shape [{string.Join(", ", x.shape)}].", nameof(x));
        if (!x.shape.SequenceEqual(y.shape) || x.dtype != y.dtype)
        {
            throw new ArgumentException($"{op}: y must have x's shape [{string.Join(", ", x.shape)}] and dtype {x.dtype}; got [{string.Join(", ", y.shape)}], {y.dtype}.", nameof(y));
        }
        if (!(dataRange > 0 && double.IsFinite(dataRange))) throw new ArgumentOutOfRangeException(nameof(dataRange), dataRange, $"{op}: dataRange must be finite and > 0; got {dataRange.ToString(CultureInfo.InvariantCulture)}.");
        if (winSize < 1 || winSize % 2 == 0) throw new ArgumentOutOfRangeException(nameof(winSize), winSize, $"{op}: winSize must be odd and ≥ 1; got {winSize}.");
        if (!(winSigma > 0 && double.IsFinite(winSigma))) throw new ArgumentOutOfRangeException(nameof(winSigma), winSigma, $"{op}: winSigma must be finite and > 0; got {winSigma.ToString(CultureInfo.InvariantCulture)}.");
        if (!(k1 >= 0 && double.IsFinite(k1))) throw new ArgumentOutOfRangeException(nameof(k1), k1, $"{op}: k1 must be finite and ≥ 0; got {k1.ToString(CultureInfo.InvariantCulture)}.");
        if (!(k2 >= 0 && double.IsFinite(k2))) throw new ArgumentOutOfRangeException(nameof(k2), k2, $"{op}: k2 must be finite and ≥ 0; got {k2.ToString(CultureInfo.InvariantCulture)}.");
        long smaller = Math.Min(x.shape[2], x.shape[3]), needed = (long)(winSize - 1) << (levels - 1);
        if (smaller <= needed)
        {
            string bound = levels == 1 ? $"at least winSize ({winSize})" : $"longer than (winSize − 1)·2^{levels - 1} = {needed} for {levels} scales";
            throw new ArgumentException($"{op}: the smaller side of x ({smaller}) must be {bound}.", nameof(x));
        }
    }
}
