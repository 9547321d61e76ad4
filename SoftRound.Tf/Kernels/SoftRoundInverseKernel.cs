using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using SoftRound.Tf.Internals.Formulas;
using static SoftRound.Tf.Kernels.VectorMath;

namespace SoftRound.Tf.Kernels;

/// <summary>
/// docs/MATH.md §3: soft_round_inverse, or with <c>conditionalMean</c> soft_round_conditional_mean, about the nearest
/// integer n = round(y), with d = y − n (exact), a = |d|, q = e^(−α), K = 1 − q and t = tanh(α/2). Let w be the
/// distance of the inverse's argument to its nearest integer (a for the inverse, ½ − a for the conditional mean),
/// v ∈ [0, ½] the inverse's offset from that integer and c = ½ − v; then x = n + sign(d)·v (inverse) or
/// n + sign(d)·c (conditional mean), with
/// <list type="bullet">
/// <item>where w ≤ w* = tanh(α/4)/(2·sinh(α/2)), the image of ¼ (so v ≤ ¼): 2α·v = log1p(w·2sinh(α) / (1 − wK)), c = ½ − v;</item>
/// <item>elsewhere (c &lt; ¼): 2α·c = log1p(2s / (1 − s)), s = (1 − 2w)·t, v = ½ − c;</item>
/// <item>dx/dy = 2t / (α·(1 − s)(1 + s)),</item>
/// </list>
/// where 1 − s = (1 − t) + 2w·t for w ≤ ¼ (1 − t = 2q/(1 + q)), so that it does not cancel as s → 1. w and 1 − 2w
/// are exact wherever they are used, every input to the one log1p is accurate to a few ulp, and neither ½ − v nor
/// ½ − c cancels: x − n keeps its relative accuracy, integers and half-integers map to themselves exactly, and the
/// inverse's derivative at integers is sinh(α)/α. The identity (derivative 1) for α &lt; 1e−3; ±∞ → ±∞ with
/// derivative 0.
/// </summary>
/// <remarks>
/// Where 2·sinh(α) overflows the dtype (α &gt; 89 in float, &gt; 710 in double) the first form is
/// 2α·v = α + log((q + wK)/(1 − wK)) (and v = 0 at w = 0), which loses relative accuracy only where v is about
/// ln 2/(2α), that is for w near e^(−α): values below 1e−38.
/// </remarks>
internal readonly struct SoftRoundInverseKernel : IRoundKernel
{
    private readonly bool identity, conditionalMean, hugeFloat, hugeDouble;
    private readonly Splat alpha, halfOverAlpha, k, twoSinh, q, tanhHalf, oneMinusTanhHalf, slope, nearLimit;

    /// <summary>Precomputes the constants for α clamped to ≥ 1e−3.</summary>
    public SoftRoundInverseKernel(double alpha, bool conditionalMean)
    {
        identity = alpha < SoftRoundFormula.IdentityBelow;
        this.conditionalMean = conditionalMean;
        double a = Math.Max(alpha, SoftRoundFormula.IdentityBelow), qd = Math.Exp(-a), sinh2 = 2 * Math.Sinh(a);
        this.alpha = new Splat(a);
        halfOverAlpha = new Splat(0.5 / a);
        k = new Splat(-Elementary.Expm1(-a));
        twoSinh = new Splat(sinh2);
        q = new Splat(qd);
        tanhHalf = new Splat(Math.Tanh(a / 2));
        oneMinusTanhHalf = new Splat(2 * qd / (1 + qd));
        slope = new Splat(2 * Math.Tanh(a / 2) / a);
        nearLimit = new Splat(Math.Tanh(a / 4) / (2 * Math.Sinh(a / 2)));
        hugeFloat = !float.IsFinite((float)sinh2);
        hugeDouble = !double.IsFinite(sinh2);
    }

    private bool Huge<T>() => typeof(T) == typeof(float) ? hugeFloat : hugeDouble;

    /// <inheritdoc />
    public T Value<T>(T y) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (identity || T.IsInfinity(y)) return y;
        T half = T.CreateTruncating(0.5);
        T n = T.Round(y), d = y - n;
        (T w, T s, T oneMinusS) = Coordinates(T.Abs(d));
        T v, c;
        if (w <= nearLimit.S<T>())
        {
            T kw = k.S<T>() * w;
            v = (Huge<T>()
                ? (w == T.Zero ? T.Zero : alpha.S<T>() + T.Log((q.S<T>() + kw) / (T.One - kw)))
                : Elementary.Log1p(w * twoSinh.S<T>() / (T.One - kw))) * halfOverAlpha.S<T>();
            v = T.Clamp(v, T.Zero, half);
            c = half - v;
        }
        else
        {
            c = Elementary.Log1p((s + s) / oneMinusS) * halfOverAlpha.S<T>();
            v = half - c;
        }
        return n + T.CopySign(conditionalMean ? c : v, d);
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector<T> Value<T>(Vector<T> y) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (identity) return y;
        Vector<T> half = C<T>(0.5);
        Vector<T> n = Round(y), d = y - n;
        (Vector<T> w, Vector<T> s, Vector<T> oneMinusS) = Coordinates(Vector.Abs(d));
        Vector<T> near = Vector.LessThanOrEqual(w, nearLimit.V<T>());
        Vector<T> kw = k.V<T>() * w;
        Vector<T> farArgument = (s + s) / oneMinusS;
        Vector<T> scaled;
        if (Huge<T>())
        {
            // At w = 0 exactly v = 0: e^(−α) may be a subnormal with a few bits, whose log is off by far more.
            Vector<T> nearLog = Vector.ConditionalSelect(Vector.Equals(w, Vector<T>.Zero), Vector<T>.Zero,
                alpha.V<T>() + Log((q.V<T>() + kw) / (Vector<T>.One - kw)));
            scaled = Vector.ConditionalSelect(near, nearLog, Elementary.Log1p(farArgument)) * halfOverAlpha.V<T>();
        }
        else
        {
            Vector<T> nearArgument = w * twoSinh.V<T>() / (Vector<T>.One - kw);
            scaled = Elementary.Log1p(Vector.ConditionalSelect(near, nearArgument, farArgument)) * halfOverAlpha.V<T>();
        }
        // Near, scaled is v (clamped to [0, ½]: the huge-α form gives −∞ at w = 0 where q underflows); far, it is c.
        scaled = Vector.ConditionalSelect(near, Vector.MinNative(Vector.MaxNative(Vector<T>.Zero, scaled), half), scaled);
        Vector<T> wanted = conditionalMean
            ? Vector.ConditionalSelect(near, half - scaled, scaled)
            : Vector.ConditionalSelect(near, scaled, half - scaled);
        return Vector.ConditionalSelect(Vector.IsInfinity(y), y, n + Vector.CopySign(wanted, d));
    }

    /// <inheritdoc />
    public T Derivative<T>(T y) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (T.IsInfinity(y)) return T.Zero;
        if (identity) return T.One;
        (_, T s, T oneMinusS) = Coordinates(T.Abs(y - T.Round(y)));
        return slope.S<T>() / (oneMinusS * (T.One + s));
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector<T> Derivative<T>(Vector<T> y) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (identity) return Vector.ConditionalSelect(Vector.IsInfinity(y), Vector<T>.Zero, Vector<T>.One);
        (_, Vector<T> s, Vector<T> oneMinusS) = Coordinates(Vector.Abs(y - Round(y)));
        return Vector.ConditionalSelect(Vector.IsInfinity(y), Vector<T>.Zero, slope.V<T>() / (oneMinusS * (Vector<T>.One + s)));
    }

    /// <summary>
    /// From a = |y − n|: w, s = (1 − 2w)·tanh(α/2) and 1 − s, the latter as (1 − tanh(α/2)) + 2w·tanh(α/2) where
    /// w ≤ ¼. For the inverse w = a and 1 − 2w = 1 − 2a; for the conditional mean w = ½ − a and 1 − 2w = 2a.
    /// </summary>
    private (T w, T s, T oneMinusS) Coordinates<T>(T a) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        T w = conditionalMean ? T.CreateTruncating(0.5) - a : a;
        T h = conditionalMean ? a + a : T.One - (a + a);
        T s = h * tanhHalf.S<T>();
        T oneMinusS = w <= T.CreateTruncating(0.25) ? oneMinusTanhHalf.S<T>() + (w + w) * tanhHalf.S<T>() : T.One - s;
        return (w, s, oneMinusS);
    }

    /// <inheritdoc cref="Coordinates{T}(T)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private (Vector<T> w, Vector<T> s, Vector<T> oneMinusS) Coordinates<T>(Vector<T> a) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        Vector<T> w = conditionalMean ? C<T>(0.5) - a : a;
        Vector<T> h = conditionalMean ? a + a : Vector<T>.One - (a + a);
        Vector<T> s = h * tanhHalf.V<T>();
        Vector<T> near = oneMinusTanhHalf.V<T>() + (w + w) * tanhHalf.V<T>();
        return (w, s, Vector.ConditionalSelect(Vector.LessThanOrEqual(w, C<T>(0.25)), near, Vector<T>.One - s));
    }
}
