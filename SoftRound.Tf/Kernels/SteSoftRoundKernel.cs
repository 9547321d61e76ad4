using System;
using System.Numerics;

namespace SoftRound.Tf.Kernels;

/// <summary>../shared/MATH.md §4: y = round(x), half to even; dy/dx is soft_round's.</summary>
internal readonly struct SteSoftRoundKernel(double alpha) : IRoundKernel
{
    private readonly SoftRoundKernel softRound = new(alpha);

    /// <inheritdoc />
    public double Value(double x) => Math.Round(x, MidpointRounding.ToEven);

    /// <inheritdoc />
    public Vector<double> Value(Vector<double> x) => Vector.Round(x);

    /// <inheritdoc />
    public double Derivative(double x) => softRound.Derivative(x);

    /// <inheritdoc />
    public Vector<double> Derivative(Vector<double> x) => softRound.Derivative(x);
}
