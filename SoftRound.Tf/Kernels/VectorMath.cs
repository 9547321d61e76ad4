using System;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace SoftRound.Tf.Kernels;

/// <summary>
/// floor, round, exp, expm1 and log on <see cref="Vector{T}"/> of float or double, written here because the runtime's
/// vector Exp and Log run at scalar speed on this platform and are off by up to 2 ulp. Each is within a few ulp of
/// <see cref="Math"/>'s (tested), propagates NaN, and handles ±∞, overflow and underflow.
/// </summary>
/// <remarks>
/// exp and expm1 reduce x = k·ln2 + r, |r| ≤ ln2/2, with ln2 split so that k·ln2hi is exact, evaluate expm1(r) by its
/// Taylor polynomial (to r⁷/7! in float, r¹³/13! in double: truncation below the dtype's half ulp) in Estrin's
/// scheme, and scale by 2ᵏ
/// built in the exponent bits. log splits x = 2ᵉ·m, m ∈ [√½, √2), and sums log(m) = 2·atanh(s), s = (m − 1)/(m + 1).
/// </remarks>
internal static class VectorMath
{
    private const double Log2E = 1.4426950408889634;

    /// <summary>
    /// ln 2 = hi + lo: hi is ln 2 rounded to the dtype with its low mantissa bits cleared (32 in double, 12 in float),
    /// so that k·hi is exact; lo is ln 2 − hi rounded to the dtype (evaluated to 60 digits; a test checks both).
    /// </summary>
    internal const double Ln2HiDouble = 0.6931467056274414, Ln2LoDouble = 4.7493250390316726e-07;

    /// <inheritdoc cref="Ln2HiDouble"/>
    internal const float Ln2HiFloat = 0.693115234375f, Ln2LoFloat = 3.19461833e-05f;

    /// <summary>A vector of the constant <paramref name="value"/> in T.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<T> C<T>(double value) where T : unmanaged, IBinaryFloatingPointIeee754<T> => new(T.CreateTruncating(value));

    /// <summary>x rounded to the nearest integer, half to even, lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<T> Round<T>(Vector<T> x) where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        typeof(T) == typeof(float) ? Vector.Round(x.As<T, float>()).As<float, T>() : Vector.Round(x.As<T, double>()).As<double, T>();

    /// <summary>a·b + c with one rounding, lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<T> Fma<T>(Vector<T> a, Vector<T> b, Vector<T> c) where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        typeof(T) == typeof(float)
            ? Vector.FusedMultiplyAdd(a.As<T, float>(), b.As<T, float>(), c.As<T, float>()).As<float, T>()
            : Vector.FusedMultiplyAdd(a.As<T, double>(), b.As<T, double>(), c.As<T, double>()).As<double, T>();

    /// <summary>
    /// eˣ lane by lane for x ≤ 0 (larger x is not needed by the kernels and is not handled), with gradual underflow:
    /// results below the smallest normal number are subnormal (within 1 ulp of the subnormal spacing), and 0 below
    /// half the smallest subnormal.
    /// </summary>
    /// <remarks>
    /// 2ᵏ below the smallest normal cannot be built in the exponent bits, so every lane is computed scaled
    /// (<see cref="ExpNonPositiveScaled{T}"/>) and multiplied back, which is exact for normal results and rounds once
    /// into the subnormals.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<T> ExpNonPositive<T>(Vector<T> x) where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        ExpNonPositiveScaled(x) * C<T>(Math.ScaleB(1.0, -ScaleExponent<T>()));

    /// <summary>
    /// eˣ·2^<see cref="ScaleExponent{T}"/> lane by lane for x ≤ 0: a normal number down to x = ln of half the smallest
    /// subnormal, 0 below, so that a product with a large factor (2α·eˣ, say) keeps its accuracy where eˣ itself would
    /// be subnormal. MaxNative with x second returns x where x is NaN, on x86 and Arm alike.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<T> ExpNonPositiveScaled<T>(Vector<T> x) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
        {
            Vector<float> xf = x.As<T, float>(), lowest = new(-103.97208f);
            Vector<float> p = Reduce(Vector.MaxNative(lowest, xf), out Vector<int> k);
            Vector<float> e = (Vector<float>.One + p) * PowerOfTwo(k + new Vector<int>(64));
            return Vector.ConditionalSelect(Vector.LessThan(xf, lowest), Vector<float>.Zero, e).As<float, T>();
        }
        else
        {
            Vector<double> xd = x.As<T, double>(), lowest = new(-745.1332191019412);
            Vector<double> p = Reduce(Vector.MaxNative(lowest, xd), out Vector<long> k);
            Vector<double> e = (Vector<double>.One + p) * PowerOfTwo(k + new Vector<long>(128));
            return Vector.ConditionalSelect(Vector.LessThan(xd, lowest), Vector<double>.Zero, e).As<double, T>();
        }
    }

    /// <summary>The power of two by which <see cref="ExpNonPositiveScaled{T}"/> scales: 64 in float, 128 in double.</summary>
    public static int ScaleExponent<T>() => typeof(T) == typeof(float) ? 64 : 128;

    /// <summary>eˣ − 1 lane by lane for x ≤ 0 (larger x is not needed by the kernels and is not handled).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<T> Expm1NonPositive<T>(Vector<T> x) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        // Past the clamp eˣ − 1 rounds to −1; it keeps 2ᵏ a normal number.
        if (typeof(T) == typeof(float))
        {
            Vector<float> p = Reduce(Vector.MaxNative(new Vector<float>(-30), x.As<T, float>()), out Vector<int> k);
            Vector<float> scale = PowerOfTwo(k);
            return Vector.FusedMultiplyAdd(scale, p, scale - Vector<float>.One).As<float, T>();
        }
        else
        {
            Vector<double> p = Reduce(Vector.MaxNative(new Vector<double>(-60), x.As<T, double>()), out Vector<long> k);
            Vector<double> scale = PowerOfTwo(k);
            return Vector.FusedMultiplyAdd(scale, p, scale - Vector<double>.One).As<double, T>();
        }
    }

    /// <summary>log(x) lane by lane: −∞ at 0, NaN below 0 and at NaN, +∞ at +∞.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<T> Log<T>(Vector<T> x) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        Vector<T> e, m;
        if (typeof(T) == typeof(float))
        {
            // Subnormals are scaled up by 2^24 first.
            Vector<float> xf = x.As<T, float>();
            Vector<int> tiny = Vector.LessThan(xf, new Vector<float>(1.17549435E-38f));
            Vector<int> bits = Vector.AsVectorInt32(Vector.ConditionalSelect(tiny, xf * new Vector<float>(16777216f), xf));
            Vector<int> exponent = Vector.ShiftRightArithmetic(bits, 23) - new Vector<int>(127) - (tiny & new Vector<int>(24));
            Vector<float> mf = Vector.AsVectorSingle((bits & new Vector<int>(0x007FFFFF)) | new Vector<int>(0x3F800000));
            Vector<int> large = Vector.GreaterThan(mf, new Vector<float>(MathF.Sqrt(2)));
            m = Vector.ConditionalSelect(large, mf * new Vector<float>(0.5f), mf).As<float, T>();
            e = Vector.ConvertToSingle(exponent - large).As<float, T>();
        }
        else
        {
            Vector<double> xd = x.As<T, double>();
            Vector<long> tiny = Vector.LessThan(xd, new Vector<double>(2.2250738585072014E-308));
            Vector<long> bits = Vector.AsVectorInt64(Vector.ConditionalSelect(tiny, xd * new Vector<double>(18014398509481984.0), xd));
            Vector<long> exponent = Vector.ShiftRightArithmetic(bits, 52) - new Vector<long>(1023) - (tiny & new Vector<long>(54));
            Vector<double> md = Vector.AsVectorDouble((bits & new Vector<long>(0x000FFFFFFFFFFFFFL)) | new Vector<long>(0x3FF0000000000000L));
            Vector<long> large = Vector.GreaterThan(md, new Vector<double>(Math.Sqrt(2)));
            m = Vector.ConditionalSelect(large, md * new Vector<double>(0.5), md).As<double, T>();
            e = Vector.ConvertToDouble(exponent - large).As<double, T>();
        }
        Vector<T> f = m - Vector<T>.One;
        Vector<T> s = f / (f + C<T>(2));
        Vector<T> z = s * s;
        // 1 + z/3 + z²/5 + …: to z⁵/11 in float, z¹¹/23 in double (z ≤ 0.0295).
        Vector<T> series = typeof(T) == typeof(float)
            ? LogSeries(z.As<T, float>()).As<float, T>()
            : LogSeries(z.As<T, double>()).As<double, T>();
        (double hi, double lo) = typeof(T) == typeof(float) ? (Ln2HiFloat, Ln2LoFloat) : (Ln2HiDouble, Ln2LoDouble);
        Vector<T> y = Fma(e, C<T>(hi), Fma(e, C<T>(lo), (s + s) * series));
        y = Vector.ConditionalSelect(Vector.Equals(x, Vector<T>.Zero), C<T>(double.NegativeInfinity), y);
        y = Vector.ConditionalSelect(Vector.Equals(x, C<T>(double.PositiveInfinity)), x, y);
        return Vector.ConditionalSelect(Vector.LessThan(x, Vector<T>.Zero) | Vector.IsNaN(x), C<T>(double.NaN), y);
    }

    /// <summary>x = k·ln2 + r with k = round(x/ln2), |r| ≤ ln2/2; returns e^r − 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Reduce(Vector<float> x, out Vector<int> k)
    {
        // Adding 1.5·2^23 rounds to an integer held in the low mantissa bits.
        var magic = new Vector<float>(12582912f);
        Vector<float> shifted = Vector.FusedMultiplyAdd(x, new Vector<float>((float)Log2E), magic);
        Vector<float> kf = shifted - magic;
        k = Vector.AsVectorInt32(shifted) - Vector.AsVectorInt32(magic);
        Vector<float> r = Vector.FusedMultiplyAdd(kf, new Vector<float>(-Ln2HiFloat), x);
        r = Vector.FusedMultiplyAdd(kf, new Vector<float>(-Ln2LoFloat), r);
        return r * Expm1Series(r);
    }

    /// <inheritdoc cref="Reduce(Vector{float}, out Vector{int})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<double> Reduce(Vector<double> x, out Vector<long> k)
    {
        // Adding 1.5·2^52 rounds to an integer held in the low mantissa bits.
        var magic = new Vector<double>(6755399441055744.0);
        Vector<double> shifted = Vector.FusedMultiplyAdd(x, new Vector<double>(Log2E), magic);
        Vector<double> kf = shifted - magic;
        k = Vector.AsVectorInt64(shifted) - Vector.AsVectorInt64(magic);
        Vector<double> r = Vector.FusedMultiplyAdd(kf, new Vector<double>(-Ln2HiDouble), x);
        r = Vector.FusedMultiplyAdd(kf, new Vector<double>(-Ln2LoDouble), r);
        return r * Expm1Series(r);
    }

    /// <summary>2ᵏ for −126 ≤ k ≤ 127, built in the exponent bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> PowerOfTwo(Vector<int> k) => Vector.AsVectorSingle(Vector.ShiftLeft(k + new Vector<int>(127), 23));

    /// <summary>2ᵏ for −1022 ≤ k ≤ 1023, built in the exponent bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<double> PowerOfTwo(Vector<long> k) => Vector.AsVectorDouble(Vector.ShiftLeft(k + new Vector<long>(1023), 52));

    /// <summary>(e^r − 1)/r = 1 + r/2! + … + r⁶/7!, by Estrin's scheme (a short dependency chain).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Expm1Series(Vector<float> r)
    {
        Vector<float> r2 = r * r;
        Vector<float> a = Vector.FusedMultiplyAdd(new Vector<float>(1f / 2), r, Vector<float>.One);
        Vector<float> b = Vector.FusedMultiplyAdd(new Vector<float>(1f / 24), r, new Vector<float>(1f / 6));
        Vector<float> c = Vector.FusedMultiplyAdd(new Vector<float>(1f / 720), r, new Vector<float>(1f / 120));
        Vector<float> cd = Vector.FusedMultiplyAdd(new Vector<float>(1f / 5040), r2, c);
        return Vector.FusedMultiplyAdd(r2 * r2, cd, Vector.FusedMultiplyAdd(b, r2, a));
    }

    /// <summary>(e^r − 1)/r = 1 + r/2! + … + r¹²/13!, by Estrin's scheme (a short dependency chain).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<double> Expm1Series(Vector<double> r)
    {
        Vector<double> r2 = r * r, r4 = r2 * r2;
        Vector<double> p01 = Vector.FusedMultiplyAdd(new Vector<double>(1.0 / 2), r, Vector<double>.One);
        Vector<double> p23 = Vector.FusedMultiplyAdd(new Vector<double>(1.0 / 24), r, new Vector<double>(1.0 / 6));
        Vector<double> p45 = Vector.FusedMultiplyAdd(new Vector<double>(1.0 / 720), r, new Vector<double>(1.0 / 120));
        Vector<double> p67 = Vector.FusedMultiplyAdd(new Vector<double>(1.0 / 40320), r, new Vector<double>(1.0 / 5040));
        Vector<double> p89 = Vector.FusedMultiplyAdd(new Vector<double>(1.0 / 3628800), r, new Vector<double>(1.0 / 362880));
        Vector<double> p1011 = Vector.FusedMultiplyAdd(new Vector<double>(1.0 / 479001600), r, new Vector<double>(1.0 / 39916800));
        Vector<double> q0 = Vector.FusedMultiplyAdd(p23, r2, p01);
        Vector<double> q1 = Vector.FusedMultiplyAdd(p67, r2, p45);
        Vector<double> q2 = Vector.FusedMultiplyAdd(p1011, r2, p89);
        Vector<double> q2c = Vector.FusedMultiplyAdd(new Vector<double>(1.0 / 6227020800), r4, q2);
        return Vector.FusedMultiplyAdd(r4 * r4, q2c, Vector.FusedMultiplyAdd(q1, r4, q0));
    }

    /// <summary>atanh(s)/s = 1 + z/3 + … + z⁵/11, z = s², by Horner.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> LogSeries(Vector<float> z)
    {
        Vector<float> p = new Vector<float>(1f / 11);
        p = Vector.FusedMultiplyAdd(p, z, new Vector<float>(1f / 9));
        p = Vector.FusedMultiplyAdd(p, z, new Vector<float>(1f / 7));
        p = Vector.FusedMultiplyAdd(p, z, new Vector<float>(1f / 5));
        p = Vector.FusedMultiplyAdd(p, z, new Vector<float>(1f / 3));
        p = Vector.FusedMultiplyAdd(p, z, new Vector<float>(1f / 1));
        return p;
    }

    /// <summary>atanh(s)/s = 1 + z/3 + … + z¹¹/23, z = s², by Horner.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<double> LogSeries(Vector<double> z)
    {
        Vector<double> p = new Vector<double>(1.0 / 23);
        p = Vector.FusedMultiplyAdd(p, z, new Vector<double>(1.0 / 21));
        p = Vector.FusedMultiplyAdd(p, z, new Vector<double>(1.0 / 19));
        p = Vector.FusedMultiplyAdd(p, z, new Vector<double>(1.0 / 17));
        p = Vector.FusedMultiplyAdd(p, z, new Vector<double>(1.0 / 15));
        p = Vector.FusedMultiplyAdd(p, z, new Vector<double>(1.0 / 13));
        p = Vector.FusedMultiplyAdd(p, z, new Vector<double>(1.0 / 11));
        p = Vector.FusedMultiplyAdd(p, z, new Vector<double>(1.0 / 9));
        p = Vector.FusedMultiplyAdd(p, z, new Vector<double>(1.0 / 7));
        p = Vector.FusedMultiplyAdd(p, z, new Vector<double>(1.0 / 5));
        p = Vector.FusedMultiplyAdd(p, z, new Vector<double>(1.0 / 3));
        p = Vector.FusedMultiplyAdd(p, z, new Vector<double>(1.0 / 1));
        return p;
    }
}
