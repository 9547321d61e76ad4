using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Tests.Helpers;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Conformance;

/// <summary>
/// Exactness where the mathematics is exact, for α up to 50 in float32 and float64, on the fused kernel (α a number)
/// and the composite path (α a tensor of x's shape): integers are fixed points of soft_round and its inverse,
/// half-integers of the conditional mean, the inverse's derivative at integers is sinh(α)/α, and
/// soft_round_inverse(soft_round(x)) gives x back to within a few ulp wherever soft_round is well conditioned.
/// </summary>
[TestClass]
public sealed class BoundaryTests
{
    private static readonly double[] Alphas = { 0.5, 1, 5, 16, 30, 50 };
    private static readonly double[] Integers = { -100, -7, -3, -2, -1, 0, 1, 2, 3, 7, 100 };

    public static IEnumerable<object[]> Cases =>
        from dtype in new[] { ScalarType.Float32, ScalarType.Float64 } from kernel in new[] { true, false } select new object[] { dtype, kernel };

    private static Tensor Apply(Func<Tensor, Tensor, Tensor> op, Tensor x, double alpha, bool kernel) =>
        op(x, kernel ? tensor(alpha, x.dtype) : full(x.shape, alpha, x.dtype));

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void Integers_AreFixedPoints_AndTheInversesDerivativeThereIsSinhOverAlpha(ScalarType dtype, bool kernel)
    {
        foreach (double alpha in Alphas)
        {
            using var scope = NewDisposeScope();
            Tensor n = tensor(Integers, dtype).requires_grad_(true);
            TensorAssert.Identical(n.detach(), Apply(SoftRoundOps.soft_round, n.detach(), alpha, kernel));
            TensorAssert.Identical(n.detach() + 0.5, Apply(SoftRoundOps.soft_round_conditional_mean, n.detach() + 0.5, alpha, kernel));
            Tensor x = Apply(SoftRoundOps.soft_round_inverse, n, alpha, kernel);
            TensorAssert.Identical(n.detach(), x.detach());
            x.sum().backward();
            double exact = dtype == ScalarType.Float32 ? (double)(float)(Math.Sinh((float)alpha) / (float)alpha) : Math.Sinh(alpha) / alpha;
            foreach (double d in Reference.Values(n.grad!))
            {
                Assert.IsTrue(Ulps(d, exact, dtype) <= 4, $"{dtype} α = {alpha}: dx/dy = {d:R}, sinh(α)/α = {exact:R}");
            }
        }
    }

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void InverseOfSoftRound_GivesXBack_WhereSoftRoundIsWellConditioned(ScalarType dtype, bool kernel)
    {
        using var generator = new Generator(42);
        foreach (double alpha in Alphas)
        {
            using var scope = NewDisposeScope();
            // Points in (−½, ½), where y keeps full relative precision, and around other integers.
            Tensor centred = rand(2000, ScalarType.Float64, generator: generator) - 0.5;
            Tensor shifted = centred + randint(-5, 6, 2000, ScalarType.Float64, generator: generator);
            foreach (Tensor x64 in new[] { centred, shifted })
            {
                Tensor x = x64.to(dtype);
                Tensor y = Apply(SoftRoundOps.soft_round, x, alpha, kernel);
                Tensor back = Apply(SoftRoundOps.soft_round_inverse, y, alpha, kernel);
                Tensor slope = Apply(SoftRoundOps.soft_round_inverse, y.requires_grad_(true), alpha, kernel);
                slope.sum().backward();
                double[] xs = Reference.Values(x), ys = Reference.Values(y.detach()), bs = Reference.Values(back), dxdy = Reference.Values(y.grad!);
                for (int i = 0; i < xs.Length; i++)
                {
                    // The rounding of y itself, half an ulp, comes back multiplied by dx/dy: the conditioning.
                    double allowed = 8 * Ulp(xs[i], dtype) + Ulp(ys[i], dtype) * dxdy[i];
                    Assert.IsTrue(Math.Abs(bs[i] - xs[i]) <= allowed,
                        $"{dtype} α = {alpha}: x = {xs[i]:R}, y = {ys[i]:R}, back {bs[i]:R} ({Math.Abs(bs[i] - xs[i]) / Ulp(xs[i], dtype):F1} ulp)");
                    // Where n = 0 the conditioning is 1: a few ulp, whatever α.
                    if (Math.Abs(xs[i]) < 0.5 && Math.Abs(ys[i]) > 1e-30)
                    {
                        Assert.IsTrue(Ulps(bs[i], xs[i], dtype) <= 8, $"{dtype} α = {alpha}: x = {xs[i]:R}, back {bs[i]:R}");
                    }
                }
            }
        }
    }

    [TestMethod]
    [DataRow(ScalarType.Float32)]
    [DataRow(ScalarType.Float64)]
    public void TheCasesThePortFound(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        // soft_round_inverse at α = 16: integers map to themselves, and the round trip of 0.2 comes back.
        Tensor y = tensor(new[] { 0.0, 1.0, -3.0 }, dtype);
        TensorAssert.Identical(y, SoftRoundOps.soft_round_inverse(y, 16.0));
        Tensor x = tensor(0.2, dtype);
        double back = SoftRoundOps.soft_round_inverse(SoftRoundOps.soft_round(x, 16.0), 16.0).to(ScalarType.Float64).item<double>();
        double x0 = x.to(ScalarType.Float64).item<double>();
        Assert.IsTrue(Ulps(back, x0, dtype) <= 4, $"round trip of 0.2: {back:R}");
        // differentiable_round in (−1, 0): (⌊x⌋ + 1) − σ(−z) does not cancel (exact values to 20 digits, from mpmath).
        double[] got = Reference.Values(SoftRoundOps.differentiable_round(tensor(new[] { -0.03, -0.16 }, dtype), tensor(new[] { 10.0, 50.0 }, dtype)));
        double[] exact = dtype == ScalarType.Float32
            ? new[] { -0.0090132985929537011147, -4.1399368071159067198e-8 }
            : new[] { -0.0090132986528478244189, -4.1399375473943312904e-8 };
        for (int i = 0; i < 2; i++) Assert.IsTrue(Ulps(got[i], exact[i], dtype) <= 2, $"{got[i]:R} vs {exact[i]:R}");
    }

    private static double Ulp(double v, ScalarType dtype) => dtype == ScalarType.Float32
        ? MathF.BitIncrement(MathF.Abs((float)v)) - (double)MathF.Abs((float)v)
        : Math.BitIncrement(Math.Abs(v)) - Math.Abs(v);

    private static double Ulps(double actual, double exact, ScalarType dtype) => actual == exact ? 0 : Math.Abs(actual - exact) / Ulp(exact, dtype);
}
