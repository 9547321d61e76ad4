using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using SoftRound.Tf.Internals.Formulas;
using static SoftRound.Tf.Kernels.VectorMath;

namespace SoftRound.Tf.Kernels;

/// <summary>
/// docs/MATH.md §2: soft_round about the nearest integer n = round(x): with d = x − n (exact), w = |d|,
/// E = exp(α·(2w − 1)) and K = 1 − e^(−α), y = n + sign(d)·min(g, ½) with g = E·(1 − e^(−2αw)) / (K·(1 + E)), and
/// dy/dx = (2α/tanh(α/2))·E/(1 + E)². Every factor is accurate to a few ulp, so y − n keeps its relative accuracy
/// and y(n) = n exactly. E is computed scaled by 2^σ (<see cref="Elementary.ExpCentredScaled{T}(T, T)"/>) so that
/// products with it keep their accuracy where E is subnormal (α &gt; 87 in float). The identity (derivative 1) for
/// α &lt; 1e−3; ±∞ → ±∞ with derivative 0.
/// </summary>
internal readonly struct SoftRoundKernel : IRoundKernel
{
    private readonly bool identity;
    private readonly Splat alpha, minusTwoAlpha, inverseK, slope, unscale;

    /// <summary>Precomputes α clamped to ≥ 1e−3, −2α, 1/K and 2α/tanh(α/2).</summary>
    public SoftRoundKernel(double alpha)
    {
        identity = alpha < SoftRoundFormula.IdentityBelow;
        double a = Math.Max(alpha, SoftRoundFormula.IdentityBelow);
        this.alpha = new Splat(a);
        minusTwoAlpha = new Splat(-2 * a);
        inverseK = Splat.Unscaled(-1 / Elementary.Expm1(-a));
        slope = Splat.Unscaled(2 * a / Math.Tanh(a / 2));
        unscale = Splat.Unscaled(1);
    }

    /// <inheritdoc />
    public T Value<T>(T x) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (identity || T.IsInfinity(x)) return x;
        T n = T.Round(x), d = x - n, w = T.Abs(d);
        T scaled = Elementary.ExpCentredScaled(alpha.S<T>(), w);
        T g = -Elementary.Expm1(minusTwoAlpha.S<T>() * w) * scaled * inverseK.S<T>() / (T.One + scaled * unscale.S<T>());
        return n + T.CopySign(T.Min(g, T.CreateTruncating(0.5)), d);
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector<T> Value<T>(Vector<T> x) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (identity) return x;
        Vector<T> n = Round(x), d = x - n, w = Vector.Abs(d);
        Vector<T> scaled = Elementary.ExpCentredScaled(alpha.V<T>(), w);
        Vector<T> g = -Expm1NonPositive(minusTwoAlpha.V<T>() * w) * scaled * inverseK.V<T>() / (Vector<T>.One + scaled * unscale.V<T>());
        Vector<T> y = n + Vector.CopySign(Vector.MinNative(g, C<T>(0.5)), d);
        return Vector.ConditionalSelect(Vector.IsInfinity(x), x, y);
    }

    /// <inheritdoc />
    public T Derivative<T>(T x) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (T.IsInfinity(x)) return T.Zero;
        if (identity) return T.One;
        T scaled = Elementary.ExpCentredScaled(alpha.S<T>(), T.Abs(x - T.Round(x)));
        T onePlus = T.One + scaled * unscale.S<T>();
        return slope.S<T>() * scaled / (onePlus * onePlus);
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector<T> Derivative<T>(Vector<T> x) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (identity) return Vector.ConditionalSelect(Vector.IsInfinity(x), Vector<T>.Zero, Vector<T>.One);
        Vector<T> scaled = Elementary.ExpCentredScaled(alpha.V<T>(), Vector.Abs(x - Round(x)));
        Vector<T> onePlus = Vector<T>.One + scaled * unscale.V<T>();
        Vector<T> d = slope.V<T>() * scaled / (onePlus * onePlus);
        return Vector.ConditionalSelect(Vector.IsInfinity(x), Vector<T>.Zero, d);
    }
}
