using System;
using System.Linq;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Helpers;

/// <summary>Independent scalar double-precision evaluations of ../shared/MATH.md, written from the formulas.</summary>
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

    /// <summary>All entries of a tensor as doubles, in row-major order.</summary>
    public static double[] Values(Tensor t)
    {
        using Tensor d = t.detach().to(ScalarType.Float64).contiguous().cpu();
        return d.data<double>().ToArray();
    }
}
