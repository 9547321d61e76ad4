using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using SoftRound.Tf.Internals.Formulas;
using static SoftRound.Tf.Kernels.VectorMath;

namespace SoftRound.Tf.Kernels;

/// <summary>
/// docs/MATH.md §3: soft_round_inverse, or with <c>conditionalMean</c> soft_round_conditional_mean, about the nearest
/// integer n = round(y), with d = y − n (exact), a = |d|, q = e^(−α), K = 1 − q and t = tanh(α/2):
/// <list type="bullet">
/// <item>inverse: x = n + sign(d)·v, 2α·v = log1p(a·2sinh(α) / (1 − aK)), dx/dy = K(1 + q) / (2α·(q + aK)·(1 − aK));</item>
/// <item>conditional mean: x = n + sign(d)·c, s = 2a·t, 2α·c = log1p(2s / (1 − s)), dx/dy = 2t / (α·(1 − s)(1 + s)),
/// with 1 − s = (1 − t) + 2(½ − a)·t where a ≥ ¼ (1 − t = 2q/(1 + q)), so it does not cancel as s → 1.</item>
/// </list>
/// Every input to the one log1p is accurate to a few ulp and log1p does not amplify relative error, so x − n keeps
/// its relative accuracy, integers (and, for the conditional mean, half-integers) map to themselves exactly and the
/// inverse's derivative at integers is sinh(α)/α. The identity (derivative 1) for α &lt; 1e−3; ±∞ → ±∞ with
/// derivative 0.
/// </summary>
/// <remarks>
/// Where 2·sinh(α) overflows the dtype (α &gt; 89 in float, &gt; 710 in double) the inverse uses
/// 2α·v = α + log((q + aK)/(1 − aK)), which loses relative accuracy only where v is about ln 2/(2α), that is for a
/// near e^(−α): values below 1e−38.
/// </remarks>
internal readonly struct SoftRoundInverseKernel : IRoundKernel
{
    private readonly bool identity, conditionalMean, hugeFloat, hugeDouble;
    private readonly Splat alpha, halfOverAlpha, k, twoSinh, q, tanhHalf, oneMinusTanhHalf, inverseSlope, meanSlope;

    /// <summary>Precomputes the constants for α clamped to ≥ 1e−3.</summary>
    public SoftRoundInverseKernel(double alpha, bool conditionalMean)
    {
        identity = alpha < SoftRoundFormula.IdentityBelow;
        this.conditionalMean = conditionalMean;
        double a = Math.Max(alpha, SoftRoundFormula.IdentityBelow), kd = -Elementary.Expm1(-a), qd = Math.Exp(-a), sinh2 = 2 * Math.Sinh(a);
        this.alpha = new Splat(a);
        halfOverAlpha = new Splat(0.5 / a);
        k = new Splat(kd);
        twoSinh = new Splat(sinh2);
        q = new Splat(qd);
        tanhHalf = new Splat(Math.Tanh(a / 2));
        oneMinusTanhHalf = new Splat(2 * qd / (1 + qd));
        inverseSlope = new Splat(kd * (1 + qd) / (2 * a));
        meanSlope = new Splat(2 * Math.Tanh(a / 2) / a);
        hugeFloat = !float.IsFinite((float)sinh2);
        hugeDouble = !double.IsFinite(sinh2);
    }

    private bool Huge<T>() => typeof(T) == typeof(float) ? hugeFloat : hugeDouble;

    /// <inheritdoc />
    public T Value<T>(T y) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (identity || T.IsInfinity(y)) return y;
        T half = T.CreateTruncating(0.5);
        T n = T.Round(y), d = y - n, a = T.Abs(d);
        T logArgument;
        if (conditionalMean)
        {
            T s = (a + a) * tanhHalf.S<T>();
            logArgument = Elementary.Log1p((s + s) / OneMinusS(a, s));
        }
        else
        {
            T ka = k.S<T>() * a;
            logArgument = Huge<T>()
                ? alpha.S<T>() + T.Log((q.S<T>() + ka) / (T.One - ka))
                : Elementary.Log1p(a * twoSinh.S<T>() / (T.One - ka));
        }
        return n + T.CopySign(T.Clamp(logArgument * halfOverAlpha.S<T>(), T.Zero, half), d);
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector<T> Value<T>(Vector<T> y) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (identity) return y;
        Vector<T> n = Round(y), d = y - n, a = Vector.Abs(d);
        Vector<T> twoAlphaOffset;
        if (conditionalMean)
        {
            Vector<T> s = (a + a) * tanhHalf.V<T>();
            twoAlphaOffset = Elementary.Log1p((s + s) / OneMinusS(a, s));
        }
        else
        {
            Vector<T> ka = k.V<T>() * a;
            twoAlphaOffset = Huge<T>()
                ? alpha.V<T>() + Log((q.V<T>() + ka) / (Vector<T>.One - ka))
                : Elementary.Log1p(a * twoSinh.V<T>() / (Vector<T>.One - ka));
        }
        // Clamped to [0, ½]: the huge-α form gives −∞ at a = 0 where e^(−α) underflows.
        Vector<T> offset = Vector.MinNative(Vector.MaxNative(Vector<T>.Zero, twoAlphaOffset * halfOverAlpha.V<T>()), C<T>(0.5));
        return Vector.ConditionalSelect(Vector.IsInfinity(y), y, n + Vector.CopySign(offset, d));
    }

    /// <inheritdoc />
    public T Derivative<T>(T y) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (T.IsInfinity(y)) return T.Zero;
        if (identity) return T.One;
        T a = T.Abs(y - T.Round(y));
        if (conditionalMean)
        {
            T s = (a + a) * tanhHalf.S<T>();
            return meanSlope.S<T>() / (OneMinusS(a, s) * (T.One + s));
        }
        T ka = k.S<T>() * a;
        return inverseSlope.S<T>() / ((q.S<T>() + ka) * (T.One - ka));
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector<T> Derivative<T>(Vector<T> y) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (identity) return Vector.ConditionalSelect(Vector.IsInfinity(y), Vector<T>.Zero, Vector<T>.One);
        Vector<T> a = Vector.Abs(y - Round(y));
        Vector<T> derivative;
        if (conditionalMean)
        {
            Vector<T> s = (a + a) * tanhHalf.V<T>();
            derivative = meanSlope.V<T>() / (OneMinusS(a, s) * (Vector<T>.One + s));
        }
        else
        {
            Vector<T> ka = k.V<T>() * a;
            derivative = inverseSlope.V<T>() / ((q.V<T>() + ka) * (Vector<T>.One - ka));
        }
        return Vector.ConditionalSelect(Vector.IsInfinity(y), Vector<T>.Zero, derivative);
    }

    /// <summary>1 − s for s = 2a·tanh(α/2): (1 − tanh(α/2)) + 2(½ − a)·tanh(α/2) where a ≥ ¼ (½ − a is exact there).</summary>
    private T OneMinusS<T>(T a, T s) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        T half = T.CreateTruncating(0.5);
        if (a < T.CreateTruncating(0.25)) return T.One - s;
        T w = half - a;
        return oneMinusTanhHalf.S<T>() + (w + w) * tanhHalf.S<T>();
    }

    /// <inheritdoc cref="OneMinusS{T}(T, T)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Vector<T> OneMinusS<T>(Vector<T> a, Vector<T> s) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        Vector<T> w = C<T>(0.5) - a;
        Vector<T> near = oneMinusTanhHalf.V<T>() + (w + w) * tanhHalf.V<T>();
        return Vector.ConditionalSelect(Vector.LessThan(a, C<T>(0.25)), Vector<T>.One - s, near);
    }
}
