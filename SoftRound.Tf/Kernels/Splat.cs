using System;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace SoftRound.Tf.Kernels;

/// <summary>
/// A kernel parameter held in both float and double, so that a vector of it is one broadcast from memory: converting
/// a double field to float inside a loop would write half a register and chain every iteration to the last.
/// </summary>
internal readonly struct Splat
{
    private readonly float single;
    private readonly double value;

    /// <summary>The value, in float and double.</summary>
    public Splat(double value)
    {
        this.value = value;
        single = (float)value;
    }

    private Splat(float single, double value)
    {
        this.single = single;
        this.value = value;
    }

    /// <summary>
    /// value·2^(−σ) in each dtype, σ = <see cref="VectorMath.ScaleExponent{T}"/> of that dtype: the factor that
    /// multiplies a result of <see cref="Elementary.ExpCentredScaled{T}(T, T)"/> back to scale.
    /// </summary>
    public static Splat Unscaled(double value) =>
        new((float)(value * Math.ScaleB(1.0, -VectorMath.ScaleExponent<float>())), value * Math.ScaleB(1.0, -VectorMath.ScaleExponent<double>()));

    /// <summary>The value in T.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T S<T>() where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        typeof(T) == typeof(float) ? (T)(object)single : (T)(object)value;

    /// <summary>The value in every lane, in T.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector<T> V<T>() where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        typeof(T) == typeof(float) ? new Vector<float>(single).As<float, T>() : new Vector<double>(value).As<double, T>();
}
