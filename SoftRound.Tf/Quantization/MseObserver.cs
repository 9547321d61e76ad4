using System;
using System.Linq;
using static TorchSharp.torch;
using static SoftRound.Tf.Internals.KeptScalars;

namespace SoftRound.Tf.Quantization;

/// <summary>
/// The range that minimises the squared error of fake quantization on each batch: candidates r·[min, max] for
/// r = 1/n, 2/n, …, 1, each channel choosing its own r; averaged over batches (Brevitas's and TensorRT's MSE
/// calibration).
/// </summary>
public sealed class MseObserver : QuantObserver
{
    /// <summary>Creates the observer.</summary>
    /// <param name="candidates">n, the number of clipping ratios tried, 2 to 10,000.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="candidates"/> is outside [2, 10000].</exception>
    public MseObserver(int candidates = 100)
    {
        if (candidates is < 2 or > 10000)
        {
            throw new ArgumentOutOfRangeException(nameof(candidates), candidates, $"MseObserver: candidates must be in [2, 10000]; got {candidates}.");
        }
        this.candidates = candidates;
    }

    /// <summary>n.</summary>
    public int candidates { get; }

    /// <inheritdoc />
    protected override (double[] low, double[] high) batch_range(Tensor channels, QuantSpec spec)
    {
        using var scope = NewDisposeScope();
        (double[] min, double[] max) = RowRange(channels);
        int c = min.Length;
        var best = Enumerable.Repeat(double.PositiveInfinity, c).ToArray();
        var bestLow = new double[c];
        var bestHigh = new double[c];
        QuantSpec perRow = spec.per_channel(0);
        for (int k = 1; k <= candidates; k++)
        {
            using var step = NewDisposeScope();
            double r = (double)k / candidates;
            double[] lo = min.Select(v => v * r).ToArray(), hi = max.Select(v => v * r).ToArray();
            (double[] s, double[] z) = QParams(lo, hi, spec);
            Tensor y = QuantizationOps.fake_quantize(channels, tensor(s), spec.symmetric ? null : tensor(z), perRow);
            double[] error = Column((y - channels).pow(S(2L)).sum(1));
            for (int j = 0; j < c; j++)
            {
                if (error[j] < best[j]) (best[j], bestLow[j], bestHigh[j]) = (error[j], lo[j], hi[j]);
            }
        }
        return (bestLow, bestHigh);
    }

    /// <inheritdoc />
    protected override (double[] low, double[] high) combine(double[] low, double[] high, double[] batchLow, double[] batchHigh) =>
        Blend(low, high, batchLow, batchHigh, 1.0 / batch_count);
}
