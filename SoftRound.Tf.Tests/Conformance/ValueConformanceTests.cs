using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Tests.Helpers;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Conformance;

/// <summary>
/// Every op at the values of docs/MATH.md §5 and around the rounding points, in float32 and float64: values and
/// gradients against the double references, and the special-value rules.
/// </summary>
[TestClass]
public sealed class ValueConformanceTests
{
    private static IEnumerable<double> Values(ScalarType dtype)
    {
        double[] signed = { 0.001, 0.25, 0.5, 1, 1.5, 2.5, 501, 1e20 };
        foreach (double v in signed)
        {
            yield return v;
            yield return -v;
        }
        yield return 0;
        yield return -0.0;
        yield return double.PositiveInfinity;
        yield return double.NegativeInfinity;
        yield return double.NaN;
        if (dtype == ScalarType.Float32)
        {
            yield return 1e-40;
            yield return -1e-40;
            yield return 8388608.0;
            yield return 16777216.0;
        }
        else
        {
            yield return 1e-310;
            yield return -1e-310;
            yield return 4503599627370496.0;
            yield return 9007199254740992.0;
        }
    }

    public static IEnumerable<object[]> Cases =>
        from op in OpCase.All
        from dtype in new[] { ScalarType.Float32, ScalarType.Float64 }
        select new object[] { op.Name, dtype };

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void ValuesAndGradients_FollowTheReferencesAndTheSpecialValueRules(string name, ScalarType dtype)
    {
        OpCase op = OpCase.Named(name);
        double[] values = Values(dtype).ToArray();
        using var scope = NewDisposeScope();
        Tensor x = tensor(values, dtype).requires_grad_(true);
        Tensor y = op.Apply(x);
        y.sum().backward();
        double[] xs = Reference.Values(x), ys = Reference.Values(y), gs = Reference.Values(x.grad!);
        bool float32 = dtype == ScalarType.Float32;
        double eps = float32 ? 6e-8 : 1.2e-16, huge = float32 ? 8388608.0 : 4503599627370496.0;
        for (int i = 0; i < xs.Length; i++)
        {
            double v = xs[i], yv = ys[i], g = gs[i];
            ConformanceReport.Case("values", () =>
            {
                string at = $"{name} {dtype} at x = {v:R}: y = {yv:R}, dy/dx = {g:R}";
                if (double.IsNaN(v))
                {
                    Assert.IsTrue(double.IsNaN(yv), at);
                    Assert.IsTrue(op.PassesSpecialGradients ? g == 1 : double.IsNaN(g), at);
                    return;
                }
                if (double.IsInfinity(v))
                {
                    Assert.AreEqual(v, yv, at);
                    Assert.AreEqual(op.PassesSpecialGradients ? 1.0 : 0.0, g, at);
                    return;
                }
                Assert.IsTrue(double.IsFinite(yv) && double.IsFinite(g), at);
                double scale = Math.Max(1, Math.Abs(v));
                Assert.IsLessThanOrEqualTo(8 * eps * scale, Math.Abs(yv - op.Value(v)), $"{at}, reference {op.Value(v):R}");
                // Beyond 2^23 (float32) or 2^52 (float64) x ± ½ is not representable, so only "no NaN" is asked there.
                if (Math.Abs(v) < huge)
                {
                    double expected = op.Derivative(v);
                    Assert.IsLessThanOrEqualTo((float32 ? 1e-5 : 1e-11) * Math.Max(1, Math.Abs(expected)), Math.Abs(g - expected), $"{at}, reference {expected:R}");
                }
            });
        }
    }
}
