using static TorchSharp.torch;

namespace SoftRound.Tf.Quantization;

/// <summary>The range of every value seen: [min x, max x] over all batches (PyTorch's <c>MinMaxObserver</c> and <c>PerChannelMinMaxObserver</c>).</summary>
public sealed class MinMaxObserver : QuantObserver
{
    /// <inheritdoc />
    protected override (double[] low, double[] high) batch_range(Tensor channels, QuantSpec spec) => RowRange(channels);
}
