using System;
using System.Linq;
using SoftRound.Tf.Internals;
using TorchSharp;
using static TorchSharp.torch;
using static SoftRound.Tf.Internals.KeptScalars;

namespace SoftRound.Tf.Entropy;

/// <summary>
/// The rate of likelihoods from an entropy model: the bits an ideal entropy coder spends, −Σ log2 p, in total, per
/// element and per pixel (the rate term of R + λ·D that CompressAI's and tensorflow_compression's examples compute
/// by hand). Differentiable; a 0-dim tensor in the likelihoods' dtype.
/// </summary>
public static class Bits
{
    /// <summary>−Σ log2 p over every entry of every tensor given.</summary>
    /// <exception cref="ArgumentException">No tensor is given, or one is null or not floating point.</exception>
    public static Tensor total(params Tensor[] likelihoods)
    {
        Check(nameof(total), likelihoods);
        using var scope = NewDisposeScope();
        Tensor sum = likelihoods.Select(p => p.log().sum()).Aggregate((a, b) => a.add(b, One));
        // Explicit scalars, held through the calls: TorchSharp's implicit ones can be finalized during them (README, "A
        // rare crash in long runs"); training and the codec's refinement call these every step.
        using Scalar minusLn2 = (-Math.Log(2)).ToScalar();
        return sum.div(minusLn2).MoveToOuterDisposeScope();
    }

    /// <summary><see cref="total"/> divided by the number of entries.</summary>
    /// <exception cref="ArgumentException">No tensor is given, or one is null or not floating point, or there are no entries.</exception>
    public static Tensor per_element(params Tensor[] likelihoods)
    {
        Check(nameof(per_element), likelihoods);
        long count = likelihoods.Sum(p => p.numel());
        if (count == 0) throw new ArgumentException($"{nameof(Bits)}.{nameof(per_element)}: the likelihoods have no entries.", nameof(likelihoods));
        using var scope = NewDisposeScope();
        using Scalar entries = count.ToScalar();
        return total(likelihoods).div(entries).MoveToOuterDisposeScope();
    }

    /// <summary><see cref="total"/> divided by <paramref name="pixels"/> (N·H·W of the image batch): bits per pixel.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pixels"/> is not positive.</exception>
    /// <exception cref="ArgumentException">No tensor is given, or one is null or not floating point.</exception>
    public static Tensor per_pixel(long pixels, params Tensor[] likelihoods)
    {
        if (pixels <= 0) throw new ArgumentOutOfRangeException(nameof(pixels), pixels, $"{nameof(Bits)}.{nameof(per_pixel)}: pixels must be positive; got {pixels}.");
        Check(nameof(per_pixel), likelihoods);
        using var scope = NewDisposeScope();
        using Scalar perPixel = pixels.ToScalar();
        return total(likelihoods).div(perPixel).MoveToOuterDisposeScope();
    }

    private static void Check(string member, Tensor[] likelihoods)
    {
        ArgumentNullException.ThrowIfNull(likelihoods, nameof(likelihoods));
        if (likelihoods.Length == 0) throw new ArgumentException($"{nameof(Bits)}.{member}: no likelihoods given.", nameof(likelihoods));
        for (int i = 0; i < likelihoods.Length; i++) OpGuard.FloatingPoint($"{nameof(Bits)}.{member}", $"likelihoods[{i}]", likelihoods[i]);
    }
}
