using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Conformance;

/// <summary>
/// Every op on empty, 0-dim, small and large shapes, and on strided, transposed, expanded and sliced views: results
/// and gradients identical to those of contiguous copies; steepness as a number, a 0-dim tensor or a broadcast tensor.
/// </summary>
[TestClass]
public sealed class ShapeAndLayoutConformanceTests
{
    public static IEnumerable<object[]> Ops => OpCase.Names;

    private static readonly long[][] Shapes =
    {
        new long[] { 0 }, new long[] { 0, 3, 3 }, new long[] { 1, 0, 5 }, Array.Empty<long>(), new long[] { 4 }, new long[] { 812 },
    };

    /// <summary>y and dL/dx for L = Σ w·y, w = 1 + (index mod 7)/8.</summary>
    private static (Tensor y, Tensor grad) Run(OpCase op, Tensor input)
    {
        Tensor x = input.detach().clone().requires_grad_(true);
        Tensor y = op.Apply(x);
        Tensor w = (arange(y.numel(), ScalarType.Float64).remainder(7) / 8 + 1).reshape(y.shape).to(y.dtype);
        if (y.numel() > 0) (y * w).sum().backward();
        Tensor grad = x.grad is { IsInvalid: false } g ? g : zeros_like(x);
        return (y.detach(), grad);
    }

    [TestMethod]
    [DynamicData(nameof(Ops))]
    public void Shapes_KeepTheirShapeAndMatchTheFlatResult(string name)
    {
        OpCase op = OpCase.Named(name);
        foreach (long[] shape in Shapes)
        {
            ConformanceReport.Case("shapes", () =>
            {
                using var scope = NewDisposeScope();
                Tensor x = (randn(shape, ScalarType.Float64) * 3);
                (Tensor y, Tensor g) = Run(op, x);
                CollectionAssert.AreEqual(shape, y.shape, $"{name} {string.Join("x", shape)}");
                CollectionAssert.AreEqual(shape, g.shape);
                (Tensor flatY, Tensor flatG) = Run(op, x.flatten());
                TensorAssert.Identical(flatY, y.flatten());
                TensorAssert.Identical(flatG, g.flatten());
            });
        }
    }

    [TestMethod]
    [DynamicData(nameof(Ops))]
    public void LargeMatrix_WithSpecialValuesAtOddOffsets_MatchesTheRulesAndTheFlatResult(string name)
    {
        OpCase op = OpCase.Named(name);
        foreach (ScalarType dtype in new[] { ScalarType.Float32, ScalarType.Float64 })
        {
            ConformanceReport.Case("shapes", () =>
            {
                using var scope = NewDisposeScope();
                Tensor x = (randn(new long[] { 1029, 917 }, ScalarType.Float64, generator: new Generator(3)) * 4).to(dtype);
                double[] specials = { double.PositiveInfinity, double.NegativeInfinity, double.NaN, -0.0 };
                long[] offsets = { 1, 7, 917 * 3 + 5, 1029L * 917 - 1, 499_999, 123_457 };
                Tensor flat = x.view(-1);
                for (int i = 0; i < offsets.Length; i++) flat[offsets[i]] = tensor(specials[i % specials.Length], dtype);
                (Tensor y, Tensor g) = Run(op, x);
                (Tensor fy, Tensor fg) = Run(op, x.flatten());
                TensorAssert.Identical(fy, y.flatten());
                TensorAssert.Identical(fg, g.flatten());
                double[] ys = Reference.Values(y.flatten()[TensorIndex.Tensor(tensor(offsets))]);
                for (int i = 0; i < offsets.Length; i++)
                {
                    double v = specials[i % specials.Length];
                    if (double.IsNaN(v)) Assert.IsTrue(double.IsNaN(ys[i]));
                    else if (double.IsInfinity(v)) Assert.AreEqual(v, ys[i]);
                    else Assert.IsTrue(double.IsFinite(ys[i]));
                }
            });
        }
    }

    [TestMethod]
    [DynamicData(nameof(Ops))]
    public void Views_GiveTheValuesAndGradientsOfContiguousCopies(string name)
    {
        OpCase op = OpCase.Named(name);
        foreach (string layout in new[] { "every other", "transposed", "expanded", "sliced" })
        {
            ConformanceReport.Case("layouts", () =>
            {
                using var scope = NewDisposeScope();
                Tensor source = (randn(new long[] { 12, 10 }, ScalarType.Float64) * 3).requires_grad_(true);
                Tensor View(Tensor t) => layout switch
                {
                    "every other" => t[.., TensorIndex.Slice(null, null, 2)],
                    "transposed" => t.t(),
                    "expanded" => t[0].expand(5, 10),
                    _ => t[TensorIndex.Slice(2, 9), TensorIndex.Slice(1, 8)],
                };
                Tensor view = View(source);
                Assert.IsFalse(view.is_contiguous(), layout);
                Tensor y = op.Apply(view);
                Tensor w = rand(y.shape, ScalarType.Float64, generator: new Generator(5));
                (y * w).sum().backward();

                // The same computation on a contiguous copy, its gradient taken back through the same view.
                Tensor copy = view.detach().contiguous().requires_grad_(true);
                Tensor yc = op.Apply(copy);
                (yc * w).sum().backward();
                TensorAssert.Identical(yc.detach(), y.detach());
                Tensor expected = zeros_like(source).requires_grad_(true);
                Tensor routed = View(expected);
                (routed * copy.grad!).sum().backward();
                TensorAssert.Close(Reference.Values(expected.grad!), source.grad!, rtol: 1e-15, atol: 1e-300);
            });
        }
    }

    [TestMethod]
    [DynamicData(nameof(Ops))]
    public void Steepness_AsNumberZeroDimOrBroadcastTensor_GivesTheSameResult(string name)
    {
        OpCase op = OpCase.Named(name);
        if (op.ApplyWithSteepness is null) return;
        foreach (ScalarType dtype in new[] { ScalarType.Float32, ScalarType.Float64 })
        {
            ConformanceReport.Case("steepness forms", () =>
            {
                using var scope = NewDisposeScope();
                Tensor x = (randn(new long[] { 6, 5 }, ScalarType.Float64) * 3).to(dtype);
                Tensor byNumber = op.Apply(x);
                Tensor byZeroDim = op.ApplyWithSteepness(x, tensor(op.Steepness, dtype));
                Tensor byRow = op.ApplyWithSteepness(x, full(new long[] { 6, 1 }, op.Steepness, dtype));
                TensorAssert.Identical(byNumber, byZeroDim);
                TensorAssert.Close(Reference.Values(byNumber), byRow, rtol: dtype == ScalarType.Float32 ? 1e-6 : 1e-13, atol: 1e-6);
            });
        }
    }
}
