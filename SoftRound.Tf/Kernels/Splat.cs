using System.Numerics;
using System.Runtime.CompilerServices;

namespace SoftRound.Tf.Kernels;

/// <summary>
/// A kernel parameter held in both float and double, so that a vector of it is one broadcast from memory: converting
/// a double field to float inside a loop would write half a register and chain every iteration to the last.
/// </summary>
internal readonly struct Splat(double value)
{
    private readonly float single = (float)value;

    /// <summary>The value in T.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T S<T>() where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        typeof(T) == typeof(float) ? (T)(object)single : (T)(object)value;

    /// <summary>The value in every lane, in T.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector<T> V<T>() where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        typeof(T) == typeof(float) ? new Vector<float>(single).As<float, T>() : new Vector<double>(value).As<double, T>();
}
