using System;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace SoftRound.Tf.Kernels;

/// <summary>
/// The functions the kernels are built from, each as a scalar reference (on the runtime's scalar Exp and Log) and a
/// vector version (on <see cref="VectorMath"/>), in float or double and in the stable forms of docs/MATH.md.
/// </summary>
/// <remarks>
/// The scalar expm1 and both log1p use Kahan's forms, x·(eˣ − 1)/log(eˣ) and t·log(1 + t)/((1 + t) − 1): accurate to
/// a few ulp wherever exp and log are. The vector expm1 is <see cref="VectorMath.Expm1NonPositive"/>.
/// </remarks>
internal static class Elementary
{
    /// <summary>
    /// E·2^σ with E = exp(α·(2w − 1)) for 0 ≤ w ≤ ½ and α &gt; 0, σ = <see cref="VectorMath.ScaleExponent{T}"/>: scaled
    /// so that it stays a normal number where E is subnormal. The exponent is carried exactly: α·2w = P + e₁ (an FMA
    /// gives e₁) and P − α = s + e₂ (Fast2Sum, since P ≤ α), so E = eˢ·(1 + e₁ + e₂). Relative error a few ulp for
    /// every α, where exp(α·(2w − 1)) evaluated directly loses about α ulp to the rounding of its exponent.
    /// </summary>
    public static T ExpCentredScaled<T>(T alpha, T w) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        T twoW = w + w, product = alpha * twoW;
        T e1 = T.FusedMultiplyAdd(alpha, twoW, -product);
        T s = product - alpha;
        T e2 = product - (s + alpha);
        // eˢ·2^σ = (e^(s/2)·2^(σ/2))², each factor normal.
        T root = T.Exp(s / T.CreateTruncating(2)) * T.CreateTruncating(Math.ScaleB(1.0, VectorMath.ScaleExponent<T>() / 2));
        T e = root * root;
        return T.FusedMultiplyAdd(e, e1 + e2, e);
    }

    /// <inheritdoc cref="ExpCentredScaled{T}(T, T)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<T> ExpCentredScaled<T>(Vector<T> alpha, Vector<T> w) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        Vector<T> twoW = w + w, product = alpha * twoW;
        Vector<T> e1 = VectorMath.Fma(alpha, twoW, -product);
        Vector<T> s = product - alpha;
        Vector<T> e2 = product - (s + alpha);
        Vector<T> e = VectorMath.ExpNonPositiveScaled(s);
        return VectorMath.Fma(e, e1 + e2, e);
    }

    /// <summary>eˣ − 1 for x ≤ 0 (Kahan): x where eˣ rounds to 1, −1 where it underflows.</summary>
    public static T Expm1<T>(T x) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        T u = T.Exp(x);
        if (u == T.One) return x;
        if (u == T.Zero) return -T.One;
        return (u - T.One) * x / T.Log(u);
    }

    /// <summary>log(1 + t) (Kahan): t where 1 + t rounds to 1, +∞ at t = +∞.</summary>
    public static T Log1p<T>(T t) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        T u = T.One + t;
        if (u == T.One) return t;
        if (T.IsPositiveInfinity(u)) return u;
        return T.Log(u) * t / (u - T.One);
    }

    /// <inheritdoc cref="Log1p{T}(T)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<T> Log1p<T>(Vector<T> t) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        Vector<T> u = Vector<T>.One + t;
        Vector<T> y = VectorMath.Log(u) * t / (u - Vector<T>.One);
        y = Vector.ConditionalSelect(Vector.Equals(u, Vector<T>.One), t, y);
        return Vector.ConditionalSelect(Vector.Equals(u, VectorMath.C<T>(double.PositiveInfinity)), u, y);
    }
}
