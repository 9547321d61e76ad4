using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using SoftRound.Tf.Internals.Formulas;
using static SoftRound.Tf.Kernels.VectorMath;

namespace SoftRound.Tf.Kernels;

/// <summary>
/// ../shared/MATH.md §3 at y' = y − shift: x = m + clip(atanh(s)/α, −½, ½) + shift, m = ⌊y'⌋ + ½,
/// s = 2·(y' − m)·tanh(α/2); dx/dy = 2·tanh(α/2)/(α·(1 − s²)) (the clip only absorbs rounding; see
/// <see cref="SoftRoundInverseFormula"/>). shift = 0 is soft_round_inverse, shift = ½ soft_round_conditional_mean.
/// The identity (derivative 1) for α &lt; 1e−3; ±∞ → ±∞ with derivative 0.
/// </summary>
internal readonly struct SoftRoundInverseKernel : IRoundKernel
{
    private readonly bool identity;
    private readonly Splat alpha, twoT, shift;

    /// <summary>Precomputes α clamped to ≥ 1e−3 and 2·tanh(α/2).</summary>
    public SoftRoundInverseKernel(double alpha, double shift)
    {
        identity = alpha < SoftRoundFormula.IdentityBelow;
        double clamped = Math.Max(alpha, SoftRoundFormula.IdentityBelow);
        this.alpha = new Splat(clamped);
        twoT = new Splat(2 * Math.Tanh(clamped / 2));
        this.shift = new Splat(shift);
    }

    /// <inheritdoc />
    public T Value<T>(T y) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        T shifted = y - shift.S<T>();
        if (identity || T.IsInfinity(y)) return shifted + shift.S<T>();
        T m = T.Floor(shifted) + T.CreateTruncating(0.5);
        T half = T.CreateTruncating(0.5);
        return m + T.Clamp(Elementary.Atanh((shifted - m) * twoT.S<T>()) / alpha.S<T>(), -half, half) + shift.S<T>();
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector<T> Value<T>(Vector<T> y) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        Vector<T> shifted = y - shift.V<T>();
        if (identity) return shifted + shift.V<T>();
        Vector<T> m = Floor(shifted) + C<T>(0.5);
        Vector<T> r = ClampHalf(Elementary.Atanh((shifted - m) * twoT.V<T>()) / alpha.V<T>());
        return Vector.ConditionalSelect(Vector.IsInfinity(y), y, m + r + shift.V<T>());
    }

    /// <inheritdoc />
    public T Derivative<T>(T y) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (T.IsInfinity(y)) return T.Zero;
        if (identity) return T.One;
        T shifted = y - shift.S<T>();
        T s = (shifted - T.Floor(shifted) - T.CreateTruncating(0.5)) * twoT.S<T>();
        return twoT.S<T>() / (alpha.S<T>() * (T.One - s) * (T.One + s));
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector<T> Derivative<T>(Vector<T> y) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (identity) return Vector.ConditionalSelect(Vector.IsInfinity(y), Vector<T>.Zero, Vector<T>.One);
        Vector<T> shifted = y - shift.V<T>();
        Vector<T> s = (shifted - Floor(shifted) - C<T>(0.5)) * twoT.V<T>();
        Vector<T> d = twoT.V<T>() / (alpha.V<T>() * (Vector<T>.One - s) * (Vector<T>.One + s));
        return Vector.ConditionalSelect(Vector.IsInfinity(y), Vector<T>.Zero, d);
    }
}
