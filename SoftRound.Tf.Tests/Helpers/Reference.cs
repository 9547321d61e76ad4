using System;
using System.Linq;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Helpers;

/// <summary>Independent scalar double-precision evaluations of docs/MATH.md, written from the formulas.</summary>
internal static class Reference
{
    public static double Sigmoid(double z) => z >= 0 ? 1 / (1 + Math.Exp(-z)) : Math.Exp(z) / (1 + Math.Exp(z));

    /// <summary>§1: y = ⌊x⌋ + σ(k·(x − ⌊x⌋ − ½)).</summary>
    public static double DifferentiableRound(double x, double k)
    {
        if (double.IsInfinity(x)) return x;
        double f = Math.Floor(x);
        return f + Sigmoid(k * (x - f - 0.5));
    }

    /// <summary>§1: dy/dx = k·σ(z)·σ(−z).</summary>
    public static double DifferentiableRoundDx(double x, double k)
    {
        if (double.IsInfinity(x)) return 0;
        double z = k * (x - Math.Floor(x) - 0.5);
        return k * Sigmoid(z) * Sigmoid(-z);
    }

    /// <summary>§2: y = m + tanh(α·(x − m)) / (2·tanh(α/2)), m = ⌊x⌋ + ½; the identity for α &lt; 1e−3.</summary>
    public static double SoftRound(double x, double alpha)
    {
        if (alpha < 1e-3 || double.IsInfinity(x)) return x;
        double m = Math.Floor(x) + 0.5;
        return m + Math.Tanh(alpha * (x - m)) / (2 * Math.Tanh(alpha / 2));
    }

    /// <summary>§2: dy/dx = α·sech²(α·r) / (2·tanh(α/2)), with sech(u) = 1/cosh(u).</summary>
    public static double SoftRoundDx(double x, double alpha)
    {
        if (double.IsInfinity(x)) return 0;
        if (alpha < 1e-3) return 1;
        double r = x - Math.Floor(x) - 0.5, c = Math.Cosh(alpha * r);
        return alpha / (c * c) / (2 * Math.Tanh(alpha / 2));
    }

    /// <summary>§2: dy/dα = (2·r·sech²(α·r)·tanh(α/2) − tanh(α·r)·sech²(α/2)) / (4·tanh²(α/2)), in double.</summary>
    public static double SoftRoundDalpha(double x, double alpha)
    {
        double r = x - Math.Floor(x) - 0.5, t = Math.Tanh(alpha / 2);
        double sech2ar = 1 / Math.Pow(Math.Cosh(alpha * r), 2), sech2half = 1 / Math.Pow(Math.Cosh(alpha / 2), 2);
        return (2 * r * sech2ar * t - Math.Tanh(alpha * r) * sech2half) / (4 * t * t);
    }

    /// <summary>§3: dx/dα = r·sech²(α/2) / (α·(1 − s²)) − atanh(s)/α², s = 2·r·tanh(α/2), in double (inside the clip).</summary>
    public static double SoftRoundInverseDalpha(double y, double alpha)
    {
        double r = y - Math.Floor(y) - 0.5, s = 2 * r * Math.Tanh(alpha / 2);
        return r / Math.Pow(Math.Cosh(alpha / 2), 2) / (alpha * (1 - s * s)) - Math.Atanh(s) / (alpha * alpha);
    }

    /// <summary>§3: x = m + clip(atanh(2·(y − m)·tanh(α/2))/α, −½, ½), m = ⌊y⌋ + ½; the identity for α &lt; 1e−3.</summary>
    public static double SoftRoundInverse(double y, double alpha)
    {
        if (alpha < 1e-3 || double.IsInfinity(y)) return y;
        double m = Math.Floor(y) + 0.5;
        double r = Math.Atanh(2 * (y - m) * Math.Tanh(alpha / 2)) / alpha;
        return m + Math.Clamp(r, -0.5, 0.5);
    }

    /// <summary>§3: dx/dy = 2·tanh(α/2) / (α·(1 − s²)), s = 2·(y − m)·tanh(α/2); 1 for α &lt; 1e−3.</summary>
    public static double SoftRoundInverseDy(double y, double alpha)
    {
        if (double.IsInfinity(y)) return 0;
        if (alpha < 1e-3) return 1;
        double t = Math.Tanh(alpha / 2), s = 2 * (y - Math.Floor(y) - 0.5) * t;
        return 2 * t / (alpha * (1 - s) * (1 + s));
    }

    /// <summary>§3: soft_round_inverse(y − ½, α) + ½.</summary>
    public static double SoftRoundConditionalMean(double y, double alpha) => SoftRoundInverse(y - 0.5, alpha) + 0.5;

    /// <summary>All entries of a tensor as doubles, in row-major order.</summary>
    public static double[] Values(Tensor t)
    {
        using Tensor d = t.detach().to(ScalarType.Float64).contiguous().cpu();
        return d.data<double>().ToArray();
    }
}
