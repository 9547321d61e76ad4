using System;
using System.Linq;
using static TorchSharp.torch;

namespace SoftRound.Tf.Quantization;

/// <summary>
/// A moving average of each batch's minimum and maximum: low ← low + c·(min x − low), high likewise, starting from the
/// first batch's (PyTorch's <c>MovingAverageMinMaxObserver</c>, c = 0.01, the default of its QAT; TF-MOT's
/// <c>MovingAverageQuantizer</c> uses an exponential average of the same kind).
/// </summary>
public sealed class MovingAverageMinMaxObserver : QuantObserver
{
    /// <summary>Creates the observer.</summary>
    /// <param name="averagingConstant">c, in (0, 1].</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="averagingConstant"/> is not in (0, 1].</exception>
    public MovingAverageMinMaxObserver(double averagingConstant = 0.01)
    {
        if (!(averagingConstant > 0 && averagingConstant <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(averagingConstant), averagingConstant, $"MovingAverageMinMaxObserver: averagingConstant must be in (0, 1]; got {averagingConstant}.");
        }
        averaging_constant = averagingConstant;
    }

    /// <summary>c.</summary>
    public double averaging_constant { get; }

    /// <inheritdoc />
    protected override (double[] low, double[] high) batch_range(Tensor channels, QuantSpec spec) => RowRange(channels);

    /// <inheritdoc />
    protected override (double[] low, double[] high) combine(double[] low, double[] high, double[] batchLow, double[] batchHigh) =>
        Blend(low, high, batchLow, batchHigh, averaging_constant);
}
