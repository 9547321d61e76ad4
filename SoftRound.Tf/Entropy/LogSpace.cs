using System;
using TorchSharp;
using static TorchSharp.torch;
using static SoftRound.Tf.Internals.KeptScalars;

namespace SoftRound.Tf.Entropy;

/// <summary>Stable log-space helpers the densities share (docs/ENTROPY.md §1).</summary>
internal static class LogSpace
{
    /// <summary>log(1 − eᵗ) for t ≤ 0: log(−expm1(t)) above −ln 2, log1p(−eᵗ) below, so neither cancels.</summary>
    public static Tensor log1mexp(Tensor t)
    {
        using var scope = NewDisposeScope();
        Tensor near = t.gt(S(-Math.Log(2)));
        Tensor small = t.clamp_min(S(-Math.Log(2))).expm1().neg().log();
        Tensor large = t.clamp_max(S(-Math.Log(2))).exp().neg().log1p();
        return where(near, small, large).MoveToOuterDisposeScope();
    }

    /// <summary>log(eʰ − eˡ) for l ≤ h: h + log(1 − e^(l − h)).</summary>
    public static Tensor log_diff_exp(Tensor high, Tensor low)
    {
        using var scope = NewDisposeScope();
        return high.add(log1mexp(low - high), One).MoveToOuterDisposeScope();
    }

    /// <summary>Φ(z) = ½·erfc(−z/√2), accurate in the lower tail (libtorch's ndtr is ½·(1 + erf(z/√2)), which cancels there).</summary>
    public static Tensor ndtr(Tensor z)
    {
        using var scope = NewDisposeScope();
        // Explicit scalars, alive until the call returns (README, "A rare crash in long runs"): every table build and
        // every Gaussian likelihood comes here, and an implicit one was once finalized mid-call in the test run.
        using Scalar minusRootHalf = (-Math.Sqrt(0.5)).ToScalar();
        using Scalar half = 0.5.ToScalar();
        return z.mul(minusRootHalf).erfc().mul(half).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// log Φ(z) of the standard normal: log1p(−Φ(−z)) above z = −1, log Φ(z) down to z = −10, and below, where Φ
    /// nears underflow, −z²/2 − log(−z) − ½·log(2π) + log(1 − 1/z² + 3/z⁴ − 15/z⁶ + …) with 16 terms of the asymptotic
    /// series (the 17th is below 2e−15 at z = −10).
    /// </summary>
    public static Tensor log_ndtr(Tensor z)
    {
        using var scope = NewDisposeScope();
        Tensor upper = ndtr(z.clamp_min(S(-1)).neg()).neg().log1p();
        Tensor middle = ndtr(z.clamp(S(-10), S(-1))).log();
        Tensor far = z.clamp_max(S(-10));
        Tensor w = far.pow(S(2L)).reciprocal();
        Tensor series = ones_like(w);
        // Explicit scalars, alive until the loop ends: TorchSharp's implicit ones can be finalized during the native
        // call that reads them (README, "A rare crash in long runs"), and this loop made 32 of them a call.
        using Scalar one = 1.0.ToScalar();
        for (int k = 16; k >= 1; k--)
        {
            using Scalar coefficient = (2.0 * k - 1).ToScalar();
            series = w.mul(coefficient).mul_(series).neg_().add_(one, One);
        }
        Tensor lower = (far.pow(S(2L)) * S(-0.5) - far.neg().log() - S(0.5 * Math.Log(2 * Math.PI))).add(series.log(), One);
        return where(z.lt(S(-10)), lower, where(z.lt(S(-1)), middle, upper)).MoveToOuterDisposeScope();
    }
}
