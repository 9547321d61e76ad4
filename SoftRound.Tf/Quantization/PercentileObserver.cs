using System;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;
using static SoftRound.Tf.Internals.KeptScalars;

namespace SoftRound.Tf.Quantization;

/// <summary>
/// The range between the (100 − p)-th and p-th percentiles of each batch, averaged over batches: clips the rare
/// outliers of activations that would stretch a min/max range (TensorRT's and Brevitas's percentile calibration).
/// </summary>
public sealed class PercentileObserver : QuantObserver
{
    /// <summary>Creates the observer.</summary>
    /// <param name="percentile">p, in [50, 100]; 100 gives min/max.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="percentile"/> is not in [50, 100].</exception>
    public PercentileObserver(double percentile = 99.99)
    {
        if (!(percentile >= 50 && percentile <= 100))
        {
            throw new ArgumentOutOfRangeException(nameof(percentile), percentile, $"PercentileObserver: percentile must be in [50, 100]; got {percentile}.");
        }
        this.percentile = percentile;
    }

    /// <summary>p.</summary>
    public double percentile { get; }

    /// <inheritdoc />
    protected override (double[] low, double[] high) batch_range(Tensor channels, QuantSpec spec)
    {
        using var scope = NewDisposeScope();
        Tensor sorted = channels.sort(1).Values;
        long m = channels.shape[1];
        // Linear interpolation between order statistics, as numpy's default percentile.
        double Rank(double p) => p / 100 * (m - 1);
        Tensor At(double rank)
        {
            long below = (long)Math.Floor(rank), above = Math.Min(below + 1, m - 1);
            using Scalar t = (rank - below).ToScalar(), oneMinusT = (1 - (rank - below)).ToScalar();
            return (sorted[.., below] * oneMinusT).add(sorted[.., above] * t, One);
        }
        return (Column(At(Rank(100 - percentile))), Column(At(Rank(percentile))));
    }

    /// <inheritdoc />
    protected override (double[] low, double[] high) combine(double[] low, double[] high, double[] batchLow, double[] batchHigh) =>
        Blend(low, high, batchLow, batchHigh, 1.0 / batch_count);
}
