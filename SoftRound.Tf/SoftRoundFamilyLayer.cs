using System;

namespace SoftRound.Tf;

/// <summary>
/// The base of layers whose steepness is soft_round's α (<see cref="SoftRoundLayer"/>, <see cref="SoftRoundInverseLayer"/>,
/// <see cref="SoftRoundConditionalMeanLayer"/>, <see cref="QuantizationLayer"/>): stored as <c>log_alpha</c>, finite
/// and ≥ 0, where α = 0 (and any α below 1e−3) makes the soft ops the identity.
/// </summary>
public abstract class SoftRoundFamilyLayer : SteepnessLayer
{
    /// <summary>Registers α as <c>log_alpha</c>.</summary>
    /// <param name="name">The layer's name, used in error messages.</param>
    /// <param name="alpha">The initial α; finite and ≥ 0.</param>
    /// <param name="trainable">Whether α is a learned parameter (as log α).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alpha"/> is NaN, infinite or &lt; 0.</exception>
    protected SoftRoundFamilyLayer(string name, double alpha, bool trainable) : base(name, nameof(alpha), alpha, trainable, allowZero: true)
    {
    }

    /// <summary>The steepness α, exp(log_alpha); the same as <see cref="SteepnessLayer.steepness"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value set is NaN, infinite or &lt; 0; α is then unchanged.</exception>
    public double alpha
    {
        get => steepness;
        set => steepness = value;
    }
}
