using System;
using System.Numerics;

namespace SoftRound.Tf.Kernels;

/// <summary>../shared/MATH.md §4: y = round(x − o) + o, half to even (round(x) when there is no offset); dy/dx = 1.</summary>
internal readonly struct RoundStKernel(double? offset) : IRoundKernel
{
    private readonly Vector<double> offsetV = new(offset ?? 0);

    /// <inheritdoc />
    public double Value(double x) =>
        offset is { } o ? Math.Round(x - o, MidpointRounding.ToEven) + o : Math.Round(x, MidpointRounding.ToEven);

    /// <inheritdoc />
    public Vector<double> Value(Vector<double> x) => offset is null ? Vector.Round(x) : Vector.Round(x - offsetV) + offsetV;

    /// <inheritdoc />
    public double Derivative(double x) => 1;

    /// <inheritdoc />
    public Vector<double> Derivative(Vector<double> x) => Vector<double>.One;
}
