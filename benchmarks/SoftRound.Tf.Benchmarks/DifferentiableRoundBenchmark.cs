using static TorchSharp.torch;

namespace SoftRound.Tf.Benchmarks;

/// <summary><see cref="SoftRoundOps.differentiable_round(Tensor, double)"/> at k = 10.</summary>
public class DifferentiableRoundBenchmark : OpBenchmark
{
    private const double K = 10;

    /// <inheritdoc />
    protected override Tensor Op(Tensor x) => SoftRoundOps.differentiable_round(x, K);

    /// <inheritdoc />
    protected override Tensor Composite(Tensor x)
    {
        Tensor f = x.floor();
        return f + (K * (x - f - 0.5)).sigmoid();
    }
}
