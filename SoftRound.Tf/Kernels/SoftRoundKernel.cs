using System;
using System.Numerics;
using SoftRound.Tf.Internals.Formulas;

namespace SoftRound.Tf.Kernels;

/// <summary>
/// ../shared/MATH.md §2: y = m + tanh(α·r)/D, m = ⌊x⌋ + ½, r = x − m, D = 2·tanh(α/2); dy/dx = α·sech²(α·r)/D.
/// The identity (derivative 1) for α &lt; 1e−3; ±∞ → ±∞ with derivative 0.
/// </summary>
internal readonly struct SoftRoundKernel : IRoundKernel
{
    private readonly bool identity;
    private readonly double alpha, inverseD;
    private readonly Vector<double> alphaV, inverseDV;

    /// <summary>Precomputes α clamped to ≥ 1e−3 and 1/D.</summary>
    public SoftRoundKernel(double alpha)
    {
        identity = alpha < SoftRoundFormula.IdentityBelow;
        this.alpha = Math.Max(alpha, SoftRoundFormula.IdentityBelow);
        inverseD = 1 / (2 * Elementary.Tanh(this.alpha / 2));
        alphaV = new Vector<double>(this.alpha);
        inverseDV = new Vector<double>(inverseD);
    }

    /// <inheritdoc />
    public double Value(double x)
    {
        if (identity || double.IsInfinity(x)) return x;
        double m = Math.Floor(x) + 0.5;
        return m + Elementary.Tanh(alpha * (x - m)) * inverseD;
    }

    /// <inheritdoc />
    public Vector<double> Value(Vector<double> x)
    {
        if (identity) return x;
        Vector<double> m = Vector.Floor(x) + new Vector<double>(0.5);
        Vector<double> y = m + Elementary.Tanh(alphaV * (x - m)) * inverseDV;
        return Vector.ConditionalSelect(Vector.IsInfinity(x), x, y);
    }

    /// <inheritdoc />
    public double Derivative(double x)
    {
        if (double.IsInfinity(x)) return 0;
        if (identity) return 1;
        return alpha * Elementary.Sech2(alpha * (x - Math.Floor(x) - 0.5)) * inverseD;
    }

    /// <inheritdoc />
    public Vector<double> Derivative(Vector<double> x)
    {
        Vector<double> d = identity
            ? Vector<double>.One
            : alphaV * Elementary.Sech2(alphaV * (x - Vector.Floor(x) - new Vector<double>(0.5))) * inverseDV;
        return Vector.ConditionalSelect(Vector.IsInfinity(x), Vector<double>.Zero, d);
    }
}
