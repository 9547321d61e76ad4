using System;
using SoftRound.Tf.Entropy;
using SoftRound.Tf.Internals;
using TorchSharp;
using static TorchSharp.torch;
using static SoftRound.Tf.Internals.KeptScalars;

namespace SoftRound.Tf.Compression;

/// <summary>
/// Keeps a parameter non-negative (and ≥ a minimum) under any optimizer step, as CompressAI's
/// <c>NonNegativeParametrizer</c> and tensorflow_compression's <c>NonNegativeParameter</c> do: the stored value v
/// represents w = max(v, b)² − p, with the pedestal p = offset² (offset 2⁻¹⁸) and b = √(minimum + p), the max taken by
/// <see cref="LowerBound"/> so that a value held at the bound can still be pushed back up. <see cref="init"/> maps a
/// wanted w to its stored v = √(max(w + p, p)).
/// </summary>
public sealed class NonNegativeParametrizer
{
    /// <summary>Creates the parametrizer.</summary>
    /// <param name="minimum">The smallest value w takes; finite and ≥ 0.</param>
    /// <param name="reparamOffset">The offset whose square is the pedestal; finite and &gt; 0; default 2⁻¹⁸.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of its range.</exception>
    public NonNegativeParametrizer(double minimum = 0, double reparamOffset = 1.0 / (1 << 18))
    {
        const string Name = nameof(NonNegativeParametrizer);
        OpGuard.Steepness(Name, nameof(minimum), minimum, allowZero: true);
        OpGuard.Steepness(Name, nameof(reparamOffset), reparamOffset, allowZero: false);
        this.minimum = minimum;
        pedestal = reparamOffset * reparamOffset;
        bound = Math.Sqrt(minimum + pedestal);
    }

    /// <summary>The smallest value w takes.</summary>
    public double minimum { get; }

    /// <summary>The pedestal p = offset².</summary>
    public double pedestal { get; }

    /// <summary>The bound b = √(minimum + p) on the stored value.</summary>
    public double bound { get; }

    /// <summary>The stored value for a wanted w: √(max(w + p, p)).</summary>
    public Tensor init(Tensor w)
    {
        using var scope = NewDisposeScope();
        using Scalar p = pedestal.ToScalar();
        return w.add(p, One).clamp_min(p).sqrt().MoveToOuterDisposeScope();
    }

    /// <summary>w = lower_bound(v, b)² − p.</summary>
    public Tensor forward(Tensor v)
    {
        using var scope = NewDisposeScope();
        using Scalar p = pedestal.ToScalar();
        return (LowerBound.lower_bound(v, bound).pow(S(2L)) - p).MoveToOuterDisposeScope();
    }
}
