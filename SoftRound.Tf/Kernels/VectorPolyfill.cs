#if !NET9_0_OR_GREATER
using System;
using System.Numerics;

namespace SoftRound.Tf.Kernels;

/// <summary>
/// The <see cref="Vector"/> members the kernels use that .NET 8 lacks (they arrived in .NET 9), for the net8.0 build,
/// with the same results: comparisons and bit operations where they vectorise, lane by lane otherwise (the fused
/// multiply-add, which is therefore slower there; the net10.0 build uses the runtime's).
/// </summary>
internal static class VectorPolyfill
{
    extension(Vector)
    {
        /// <summary>a·b + c with one rounding, lane by lane.</summary>
        public static Vector<T> FusedMultiplyAdd<T>(Vector<T> a, Vector<T> b, Vector<T> c) where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            Span<T> result = stackalloc T[Vector<T>.Count];
            for (int i = 0; i < result.Length; i++) result[i] = T.FusedMultiplyAdd(a[i], b[i], c[i]);
            return new Vector<T>(result);
        }

        /// <summary>max(a, b) as x86's maxps: b where either is NaN.</summary>
        public static Vector<T> MaxNative<T>(Vector<T> a, Vector<T> b) where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
            Vector.ConditionalSelect(Vector.GreaterThan(a, b), a, b);

        /// <summary>min(a, b) as x86's minps: b where either is NaN.</summary>
        public static Vector<T> MinNative<T>(Vector<T> a, Vector<T> b) where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
            Vector.ConditionalSelect(Vector.LessThan(a, b), a, b);

        /// <summary>All bits set in lanes that are ±∞.</summary>
        public static Vector<T> IsInfinity<T>(Vector<T> v) where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
            Vector.Equals(Vector.Abs(v), new Vector<T>(T.PositiveInfinity));

        /// <summary>All bits set in lanes that are NaN.</summary>
        public static Vector<T> IsNaN<T>(Vector<T> v) where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
            Vector.OnesComplement(Vector.Equals(v, v));

        /// <summary>|v| with the sign of <paramref name="sign"/>.</summary>
        public static Vector<T> CopySign<T>(Vector<T> v, Vector<T> sign) where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
            Vector.ConditionalSelect(new Vector<T>(T.NegativeZero), sign, v);

        /// <summary>
        /// v rounded to the nearest integer, half to even: (v + c) − c with c = ±2^(p−1) rounds in the default mode where
        /// |v| &lt; 2^(p−1), p the significand's bits; larger values are integers already. The sign is v's (−0.3 → −0).
        /// </summary>
        public static Vector<T> Round<T>(Vector<T> v) where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            var limit = new Vector<T>(T.CreateTruncating(typeof(T) == typeof(float) ? 8388608.0 : 4503599627370496.0));
            Vector<T> c = CopySign(limit, v);
            Vector<T> rounded = CopySign((v + c) - c, v);
            return Vector.ConditionalSelect(Vector.LessThan(Vector.Abs(v), limit), rounded, v);
        }
    }
}
#endif
