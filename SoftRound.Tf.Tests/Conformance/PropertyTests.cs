using System;
using System.Linq;
using CsCheck;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Tests.Helpers;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Conformance;

/// <summary>
/// Properties over random inputs (CsCheck): 500 random cases each, every case a batch of 32 values. A failure reports
/// the case and the seed that reproduces it.
/// </summary>
[TestClass]
public sealed class PropertyTests
{
    private const int Cases = 500;

    private static readonly Gen<double[]> Xs = Gen.Double[-60, 60].Array[32];

    private static double[] Apply(Func<Tensor, Tensor> op, double[] xs)
    {
        using var scope = NewDisposeScope();
        return Reference.Values(op(tensor(xs, ScalarType.Float64)));
    }

    private static void Property(string name, Gen<(double[] xs, double alpha)> gen, Action<double[], double> check) =>
        ConformanceReport.Case("properties", () => gen.Sample(c => check(c.xs, c.alpha), iter: Cases, threads: 1));

    [TestMethod]
    public void SoftRound_IsMonotoneInX() =>
        Property("monotone", Gen.Select(Xs, Gen.Double[0, 50]), (xs, alpha) =>
        {
            double[] sorted = xs.OrderBy(v => v).ToArray();
            double[] y = Apply(x => SoftRoundOps.soft_round(x, alpha), sorted);
            for (int i = 1; i < y.Length; i++)
            {
                if (y[i] < y[i - 1]) throw new Exception($"α = {alpha:R}: soft_round({sorted[i - 1]:R}) = {y[i - 1]:R} > soft_round({sorted[i]:R}) = {y[i]:R}");
            }
        });

    [TestMethod]
    public void SoftRound_MovesNoValueByMoreThanHalf() =>
        Property("within ½", Gen.Select(Xs, Gen.Double[0, 1e4]), (xs, alpha) =>
        {
            double[] y = Apply(x => SoftRoundOps.soft_round(x, alpha), xs);
            for (int i = 0; i < y.Length; i++)
            {
                if (Math.Abs(y[i] - xs[i]) > 0.5 + 1e-12) throw new Exception($"α = {alpha:R}: |soft_round({xs[i]:R}) − x| = {Math.Abs(y[i] - xs[i]):R}");
            }
        });

    [TestMethod]
    public void SoftRoundInverse_UndoesSoftRound() =>
        Property("inverse", Gen.Select(Xs, Gen.Double[0, 12]), (xs, alpha) =>
        {
            double[] back = Apply(x => SoftRoundOps.soft_round_inverse(SoftRoundOps.soft_round(x, alpha), alpha), xs);
            for (int i = 0; i < xs.Length; i++)
            {
                // The inverse's slope is at most 1/(α·sech²-factor) near integers: allow for it.
                double tolerance = 1e-9 * Math.Max(1, Math.Abs(xs[i])) * Math.Exp(alpha);
                if (Math.Abs(back[i] - xs[i]) > tolerance) throw new Exception($"α = {alpha:R}: inverse(soft_round({xs[i]:R})) = {back[i]:R}");
            }
        });

    [TestMethod]
    public void SoftRound_TendsToIdentityAndToRound() =>
        Property("limits", Gen.Select(Xs, Gen.Double[0, 9.99e-4]), (xs, tiny) =>
        {
            double[] identity = Apply(x => SoftRoundOps.soft_round(x, tiny), xs);
            double[] steep = Apply(x => SoftRoundOps.soft_round(x, 1e4), xs);
            for (int i = 0; i < xs.Length; i++)
            {
                if (identity[i] != xs[i]) throw new Exception($"α = {tiny:R}: soft_round({xs[i]:R}) = {identity[i]:R}, not x");
                double r = xs[i] - Math.Floor(xs[i]);
                if (Math.Abs(r - 0.5) > 0.01 && Math.Abs(steep[i] - Math.Round(xs[i])) > 1e-3)
                {
                    throw new Exception($"α = 1e4: soft_round({xs[i]:R}) = {steep[i]:R}, not round(x)");
                }
            }
        });

    [TestMethod]
    public void DifferentiableRound_StaysWithinFloorAndFloorPlusOne() =>
        Property("bounds", Gen.Select(Xs, Gen.Double[1e-3, 200]), (xs, k) =>
        {
            double[] y = Apply(x => SoftRoundOps.differentiable_round(x, k), xs);
            for (int i = 0; i < xs.Length; i++)
            {
                double f = Math.Floor(xs[i]);
                if (y[i] < f || y[i] > f + 1) throw new Exception($"k = {k:R}: differentiable_round({xs[i]:R}) = {y[i]:R} outside [{f}, {f + 1}]");
            }
        });
}
