using static TorchSharp.torch;

namespace SoftRound.Tf.Entropy;

/// <summary>
/// A univariate density of a continuous latent, evaluated elementwise with autograd: what an entropy model needs to
/// price a value and to build its coding tables. Results have the input's shape broadcast with the density's own
/// parameters, and its dtype.
/// </summary>
public interface IDensity
{
    /// <summary>F(x) = P(X ≤ x).</summary>
    Tensor cdf(Tensor x);

    /// <summary>log F(x), accurate where F(x) underflows.</summary>
    Tensor log_cdf(Tensor x);

    /// <summary>log S(x) = log(1 − F(x)), accurate where 1 − F(x) underflows.</summary>
    Tensor log_survival(Tensor x);

    /// <summary>F⁻¹(p) for p ∈ (0, 1).</summary>
    Tensor quantile(Tensor p);

    /// <summary>log f(x), the log of the density.</summary>
    Tensor log_prob(Tensor x);

    /// <summary>P(x − ½ &lt; X ≤ x + ½), the mass of the unit interval about x, computed in the tail where the difference loses least.</summary>
    Tensor interval_mass(Tensor x);

    /// <summary>log P(x − ½ &lt; X ≤ x + ½), finite where the mass itself underflows (far tails).</summary>
    Tensor log_interval_mass(Tensor x);
}
