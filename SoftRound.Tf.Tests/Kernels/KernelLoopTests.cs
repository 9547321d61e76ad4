using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Internals;
using SoftRound.Tf.Internals.Formulas;
using SoftRound.Tf.Kernels;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Kernels;

/// <summary>
/// Every kernel's vector path against its scalar reference, across lengths, lanes, thread splits and the special
/// values; and every fused kernel against the composite torch path it replaces.
/// </summary>
[TestClass]
public sealed class KernelLoopTests
{
    /// <summary>A kernel as the tests see it: the fused loops and the scalar reference.</summary>
    internal sealed record Case(string Name, IRoundKernel Reference, Func<Tensor, Tensor> Forward, Func<Tensor, Tensor, Tensor> Backward);

    private static readonly Case[] Cases =
    {
        Make("differentiable_round k=10", new DifferentiableRoundKernel(10)),
        Make("differentiable_round k=100", new DifferentiableRoundKernel(100)),
        Make("soft_round α=5", new SoftRoundKernel(5)),
        Make("soft_round α=0.01", new SoftRoundKernel(0.01)),
        Make("soft_round α=0", new SoftRoundKernel(0)),
        Make("soft_round α=200", new SoftRoundKernel(200)),
        Make("soft_round_inverse α=5", new SoftRoundInverseKernel(5, conditionalMean: false)),
        Make("soft_round_inverse α=40", new SoftRoundInverseKernel(40, conditionalMean: false)),
        Make("soft_round_inverse α=95 (float's huge-α form, e^(−α) a float subnormal)", new SoftRoundInverseKernel(95, conditionalMean: false)),
        Make("soft_round_inverse α=150 (float's huge-α form)", new SoftRoundInverseKernel(150, conditionalMean: false)),
        Make("soft_round_inverse α=1000 (both huge-α forms)", new SoftRoundInverseKernel(1000, conditionalMean: false)),
        Make("soft_round_conditional_mean α=3", new SoftRoundInverseKernel(3, conditionalMean: true)),
        Make("soft_round_conditional_mean α=150", new SoftRoundInverseKernel(150, conditionalMean: true)),
        Make("ste_soft_round α=4", new SteSoftRoundKernel(4)),
        Make("round_st", new RoundStKernel(null)),
        Make("round_st offset", new RoundStKernel(0.25)),
    };

    private static Case Make<TKernel>(string name, TKernel kernel) where TKernel : struct, IRoundKernel =>
        new(name, kernel, x => KernelLoop.Forward(kernel, x), (x, g) => KernelLoop.Backward(kernel, x, g));

    public static IEnumerable<object[]> CaseIndices => Enumerable.Range(0, Cases.Length).Select(i => new object[] { i, Cases[i].Name });

    /// <summary>
    /// The bounds, in ulp of the dtype. The vector path's exp and log (<see cref="VectorMath"/>) are within 1 ulp of
    /// the runtime's scalar ones, which the scalar reference uses, and the formulas compose them: over 10⁶ random
    /// points per kernel and dtype the largest gaps were 4 ulp for values (soft_round) and 5 for derivatives
    /// (σ(z)·σ(−z) and sech², which square a sum with e^(−|z|)).
    /// </summary>
    private const double MaxUlpValue = 4, MaxUlpDerivative = 6;

    /// <summary>
    /// |a − b| in ulp of <paramref name="scale"/> in the dtype; NaN matches only NaN, and ±∞ only itself. Values are
    /// measured against the larger of the result and the input, since y = m + (a term) carries the absolute error of
    /// that sum; derivatives, which are products, against themselves.
    /// </summary>
    private static double UlpDistance(double a, double b, double scale, ScalarType dtype)
    {
        if (double.IsNaN(a) || double.IsNaN(b)) return double.IsNaN(a) && double.IsNaN(b) ? 0 : double.PositiveInfinity;
        if (a == b) return 0;
        // Results below the smallest normal number count as equal: there the ulp is the subnormal spacing, far below any use.
        double smallestNormal = dtype == ScalarType.Float32 ? 1.17549435E-38 : 2.2250738585072014E-308;
        if (Math.Abs(a) < smallestNormal && Math.Abs(b) < smallestNormal) return 0;
        if (double.IsInfinity(a) || double.IsInfinity(b)) return double.PositiveInfinity;
        double s = Math.Max(Math.Max(Math.Abs(a), Math.Abs(b)), scale);
        double ulp = dtype == ScalarType.Float32 ? MathF.BitIncrement((float)s) - (float)s : Math.BitIncrement(s) - s;
        return Math.Abs(a - b) / ulp;
    }

    private static (double value, double derivative) ScalarReference(IRoundKernel kernel, double x, double grad, ScalarType dtype) =>
        dtype == ScalarType.Float32
            ? (kernel.Value((float)x), (float)grad * kernel.Derivative((float)x))
            : (kernel.Value(x), grad * kernel.Derivative(x));

    private static void AssertMatchesReference(Case c, Tensor x, Tensor grad, ScalarType dtype, string context)
    {
        using var scope = NewDisposeScope();
        double[] xs = Reference.Values(x), gs = Reference.Values(grad);
        double[] y = Reference.Values(c.Forward(x)), dx = Reference.Values(c.Backward(x, grad));
        for (int i = 0; i < xs.Length; i++)
        {
            (double ey, double edx) = ScalarReference(c.Reference, xs[i], gs[i], dtype);
            double scale = double.IsFinite(xs[i]) ? Math.Max(Math.Abs(xs[i]), 0.5) : 0;
            double uy = UlpDistance(ey, y[i], scale, dtype), udx = UlpDistance(edx, dx[i], 0, dtype);
            if (uy > MaxUlpValue || udx > MaxUlpDerivative)
            {
                Assert.Fail($"{c.Name} {dtype} {context} index {i}, x = {xs[i]:R}: y {y[i]:R} vs {ey:R} ({uy} ulp), dx {dx[i]:R} vs {edx:R} ({udx} ulp)");
            }
        }
    }

    private static Tensor Inputs(int n, ScalarType dtype, Generator generator)
    {
        // Mostly moderate values, some near integers and half-integers, some large.
        Tensor x = (rand(n, ScalarType.Float64, generator: generator) - 0.5) * 12;
        Tensor near = (x * 2).round() / 2 + (rand(n, ScalarType.Float64, generator: generator) - 0.5) * 1e-6;
        Tensor pick = rand(n, ScalarType.Float64, generator: generator);
        x = where(pick.lt(0.2), near, x);
        x = where(pick.gt(0.95), x * 1e5, x);
        return x.to(dtype);
    }

    [TestMethod]
    [DynamicData(nameof(CaseIndices))]
    public void VectorPath_MatchesScalarReference_ForEveryLength(int index, string name)
    {
        Case c = Cases[index];
        using var generator = new Generator(17);
        foreach (ScalarType dtype in new[] { ScalarType.Float32, ScalarType.Float64 })
        {
            for (int n = 0; n <= 300; n++)
            {
                using var scope = NewDisposeScope();
                Tensor x = Inputs(n, dtype, generator);
                Tensor grad = rand(n, dtype, generator: generator) + 0.5;
                AssertMatchesReference(c, x, grad, dtype, $"n = {n}");
            }
        }
    }

    [TestMethod]
    [DynamicData(nameof(CaseIndices))]
    public void SpecialValues_AtEveryLane_MatchScalarReference(int index, string name)
    {
        Case c = Cases[index];
        int n = 3 * KernelLoop.Step + 3;
        foreach (ScalarType dtype in new[] { ScalarType.Float32, ScalarType.Float64 })
        {
            double huge = dtype == ScalarType.Float32 ? 16777216.0 : 9007199254740992.0;
            // tiny: an offset from an integer far inside the near-integer branch of the inverse's huge-α forms.
            double tiny = dtype == ScalarType.Float32 ? 1e-35 : 1e-230;
            foreach (double special in new[] { double.PositiveInfinity, double.NegativeInfinity, double.NaN, -0.0, huge, -huge, 0.5, -1.0, tiny, -tiny })
            {
                for (int lane = 0; lane < n; lane++)
                {
                    using var scope = NewDisposeScope();
                    double[] values = Enumerable.Range(0, n).Select(i => 0.37 * i - 5.1).ToArray();
                    values[lane] = special;
                    Tensor x = tensor(values, dtype);
                    AssertMatchesReference(c, x, ones_like(x), dtype, $"special {special} at lane {lane}");
                }
            }
        }
    }

    [TestMethod]
    [DynamicData(nameof(CaseIndices))]
    public void ThreadSplits_GiveIdenticalResults(int index, string name)
    {
        Case c = Cases[index];
        int saved = get_num_threads();
        try
        {
            using var generator = new Generator(5);
            foreach (ScalarType dtype in new[] { ScalarType.Float32, ScalarType.Float64 })
            {
                using var scope = NewDisposeScope();
                int n = KernelLoop.MinParallelLength + 3 * KernelLoop.ChunkLength + 2 * KernelLoop.Step + 5;
                Tensor x = Inputs(n, dtype, generator);
                Tensor grad = rand(n, dtype, generator: generator);
                set_num_threads(1);
                Tensor y1 = c.Forward(x), d1 = c.Backward(x, grad);
                set_num_threads(3);
                Tensor yn = c.Forward(x), dn = c.Backward(x, grad);
                TensorAssert.Identical(y1, yn);
                TensorAssert.Identical(d1, dn);
                // Around the chunk boundaries.
                long start = KernelLoop.ChunkLength - 2 * KernelLoop.Step;
                Tensor window = x[TensorIndex.Slice(start, start + 4 * KernelLoop.Step)];
                Tensor windowGrad = grad[TensorIndex.Slice(start, start + 4 * KernelLoop.Step)];
                AssertMatchesReference(c, window, windowGrad, dtype, "around a chunk boundary");
            }
        }
        finally
        {
            set_num_threads(saved);
        }
    }

    [TestMethod]
    [DynamicData(nameof(CaseIndices))]
    public void UniformGradient_IsNotCopied_AndMatchesTheMaterialisedOne(int index, string name)
    {
        Case c = Cases[index];
        using var scope = NewDisposeScope();
        Tensor x = Inputs(1000, ScalarType.Float32, new Generator(9)).reshape(10, 100);
        Tensor uniform = tensor(0.75f).expand(10, 100);
        TensorAssert.Identical(c.Backward(x, uniform.contiguous()), c.Backward(x, uniform));
    }

    public static IEnumerable<object[]> Formulas => new[]
    {
        new object[] { "differentiable_round", 7.0 },
        new object[] { "soft_round", 3.0 },
        new object[] { "soft_round", 0.0 },
        new object[] { "soft_round_inverse", 4.0 },
        new object[] { "soft_round_conditional_mean", 4.0 },
        new object[] { "ste_soft_round", 2.0 },
    };

    private static (Tensor value, Tensor gradient) Composite(string op, Tensor x, Tensor a, Tensor grad) => op switch
    {
        "differentiable_round" => CompositeOf<DifferentiableRoundFormula>(x, a, grad),
        "soft_round" => CompositeOf<SoftRoundFormula>(x, a, grad),
        "soft_round_inverse" => CompositeOf<SoftRoundInverseFormula>(x, a, grad),
        "soft_round_conditional_mean" => CompositeOf<SoftRoundConditionalMeanFormula>(x, a, grad),
        _ => CompositeOf<SteSoftRoundFormula>(x, a, grad),
    };

    private static (Tensor value, Tensor gradient) Fused(string op, Tensor x, double a, Tensor grad) => op switch
    {
        "differentiable_round" => FusedOf<DifferentiableRoundFormula>(x, a, grad),
        "soft_round" => FusedOf<SoftRoundFormula>(x, a, grad),
        "soft_round_inverse" => FusedOf<SoftRoundInverseFormula>(x, a, grad),
        "soft_round_conditional_mean" => FusedOf<SoftRoundConditionalMeanFormula>(x, a, grad),
        _ => FusedOf<SteSoftRoundFormula>(x, a, grad),
    };

    private static (Tensor, Tensor) CompositeOf<TFormula>(Tensor x, Tensor a, Tensor grad) where TFormula : IElementwiseFormula =>
        (TFormula.Value(x, a), grad * TFormula.Partials(x, a, needX: true, needA: false).dx!);

    private static (Tensor, Tensor) FusedOf<TFormula>(Tensor x, double a, Tensor grad) where TFormula : IElementwiseFormula =>
        (TFormula.KernelValue(x, a), TFormula.KernelGradient(x, a, grad));

    [TestMethod]
    [DynamicData(nameof(Formulas))]
    public void FusedKernel_MatchesTheCompositePath(string op, double alpha)
    {
        using var scope = NewDisposeScope();
        double[] specials = { double.PositiveInfinity, double.NegativeInfinity, double.NaN, -0.0, 0.0, 0.5, -1.5, 2.0, 9007199254740992.0 };
        Tensor x = cat(new[] { Inputs(997, ScalarType.Float64, new Generator(21)), tensor(specials) });
        Tensor grad = rand(x.shape, ScalarType.Float64) + 0.5;
        using Tensor a = tensor(alpha, ScalarType.Float64);
        (Tensor cv, Tensor cg) = Composite(op, x, a, grad);
        (Tensor fv, Tensor fg) = Fused(op, x, alpha, grad);
        TensorAssert.Close(Reference.Values(cv), fv, rtol: 1e-13, atol: 1e-13);
        TensorAssert.Close(Reference.Values(cg), fg, rtol: 1e-11, atol: 1e-13);
    }

    [TestMethod]
    public void Supports_CpuFloatAndDoubleThatASpanCanHold_Only()
    {
        using var scope = NewDisposeScope();
        Assert.IsTrue(KernelLoop.Supports(zeros(3)));
        Assert.IsTrue(KernelLoop.Supports(zeros(3, ScalarType.Float64)));
        Assert.IsFalse(KernelLoop.Supports(zeros(3, ScalarType.Float16)));
        Assert.IsFalse(KernelLoop.Supports(empty(3, device: new Device(DeviceType.META))));
        // 600M float32 elements (an expanded view, nothing allocated) are 2.4 GB: more than a span holds.
        Assert.IsFalse(KernelLoop.Supports(zeros(1).expand(600_000_000)));
        Assert.IsTrue(KernelLoop.Supports(zeros(1).expand(500_000_000)));
    }

    [TestMethod]
    public void IntoGivenOutputs_WritesThemAndReturnsThem_AsTheAllocatingPathComputes()
    {
        using var scope = NewDisposeScope();
        var kernel = new SoftRoundKernel(4);
        foreach (ScalarType dtype in new[] { ScalarType.Float32, ScalarType.Float64 })
        {
            Tensor x = linspace(-3, 3, 13 * (KernelLoop.MinParallelLength / 4 + 1), dtype: dtype).reshape(-1, 13);
            Tensor grad = x.sin();
            Tensor y = full(x.shape, 7.0, dtype), dx = full(x.shape, 7.0, dtype);
            Assert.AreSame(y, KernelLoop.Forward(kernel, x, y));
            Assert.AreSame(dx, KernelLoop.Backward(kernel, x, grad, dx));
            TensorAssert.Identical(KernelLoop.Forward(kernel, x), y);
            TensorAssert.Identical(KernelLoop.Backward(kernel, x, grad), dx);
            TensorAssert.Close(Reference.Values(x).Select(v => kernel.Value(v)).ToArray(), y, rtol: 1e-6);
        }
    }
}
