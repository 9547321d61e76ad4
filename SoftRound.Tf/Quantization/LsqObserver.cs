using System;
using System.Linq;
using static TorchSharp.torch;

namespace SoftRound.Tf.Quantization;

/// <summary>
/// LSQ's initial step size (Esser et al. 2020): s = 2·mean|x|/√qmax per tensor or channel, as the range
/// ±s·(qmax − qmin)/2 so that a symmetric spec gets exactly that s back; averaged over batches.
/// </summary>
/// <remarks>For an affine spec the range is [−s·(Z − qmin), s·(qmax − Z)] about the spec's centre Z =
/// <see cref="QuantSpec.symmetric_zero_point"/>, or [0, s·(qmax − qmin)] for a channel whose batch holds no negative
/// value (so Z = qmin: LSQ's unsigned activations after a ReLU, which would otherwise leave the codes below the centre
/// unused, half the grid, unless the zero point is learned).</remarks>
public sealed class LsqObserver : QuantObserver
{
    /// <inheritdoc />
    protected override (double[] low, double[] high) batch_range(Tensor channels, QuantSpec spec)
    {
        double[] s = Column(channels.abs().mean(new long[] { 1 })).Select(m => 2 * m / Math.Sqrt(spec.qmax)).ToArray();
        if (spec.symmetric)
        {
            double half = (spec.qmax - spec.qmin) / 2.0;
            return (s.Select(v => -v * half).ToArray(), s.Select(v => v * half).ToArray());
        }
        int z = spec.symmetric_zero_point;
        double[] min = Column(channels.amin(new long[] { 1 }));
        return (s.Select((v, c) => min[c] >= 0 ? 0 : -v * (z - spec.qmin)).ToArray(),
            s.Select((v, c) => min[c] >= 0 ? v * (spec.qmax - spec.qmin) : v * (spec.qmax - z)).ToArray());
    }

    /// <inheritdoc />
    protected override (double[] low, double[] high) combine(double[] low, double[] high, double[] batchLow, double[] batchHigh) =>
        Blend(low, high, batchLow, batchHigh, 1.0 / batch_count);
}
