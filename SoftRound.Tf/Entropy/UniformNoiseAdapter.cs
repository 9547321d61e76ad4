using System;
using static TorchSharp.torch;

namespace SoftRound.Tf.Entropy;

/// <summary>
/// The density of Y = X + U with U ~ U(−½, ½) independent of X: p_Y(y) = P(y − ½ &lt; X ≤ y + ½), the base density's
/// interval mass. It prices the noisy training proxy of a latent, and at integers it is the probability of the rounded
/// latent, so one formula serves training and coding (tensorflow_compression's <c>UniformNoiseAdapter</c>; its
/// <c>NoisyNormal</c>, <c>NoisyLogistic</c> and <c>NoisyLaplace</c> wrap the densities of the same names).
/// </summary>
public sealed class UniformNoiseAdapter
{
    /// <summary>Wraps <paramref name="baseDensity"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="baseDensity"/> is null.</exception>
    public UniformNoiseAdapter(IDensity baseDensity)
    {
        ArgumentNullException.ThrowIfNull(baseDensity, nameof(baseDensity));
        base_density = baseDensity;
    }

    /// <summary>The density of X (tfc's <c>base</c>).</summary>
    public IDensity base_density { get; }

    /// <summary>p_Y(y) = P(y − ½ &lt; X ≤ y + ½), by <see cref="IDensity.interval_mass"/>.</summary>
    public Tensor prob(Tensor y) => base_density.interval_mass(y);

    /// <summary>log p_Y(y), by <see cref="IDensity.log_interval_mass"/>: finite where p_Y underflows.</summary>
    public Tensor log_prob(Tensor y) => base_density.log_interval_mass(y);
}
