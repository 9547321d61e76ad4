using System;
using static TorchSharp.torch;

namespace SoftRound.Tf;

/// <summary>
/// A layer that applies <see cref="SoftRoundOps.soft_round_inverse(Tensor, Tensor)"/>, tensorflow_compression's
/// <c>tfc.layers.SoftRound(alpha, inverse=True)</c>, with a fixed or learned α (stored as <c>log_alpha</c>), in training
/// and eval mode alike.
/// </summary>
/// <remarks>α = 0 and any α below 1e−3 make it the identity, as the op does.</remarks>
public sealed class SoftRoundInverseLayer : SoftRoundFamilyLayer
{
    /// <summary>Creates the layer with steepness <paramref name="alpha"/>.</summary>
    /// <param name="alpha">The steepness α; finite and ≥ 0.</param>
    /// <param name="trainable">Whether α is a learned parameter (as log α).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alpha"/> is NaN, infinite or &lt; 0.</exception>
    public SoftRoundInverseLayer(double alpha = 5.0, bool trainable = false)
        : base(nameof(SoftRoundInverseLayer), alpha, trainable)
    {
    }


    /// <summary>x = soft_round_inverse(y, max(α, min_steepness)).</summary>
    /// <exception cref="ArgumentException">As <see cref="SoftRoundOps.soft_round_inverse(Tensor, Tensor)"/>.</exception>
    public override Tensor forward(Tensor y)
    {
        using Tensor alpha = SteepnessTensor();
        return SoftRoundOps.soft_round_inverse(y, alpha);
    }
}
