using System;
using System.Numerics;
using SoftRound.Tf.Internals.Formulas;

namespace SoftRound.Tf.Kernels;

/// <summary>
/// ../shared/MATH.md §3 at y' = y − shift: x = m + clip(atanh(s)/α, −½, ½) + shift, m = ⌊y'⌋ + ½,
/// s = 2·(y' − m)·tanh(α/2); dx/dy = 2·tanh(α/2)/(α·(1 − s²)) (the clip only absorbs rounding; see
/// <see cref="SoftRoundInverseFormula"/>). shift = 0 is
/// soft_round_inverse, shift = ½ soft_round_conditional_mean. The identity (derivative 1) for α &lt; 1e−3; ±∞ → ±∞
/// with derivative 0.
/// </summary>
internal readonly struct SoftRoundInverseKernel : IRoundKernel
{
    private readonly bool identity;
    private readonly double alpha, twoT, shift;
    private readonly Vector<double> alphaV, twoTV, shiftV;

    /// <summary>Precomputes α clamped to ≥ 1e−3 and 2·tanh(α/2).</summary>
    public SoftRoundInverseKernel(double alpha, double shift)
    {
        identity = alpha < SoftRoundFormula.IdentityBelow;
        this.alpha = Math.Max(alpha, SoftRoundFormula.IdentityBelow);
        twoT = 2 * Elementary.Tanh(this.alpha / 2);
        this.shift = shift;
        alphaV = new Vector<double>(this.alpha);
        twoTV = new Vector<double>(twoT);
        shiftV = new Vector<double>(shift);
    }

    /// <inheritdoc />
    public double Value(double y)
    {
        double shifted = y - shift;
        if (identity || double.IsInfinity(y)) return shifted + shift;
        double m = Math.Floor(shifted) + 0.5;
        return m + Math.Clamp(Elementary.Atanh((shifted - m) * twoT) / alpha, -0.5, 0.5) + shift;
    }

    /// <inheritdoc />
    public Vector<double> Value(Vector<double> y)
    {
        Vector<double> shifted = y - shiftV;
        if (identity) return shifted + shiftV;
        Vector<double> m = Vector.Floor(shifted) + new Vector<double>(0.5);
        Vector<double> r = Vector.Clamp(Elementary.Atanh((shifted - m) * twoTV) / alphaV, new Vector<double>(-0.5), new Vector<double>(0.5));
        return Vector.ConditionalSelect(Vector.IsInfinity(y), y, m + r + shiftV);
    }

    /// <inheritdoc />
    public double Derivative(double y)
    {
        if (double.IsInfinity(y)) return 0;
        if (identity) return 1;
        double shifted = y - shift;
        double s = (shifted - Math.Floor(shifted) - 0.5) * twoT;
        return twoT / (alpha * (1 - s) * (1 + s));
    }

    /// <inheritdoc />
    public Vector<double> Derivative(Vector<double> y)
    {
        if (identity) return Vector.ConditionalSelect(Vector.IsInfinity(y), Vector<double>.Zero, Vector<double>.One);
        Vector<double> shifted = y - shiftV;
        Vector<double> s = (shifted - Vector.Floor(shifted) - new Vector<double>(0.5)) * twoTV;
        Vector<double> d = twoTV / (alphaV * (Vector<double>.One - s) * (Vector<double>.One + s));
        return Vector.ConditionalSelect(Vector.IsInfinity(y), Vector<double>.Zero, d);
    }
}
