using System.Numerics;
using System.Runtime.CompilerServices;
using static SoftRound.Tf.Kernels.VectorMath;

namespace SoftRound.Tf.Kernels;

/// <summary>docs/MATH.md §4: y = round(x − o) + o, half to even (round(x) when there is no offset); dy/dx = 1.</summary>
internal readonly struct RoundStKernel(double? offset) : IRoundKernel
{
    private readonly Splat o = new(offset ?? 0);
    private readonly bool hasOffset = offset is not null;

    /// <inheritdoc />
    public T Value<T>(T x) where T : unmanaged, IBinaryFloatingPointIeee754<T> => hasOffset ? T.Round(x - o.S<T>()) + o.S<T>() : T.Round(x);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector<T> Value<T>(Vector<T> x) where T : unmanaged, IBinaryFloatingPointIeee754<T> => hasOffset ? Round(x - o.V<T>()) + o.V<T>() : Round(x);

    /// <inheritdoc />
    public T Derivative<T>(T x) where T : unmanaged, IBinaryFloatingPointIeee754<T> => T.One;

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector<T> Derivative<T>(Vector<T> x) where T : unmanaged, IBinaryFloatingPointIeee754<T> => Vector<T>.One;
}
