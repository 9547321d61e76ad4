using System.Numerics;
using System.Runtime.CompilerServices;
using static SoftRound.Tf.Kernels.VectorMath;

namespace SoftRound.Tf.Kernels;

/// <summary>
/// docs/MATH.md §1: y = ⌊x⌋ + σ(k·(x − ⌊x⌋ − ½)), evaluated about the nearest integer n = round(x) so that it keeps
/// its relative accuracy near 0: with d = x − n (exact) and E = exp((k/2)·(2|d| − 1)),
/// y = n + sign(d)·E/(1 + E) and dy/dx = k·E/(1 + E)²; ±∞ → ±∞ with derivative 0. E is computed scaled by 2^σ
/// (<see cref="Elementary.ExpCentredScaled{T}(T, T)"/>) so that k·E keeps its accuracy where E is subnormal.
/// </summary>
internal readonly struct DifferentiableRoundKernel(double k) : IRoundKernel
{
    private readonly Splat kUnscaled = Splat.Unscaled(k), unscale = Splat.Unscaled(1), halfK = new(k / 2);

    /// <inheritdoc />
    public T Value<T>(T x) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (T.IsInfinity(x)) return x;
        T n = T.Round(x), d = x - n;
        T e = Elementary.ExpCentredScaled(halfK.S<T>(), T.Abs(d)) * unscale.S<T>();
        return n + T.CopySign(e / (T.One + e), d);
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector<T> Value<T>(Vector<T> x) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        Vector<T> n = Round(x), d = x - n;
        Vector<T> e = Elementary.ExpCentredScaled(halfK.V<T>(), Vector.Abs(d)) * unscale.V<T>();
        Vector<T> y = n + Vector.CopySign(e / (Vector<T>.One + e), d);
        return Vector.ConditionalSelect(Vector.IsInfinity(x), x, y);
    }

    /// <inheritdoc />
    public T Derivative<T>(T x) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (T.IsInfinity(x)) return T.Zero;
        T scaled = Elementary.ExpCentredScaled(halfK.S<T>(), T.Abs(x - T.Round(x)));
        T onePlus = T.One + scaled * unscale.S<T>();
        return kUnscaled.S<T>() * scaled / (onePlus * onePlus);
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector<T> Derivative<T>(Vector<T> x) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        Vector<T> scaled = Elementary.ExpCentredScaled(halfK.V<T>(), Vector.Abs(x - Round(x)));
        Vector<T> onePlus = Vector<T>.One + scaled * unscale.V<T>();
        Vector<T> d = kUnscaled.V<T>() * scaled / (onePlus * onePlus);
        return Vector.ConditionalSelect(Vector.IsInfinity(x), Vector<T>.Zero, d);
    }
}
