using System;
using System.Numerics;

namespace SoftRound.Tf.Kernels;

/// <summary>
/// ../shared/MATH.md §1: y = ⌊x⌋ + σ(k·r), r = x − ⌊x⌋ − ½; dy/dx = k·σ(k·r)·σ(−k·r); ±∞ → ±∞ with derivative 0.
/// </summary>
internal readonly struct DifferentiableRoundKernel(double k) : IRoundKernel
{
    private readonly Vector<double> kv = new(k);

    /// <inheritdoc />
    public double Value(double x)
    {
        if (double.IsInfinity(x)) return x;
        double f = Math.Floor(x);
        return f + Elementary.Sigmoid(k * (x - f - 0.5));
    }

    /// <inheritdoc />
    public Vector<double> Value(Vector<double> x)
    {
        Vector<double> f = Vector.Floor(x);
        Vector<double> y = f + Elementary.Sigmoid(kv * (x - f - new Vector<double>(0.5)));
        return Vector.ConditionalSelect(Vector.IsInfinity(x), x, y);
    }

    /// <inheritdoc />
    public double Derivative(double x) =>
        double.IsInfinity(x) ? 0 : k * Elementary.SigmoidProduct(k * (x - Math.Floor(x) - 0.5));

    /// <inheritdoc />
    public Vector<double> Derivative(Vector<double> x)
    {
        Vector<double> d = kv * Elementary.SigmoidProduct(kv * (x - Vector.Floor(x) - new Vector<double>(0.5)));
        return Vector.ConditionalSelect(Vector.IsInfinity(x), Vector<double>.Zero, d);
    }
}
