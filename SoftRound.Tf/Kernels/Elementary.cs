using System;
using System.Numerics;

namespace SoftRound.Tf.Kernels;

/// <summary>
/// The functions the kernels are built from, each as a scalar reference (on <see cref="Math"/>) and a vector version
/// (on <see cref="Vector"/>'s Exp and Log), in double and in the stable forms of ../shared/MATH.md.
/// </summary>
/// <remarks>
/// expm1 and log1p use Kahan's forms, x·(eˣ − 1)/log(eˣ) and t·log(1 + t)/((1 + t) − 1): accurate to a few ulp
/// wherever exp and log are, with no series and no branch on |x| but for the ends of the range.
/// </remarks>
internal static class Elementary
{
    /// <summary>σ(z) = 1/(1 + e^(−z)), as e^(−|z|)/(1 + e^(−|z|)) for z &lt; 0.</summary>
    public static double Sigmoid(double z)
    {
        double e = Math.Exp(-Math.Abs(z));
        return z >= 0 ? 1 / (1 + e) : e / (1 + e);
    }

    /// <inheritdoc cref="Sigmoid(double)"/>
    public static Vector<double> Sigmoid(Vector<double> z)
    {
        Vector<double> e = Vector.Exp(-Vector.Abs(z));
        Vector<double> inverse = Vector<double>.One / (Vector<double>.One + e);
        return Vector.ConditionalSelect(Vector.GreaterThanOrEqual(z, Vector<double>.Zero), inverse, e * inverse);
    }

    /// <summary>σ(z)·σ(−z) = e^(−|z|)/(1 + e^(−|z|))².</summary>
    public static double SigmoidProduct(double z)
    {
        double e = Math.Exp(-Math.Abs(z));
        return e / ((1 + e) * (1 + e));
    }

    /// <inheritdoc cref="SigmoidProduct(double)"/>
    public static Vector<double> SigmoidProduct(Vector<double> z)
    {
        Vector<double> e = Vector.Exp(-Vector.Abs(z));
        Vector<double> onePlus = Vector<double>.One + e;
        return e / (onePlus * onePlus);
    }

    /// <summary>sech²(u) = 4·e^(−2|u|)/(1 + e^(−2|u|))².</summary>
    public static double Sech2(double u) => 4 * SigmoidProduct(2 * u);

    /// <inheritdoc cref="Sech2(double)"/>
    public static Vector<double> Sech2(Vector<double> u) => new Vector<double>(4) * SigmoidProduct(u + u);

    /// <summary>tanh(u) = −expm1(−2|u|)/(2 + expm1(−2|u|)), with u's sign.</summary>
    public static double Tanh(double u)
    {
        double m = Expm1(-2 * Math.Abs(u));
        return Math.CopySign(-m / (2 + m), u);
    }

    /// <inheritdoc cref="Tanh(double)"/>
    public static Vector<double> Tanh(Vector<double> u)
    {
        Vector<double> m = Expm1(new Vector<double>(-2) * Vector.Abs(u));
        return Vector.CopySign(-m / (new Vector<double>(2) + m), u);
    }

    /// <summary>atanh(s) = ½·log1p(2s/(1 − s)); ±∞ at s = ±1.</summary>
    public static double Atanh(double s) => 0.5 * Log1p(2 * s / (1 - s));

    /// <inheritdoc cref="Atanh(double)"/>
    public static Vector<double> Atanh(Vector<double> s) =>
        new Vector<double>(0.5) * Log1p(new Vector<double>(2) * s / (Vector<double>.One - s));

    /// <summary>eˣ − 1 for x ≤ 0 (Kahan): x where eˣ rounds to 1, −1 where it underflows.</summary>
    private static double Expm1(double x)
    {
        double u = Math.Exp(x);
        if (u == 1) return x;
        if (u == 0) return -1;
        return (u - 1) * x / Math.Log(u);
    }

    /// <inheritdoc cref="Expm1(double)"/>
    private static Vector<double> Expm1(Vector<double> x)
    {
        Vector<double> u = Vector.Exp(x);
        Vector<double> y = (u - Vector<double>.One) * x / Vector.Log(u);
        y = Vector.ConditionalSelect(Vector.Equals(u, Vector<double>.One), x, y);
        return Vector.ConditionalSelect(Vector.Equals(u, Vector<double>.Zero), -Vector<double>.One, y);
    }

    /// <summary>log(1 + t) (Kahan): t where 1 + t rounds to 1, +∞ at t = +∞.</summary>
    private static double Log1p(double t)
    {
        double u = 1 + t;
        if (u == 1) return t;
        if (double.IsPositiveInfinity(u)) return u;
        return Math.Log(u) * t / (u - 1);
    }

    /// <inheritdoc cref="Log1p(double)"/>
    private static Vector<double> Log1p(Vector<double> t)
    {
        Vector<double> u = Vector<double>.One + t;
        Vector<double> y = Vector.Log(u) * t / (u - Vector<double>.One);
        y = Vector.ConditionalSelect(Vector.Equals(u, Vector<double>.One), t, y);
        return Vector.ConditionalSelect(Vector.Equals(u, new Vector<double>(double.PositiveInfinity)), u, y);
    }
}
