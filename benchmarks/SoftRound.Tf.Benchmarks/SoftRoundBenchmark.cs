using System;
using static TorchSharp.torch;

namespace SoftRound.Tf.Benchmarks;

/// <summary><see cref="SoftRoundOps.soft_round(Tensor, double)"/> at α = 5.</summary>
public class SoftRoundBenchmark : OpBenchmark
{
    private const double Alpha = 5;
    private static readonly double InverseD = 1 / (2 * Math.Tanh(Alpha / 2));

    /// <inheritdoc />
    protected override Tensor Op(Tensor x) => SoftRoundOps.soft_round(x, Alpha);

    /// <inheritdoc />
    protected override Tensor Composite(Tensor x)
    {
        Tensor m = x.floor() + 0.5;
        return m + (Alpha * (x - m)).tanh() * InverseD;
    }
}
