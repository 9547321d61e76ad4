using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using SoftRound.Tf.Internals.Formulas;
using static SoftRound.Tf.Kernels.VectorMath;

namespace SoftRound.Tf.Kernels;

/// <summary>
/// ../shared/MATH.md §2: y = m + tanh(α·r)/D, m = ⌊x⌋ + ½, r = x − m, D = 2·tanh(α/2); dy/dx = α·sech²(α·r)/D.
/// The identity (derivative 1) for α &lt; 1e−3; ±∞ → ±∞ with derivative 0. tanh(α·r)/D is clamped to [−½, ½] (see
/// <see cref="SoftRoundFormula"/>).
/// </summary>
internal readonly struct SoftRoundKernel : IRoundKernel
{
    private readonly bool identity;
    private readonly Splat alpha, inverseD;

    /// <summary>Precomputes α clamped to ≥ 1e−3 and 1/D.</summary>
    public SoftRoundKernel(double alpha)
    {
        identity = alpha < SoftRoundFormula.IdentityBelow;
        double clamped = Math.Max(alpha, SoftRoundFormula.IdentityBelow);
        this.alpha = new Splat(clamped);
        inverseD = new Splat(1 / (2 * Math.Tanh(clamped / 2)));
    }

    /// <inheritdoc />
    public T Value<T>(T x) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (identity || T.IsInfinity(x)) return x;
        T m = T.Floor(x) + T.CreateTruncating(0.5);
        T half = T.CreateTruncating(0.5);
        return m + T.Clamp(Elementary.Tanh(alpha.S<T>() * (x - m)) * inverseD.S<T>(), -half, half);
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector<T> Value<T>(Vector<T> x) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (identity) return x;
        Vector<T> m = Floor(x) + C<T>(0.5);
        Vector<T> y = m + ClampHalf(Elementary.Tanh(alpha.V<T>() * (x - m)) * inverseD.V<T>());
        return Vector.ConditionalSelect(Vector.IsInfinity(x), x, y);
    }

    /// <inheritdoc />
    public T Derivative<T>(T x) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (T.IsInfinity(x)) return T.Zero;
        if (identity) return T.One;
        return alpha.S<T>() * Elementary.Sech2(alpha.S<T>() * (x - T.Floor(x) - T.CreateTruncating(0.5))) * inverseD.S<T>();
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector<T> Derivative<T>(Vector<T> x) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        Vector<T> d = identity
            ? Vector<T>.One
            : alpha.V<T>() * Elementary.Sech2(alpha.V<T>() * (x - Floor(x) - C<T>(0.5))) * inverseD.V<T>();
        return Vector.ConditionalSelect(Vector.IsInfinity(x), Vector<T>.Zero, d);
    }
}
