using System.Numerics;
using System.Runtime.CompilerServices;
using static SoftRound.Tf.Kernels.VectorMath;

namespace SoftRound.Tf.Kernels;

/// <summary>
/// ../shared/MATH.md §1: y = ⌊x⌋ + σ(k·r), r = x − ⌊x⌋ − ½; dy/dx = k·σ(k·r)·σ(−k·r); ±∞ → ±∞ with derivative 0.
/// </summary>
internal readonly struct DifferentiableRoundKernel(double k) : IRoundKernel
{
    private readonly Splat kv = new(k);

    /// <inheritdoc />
    public T Value<T>(T x) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (T.IsInfinity(x)) return x;
        T f = T.Floor(x);
        return f + Elementary.Sigmoid(kv.S<T>() * (x - f - T.CreateTruncating(0.5)));
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector<T> Value<T>(Vector<T> x) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        Vector<T> f = Floor(x);
        Vector<T> y = f + Elementary.Sigmoid(kv.V<T>() * (x - f - C<T>(0.5)));
        return Vector.ConditionalSelect(Vector.IsInfinity(x), x, y);
    }

    /// <inheritdoc />
    public T Derivative<T>(T x) where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        T.IsInfinity(x) ? T.Zero : kv.S<T>() * Elementary.SigmoidProduct(kv.S<T>() * (x - T.Floor(x) - T.CreateTruncating(0.5)));

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector<T> Derivative<T>(Vector<T> x) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        Vector<T> d = kv.V<T>() * Elementary.SigmoidProduct(kv.V<T>() * (x - Floor(x) - C<T>(0.5)));
        return Vector.ConditionalSelect(Vector.IsInfinity(x), Vector<T>.Zero, d);
    }
}
