using System.Numerics;

namespace SoftRound.Tf.Kernels;

/// <summary>
/// An element-wise op as a kernel: its value and its derivative dy/dx, each as a scalar reference and a vector path, in
/// double. Parameters (k, α, an offset) are fields set once in the constructor, with derived constants precomputed.
/// </summary>
internal interface IRoundKernel
{
    /// <summary>y(x), the scalar reference.</summary>
    double Value(double x);

    /// <summary>y(x) lane by lane.</summary>
    Vector<double> Value(Vector<double> x);

    /// <summary>dy/dx at x, the scalar reference.</summary>
    double Derivative(double x);

    /// <summary>dy/dx lane by lane.</summary>
    Vector<double> Derivative(Vector<double> x);
}
