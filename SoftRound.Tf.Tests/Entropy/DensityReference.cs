using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using SoftRound.Tf.Entropy;
using SoftRound.Tf.Tests.Helpers;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Entropy;

/// <summary>The rows of Reference/density-reference.csv (60-digit mpmath values of the densities; see its README).</summary>
internal static class DensityReference
{
    public sealed record Row(string Kind, string Density, double Loc, double Scale, double Input, double Cdf, double LogCdf,
        double LogSurvival, double LogProb, double Mass, double LogMass, double Quantile);

    public static readonly IReadOnlyList<Row> Rows = File.ReadAllLines(Path.Combine(Repository.Root, "SoftRound.Tf.Tests", "Reference", "density-reference.csv"))
        .Skip(1)
        .Select(line => line.Split(','))
        .Select(f => new Row(f[0], f[1], D(f[2]), D(f[3]), D(f[4]), D(f[5]), D(f[6]), D(f[7]), D(f[8]), D(f[9]), D(f[10]), D(f[11])))
        .ToArray();

    private static double D(string s) => s.Length == 0 ? double.NaN : double.Parse(s, CultureInfo.InvariantCulture);

    public static LocationScaleDensity Create(string density, double loc, double scale, ScalarType dtype)
    {
        Tensor l = tensor(loc, dtype), s = tensor(scale, dtype);
        return density switch
        {
            "logistic" => new LogisticDensity(l, s),
            "normal" => new NormalDensity(l, s),
            "laplace" => new LaplaceDensity(l, s),
            _ => throw new ArgumentOutOfRangeException(nameof(density), density, "unknown density"),
        };
    }
}
