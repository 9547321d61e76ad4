using System;
using System.Linq;
using SoftRound.Tf.Internals;
using static TorchSharp.torch;

namespace SoftRound.Tf.Quantization;

/// <summary>
/// Watches the values a quantizer sees and proposes its scale and zero point: each batch gives a range [low, high]
/// per tensor or per channel (<see cref="batch_range"/>), the ranges are combined over batches
/// (<see cref="combine"/>), and <see cref="calculate_qparams"/> turns the range into s and z as PyTorch's observers do.
/// </summary>
/// <remarks>
/// From a range: symmetric, s = max(−low, high)/((qmax − qmin)/2) and z = the spec's fixed zero point; affine,
/// s = (max(high, 0) − min(low, 0))/(qmax − qmin) and z = clamp(qmin − round(min(low, 0)/s), qmin, qmax). s is at
/// least float32's epsilon (1.19e−7), so an all-zero range gives a usable scale.
/// </remarks>
public abstract class QuantObserver
{
    private double[]? low, high;

    /// <summary>The combined range so far, per channel (one entry per tensor), or null before the first batch.</summary>
    public (double[] low, double[] high)? range => low is null ? null : ((double[])low.Clone(), (double[])high!.Clone());

    /// <summary>Whether a batch has been seen since construction or <see cref="reset"/>.</summary>
    public bool has_observed => low is not null;

    /// <summary>The number of batches seen since construction or <see cref="reset"/>, the one being combined included.</summary>
    public long batch_count { get; private set; }

    /// <summary>Forgets every batch.</summary>
    public void reset() => (low, high, batch_count) = (null, null, 0);

    /// <summary>Takes a batch into the range.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="x"/> or <paramref name="spec"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="x"/> is not floating point or empty, or has another channel count than the batches before.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="x"/> holds NaN or ±∞, or the spec's axis is outside its dimensions.</exception>
    public void observe(Tensor x, QuantSpec spec)
    {
        string op = GetType().Name + ".observe";
        OpGuard.FloatingPoint(op, nameof(x), x);
        ArgumentNullException.ThrowIfNull(spec, nameof(spec));
        if (x.numel() == 0) throw new ArgumentException($"{op}: x is empty.", nameof(x));
        int? axis = QuantizationOps.Axis(op, x, spec);
        using var scope = NewDisposeScope();
        Tensor channels = Channels(x.detach(), axis);
        OpGuard.Finite(op, nameof(x), channels, channels);
        if (low is not null && low.Length != channels.shape[0])
        {
            throw new ArgumentException($"{op}: x has {channels.shape[0]} channels; the batches before had {low.Length}.", nameof(x));
        }
        (double[] l, double[] h) = batch_range(channels, spec);
        batch_count++;
        (low, high) = low is null ? (l, h) : combine(low, high!, l, h);
    }

    /// <summary>The scale s and zero point z for the range so far, as float32 tensors of one value per tensor, or per channel.</summary>
    /// <exception cref="InvalidOperationException">No batch has been observed.</exception>
    public (Tensor scale, Tensor zero_point) calculate_qparams(QuantSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec, nameof(spec));
        if (low is null) throw new InvalidOperationException($"{GetType().Name}.calculate_qparams: no batch has been observed.");
        (double[] s, double[] z) = QParams(low, high!, spec);
        long[] shape = spec.axis is null ? new[] { 1L } : new[] { (long)s.Length };
        return (tensor(s.Select(v => (float)v).ToArray(), shape), tensor(z.Select(v => (float)v).ToArray(), shape));
    }

    /// <summary>s and z from ranges (the remarks' formulas).</summary>
    internal static (double[] scale, double[] zero) QParams(double[] low, double[] high, QuantSpec spec)
    {
        const double eps = 1.1920928955078125e-7;
        var s = new double[low.Length];
        var z = new double[low.Length];
        for (int c = 0; c < low.Length; c++)
        {
            double lo = Math.Min(low[c], 0), hi = Math.Max(high[c], 0);
            if (spec.symmetric)
            {
                s[c] = Math.Max(Math.Max(-lo, hi) / ((spec.qmax - spec.qmin) / 2.0), eps);
                z[c] = spec.symmetric_zero_point;
            }
            else
            {
                s[c] = Math.Max((hi - lo) / (spec.qmax - spec.qmin), eps);
                z[c] = Math.Clamp(spec.qmin - Math.Round(lo / s[c], MidpointRounding.ToEven), spec.qmin, spec.qmax);
            }
        }
        return (s, z);
    }

    /// <summary>
    /// One batch's range per channel; <paramref name="channels"/> is the batch as a (C, M) float tensor of finite
    /// values, one row per channel (a single row per tensor).
    /// </summary>
    protected abstract (double[] low, double[] high) batch_range(Tensor channels, QuantSpec spec);

    /// <summary>The range after a new batch's: the running minimum and maximum unless overridden.</summary>
    protected virtual (double[] low, double[] high) combine(double[] low, double[] high, double[] batchLow, double[] batchHigh) =>
        (low.Zip(batchLow, Math.Min).ToArray(), high.Zip(batchHigh, Math.Max).ToArray());

    /// <summary>Each bound moved the fraction <paramref name="weight"/> of the way to the batch's: a ← a + w·(b − a).</summary>
    private protected static (double[] low, double[] high) Blend(double[] low, double[] high, double[] batchLow, double[] batchHigh, double weight) =>
        (low.Zip(batchLow, (a, b) => a + weight * (b - a)).ToArray(), high.Zip(batchHigh, (a, b) => a + weight * (b - a)).ToArray());

    /// <summary>x as (C, M): channel c's values in row c, in float64.</summary>
    private static Tensor Channels(Tensor x, int? axis)
    {
        Tensor t = x.to(ScalarType.Float64);
        return axis is int a ? t.movedim(new long[] { a }, new long[] { 0 }).reshape(x.shape[a], -1) : t.reshape(1, -1);
    }

    /// <summary>Each row's minimum and maximum of a (C, M) float64 tensor.</summary>
    private protected static (double[] low, double[] high) RowRange(Tensor channels) => (Column(channels.amin(1)), Column(channels.amax(1)));

    /// <summary>The values of a float64 tensor, flattened.</summary>
    private protected static double[] Column(Tensor t) => t.reshape(-1).cpu().data<double>().ToArray();
}
