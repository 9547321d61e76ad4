using System;
using static TorchSharp.torch;

namespace SoftRound.Tf;

/// <summary>
/// A layer that applies <see cref="SoftRoundOps.soft_round(Tensor, Tensor)"/>:
/// y = m + tanh(α·(x − m)) / (2·tanh(α/2)), m = ⌊x⌋ + ½, with a fixed or learned α (stored as <c>log_alpha</c>).
/// </summary>
/// <remarks>α must be &gt; 0 here; an α below 1e−3 makes the layer the identity, as the op does.</remarks>
public sealed class SoftRoundLayer : SteepnessLayer
{
    /// <summary>Creates the layer with steepness <paramref name="alpha"/>.</summary>
    /// <param name="alpha">The steepness α; finite and &gt; 0 (5 is a common fixed value).</param>
    /// <param name="trainable">Whether α is a learned parameter (as log α).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alpha"/> is NaN, infinite or ≤ 0.</exception>
    public SoftRoundLayer(double alpha = 5.0, bool trainable = false)
        : base(nameof(SoftRoundLayer), nameof(alpha), alpha, trainable)
    {
    }

    /// <summary>The steepness α, exp(log_alpha); the same as <see cref="SteepnessLayer.steepness"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value set is NaN, infinite or ≤ 0; α is then unchanged.</exception>
    public double alpha
    {
        get => steepness;
        set => steepness = value;
    }

    /// <summary>y = <see cref="SoftRoundOps.soft_round(Tensor, Tensor)"/>(x, exp(log_alpha)).</summary>
    /// <exception cref="ArgumentException">As <see cref="SoftRoundOps.soft_round(Tensor, Tensor)"/>.</exception>
    public override Tensor forward(Tensor x)
    {
        using Tensor alpha = SteepnessTensor();
        return SoftRoundOps.soft_round(x, alpha);
    }
}
