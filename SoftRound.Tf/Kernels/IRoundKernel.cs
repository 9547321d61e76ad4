using System.Numerics;

namespace SoftRound.Tf.Kernels;

/// <summary>
/// An element-wise op as a kernel: its value and its derivative dy/dx, each as a scalar reference and a vector path, in
/// float or double. Parameters (k, α, an offset) are fields set once in the constructor, with derived constants
/// precomputed.
/// </summary>
internal interface IRoundKernel
{
    /// <summary>y(x), the scalar reference.</summary>
    T Value<T>(T x) where T : unmanaged, IBinaryFloatingPointIeee754<T>;

    /// <summary>y(x) lane by lane.</summary>
    Vector<T> Value<T>(Vector<T> x) where T : unmanaged, IBinaryFloatingPointIeee754<T>;

    /// <summary>dy/dx at x, the scalar reference.</summary>
    T Derivative<T>(T x) where T : unmanaged, IBinaryFloatingPointIeee754<T>;

    /// <summary>dy/dx lane by lane.</summary>
    Vector<T> Derivative<T>(Vector<T> x) where T : unmanaged, IBinaryFloatingPointIeee754<T>;
}
