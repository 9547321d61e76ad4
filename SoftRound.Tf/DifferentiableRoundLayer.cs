using System;
using static TorchSharp.torch;

namespace SoftRound.Tf;

/// <summary>
/// A layer that applies <see cref="SoftRoundOps.differentiable_round(Tensor, Tensor)"/>:
/// y = ⌊x⌋ + σ(k·(x − ⌊x⌋ − ½)), with a fixed or learned steepness k (stored as <c>log_k</c>).
/// </summary>
public sealed class DifferentiableRoundLayer : SteepnessLayer
{
    /// <summary>Creates the layer with steepness <paramref name="k"/>.</summary>
    /// <param name="k">The steepness; finite and &gt; 0.</param>
    /// <param name="trainable">Whether k is a learned parameter (as log k).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is NaN, infinite or ≤ 0.</exception>
    public DifferentiableRoundLayer(double k = 10.0, bool trainable = false)
        : base(nameof(DifferentiableRoundLayer), nameof(k), k, trainable)
    {
    }

    /// <summary>The steepness k, exp(log_k); the same as <see cref="SteepnessLayer.steepness"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value set is NaN, infinite or ≤ 0; k is then unchanged.</exception>
    public double k
    {
        get => steepness;
        set => steepness = value;
    }

    /// <summary>y = <see cref="SoftRoundOps.differentiable_round(Tensor, Tensor)"/>(x, exp(log_k)).</summary>
    /// <exception cref="ArgumentException">As <see cref="SoftRoundOps.differentiable_round(Tensor, Tensor)"/>.</exception>
    public override Tensor forward(Tensor x)
    {
        using Tensor k = SteepnessTensor();
        return SoftRoundOps.differentiable_round(x, k);
    }
}
