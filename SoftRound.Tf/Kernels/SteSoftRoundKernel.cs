using System.Numerics;
using System.Runtime.CompilerServices;

namespace SoftRound.Tf.Kernels;

/// <summary>docs/MATH.md §4: y = round(x), half to even; dy/dx is soft_round's.</summary>
internal readonly struct SteSoftRoundKernel(double alpha) : IRoundKernel
{
    private readonly SoftRoundKernel softRound = new(alpha);

    /// <inheritdoc />
    public T Value<T>(T x) where T : unmanaged, IBinaryFloatingPointIeee754<T> => T.Round(x);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector<T> Value<T>(Vector<T> x) where T : unmanaged, IBinaryFloatingPointIeee754<T> => VectorMath.Round(x);

    /// <inheritdoc />
    public T Derivative<T>(T x) where T : unmanaged, IBinaryFloatingPointIeee754<T> => softRound.Derivative(x);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector<T> Derivative<T>(Vector<T> x) where T : unmanaged, IBinaryFloatingPointIeee754<T> => softRound.Derivative(x);
}
