using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests;

[TestClass]
public sealed class DifferentiableRoundTests
{
    // Away from integers and half-integers by at least 1e-3, negative and positive.
    private static readonly double[] SmoothPoints = { -2.71, -1.2, -0.6, -0.37, 0.003, 0.26, 0.499, 0.8, 1.31, 2.97, 7.45 };

    private static Tensor Dx(Tensor y, Tensor x)
    {
        y.sum().backward();
        return x.grad!;
    }

    [TestMethod]
    [DataRow(0.5)]
    [DataRow(1.0)]
    [DataRow(10.0)]
    [DataRow(37.0)]
    public void Values_Float64_MatchDoublePrecisionReference(double k)
    {
        double[] xs = { -3.5, -1.0, -0.75, -0.0, 0.0, 0.1, 0.5, 0.999, 1.0, 2.25, 1e6 + 0.3 };
        using Tensor x = tensor(xs, ScalarType.Float64);
        using Tensor y = SoftRoundOps.differentiable_round(x, k);
        TensorAssert.Close(xs.Select(v => Reference.DifferentiableRound(v, k)).ToArray(), y, rtol: 1e-15, atol: 1e-15);
    }

    [TestMethod]
    public void Values_Float32_MatchDoublePrecisionReference()
    {
        float[] xs = { -3.5f, -1f, -0.75f, 0f, 0.1f, 0.5f, 0.999f, 1f, 2.25f, 100.3f };
        using Tensor x = tensor(xs);
        using Tensor y = SoftRoundOps.differentiable_round(x, 10.0);
        Assert.AreEqual(ScalarType.Float32, y.dtype);
        TensorAssert.Close(xs.Select(v => Reference.DifferentiableRound(v, 10.0)).ToArray(), y, rtol: 3e-7, atol: 3e-7);
    }

    [TestMethod]
    public void DefaultSteepness_IsTen()
    {
        using Tensor x = tensor(new[] { 0.3, 1.7 });
        using Tensor byDefault = SoftRoundOps.differentiable_round(x);
        using Tensor ten = SoftRoundOps.differentiable_round(x, 10.0);
        TensorAssert.Identical(ten, byDefault);
    }

    [TestMethod]
    public void Gradient_X_MatchesAnalyticForm()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(SmoothPoints, ScalarType.Float64).requires_grad_(true);
        Tensor dx = Dx(SoftRoundOps.differentiable_round(x, 7.0), x);
        TensorAssert.Close(SmoothPoints.Select(v => Reference.DifferentiableRoundDx(v, 7.0)).ToArray(), dx, rtol: 1e-14, atol: 1e-300);
    }

    [TestMethod]
    [DataRow(0.3)]
    [DataRow(10.0)]
    [DataRow(60.0)]
    public void Gradient_X_MatchesFiniteDifferences(double k)
    {
        using Tensor x = tensor(SmoothPoints, ScalarType.Float64);
        GradCheck.Assert(v => SoftRoundOps.differentiable_round(v[0], k), x);
    }

    [TestMethod]
    public void Gradient_XAndScalarTensorK_MatchFiniteDifferences()
    {
        using Tensor x = tensor(SmoothPoints, ScalarType.Float64);
        using Tensor k = tensor(4.5, ScalarType.Float64);
        GradCheck.Assert(v => SoftRoundOps.differentiable_round(v[0], v[1]), x, k);
    }

    [TestMethod]
    public void Gradient_XAndBroadcastK_MatchFiniteDifferences()
    {
        using Tensor x = tensor(SmoothPoints.Take(9).ToArray(), ScalarType.Float64).reshape(3, 3);
        using Tensor rowK = tensor(new[] { 2.0, 9.0, 25.0 }, ScalarType.Float64).reshape(3, 1);
        using Tensor columnK = tensor(new[] { 1.5, 6.0, 12.0 }, ScalarType.Float64);
        using Tensor fullK = rand(3, 3, ScalarType.Float64) * 10 + 1;
        GradCheck.Assert(v => SoftRoundOps.differentiable_round(v[0], v[1]), x, rowK);
        GradCheck.Assert(v => SoftRoundOps.differentiable_round(v[0], v[1]), x, columnK);
        GradCheck.Assert(v => SoftRoundOps.differentiable_round(v[0], v[1]), x, fullK);
    }

    [TestMethod]
    public void Gradient_K_IsSummedToKsShape()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(new[] { 0.2, 0.7, 1.4, 2.9, -0.3, -1.8 }, ScalarType.Float64).reshape(2, 3);
        Tensor k = tensor(new[] { 3.0, 8.0 }, ScalarType.Float64).reshape(2, 1).requires_grad_(true);
        SoftRoundOps.differentiable_round(x, k).sum().backward();
        CollectionAssert.AreEqual(new long[] { 2, 1 }, k.grad!.shape);
        double[] xs = Reference.Values(x), ks = { 3.0, 8.0 };
        double[] expected = Enumerable.Range(0, 2).Select(row => Enumerable.Range(0, 3).Sum(col =>
        {
            double v = xs[row * 3 + col], r = v - Math.Floor(v) - 0.5, z = ks[row] * r;
            return r * Reference.Sigmoid(z) * Reference.Sigmoid(-z);
        })).ToArray();
        TensorAssert.Close(expected, k.grad!, rtol: 1e-13);
    }

    [TestMethod]
    public void SecondDerivative_WithSteepnessAsANumber_MatchesFiniteDifferences()
    {
        using Tensor x = tensor(SmoothPoints, ScalarType.Float64);
        GradCheck.AssertSecondOrder(v => SoftRoundOps.differentiable_round(v[0], 3.0), x);
    }

    [TestMethod]
    public void SecondDerivative_X_MatchesFiniteDifferences()
    {
        using Tensor x = tensor(SmoothPoints, ScalarType.Float64);
        using Tensor k = tensor(3.0, ScalarType.Float64);
        GradCheck.AssertSecondOrder(v => SoftRoundOps.differentiable_round(v[0], v[1]), x, k);
    }

    [TestMethod]
    public void Gradient_Float32_StaysAccurateWhereSigmoidSaturates()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(new[] { 0.8f }).requires_grad_(true);
        Tensor dx = Dx(SoftRoundOps.differentiable_round(x, 100.0), x);
        double expected = Reference.DifferentiableRoundDx(0.8f, 100.0);
        Assert.AreEqual(9.3576e-12, expected, 1e-15);
        Assert.AreEqual(expected, dx.item<float>(), 1e-3 * expected);

        // The textbook σ(z)·(1 − σ(z)) loses it: σ(30) rounds to 1 in float32.
        Tensor s = (100 * (x.detach() - x.detach().floor() - 0.5)).sigmoid();
        Assert.AreEqual(0f, (100 * s * (1 - s)).item<float>());
    }

    [TestMethod]
    public void Gradient_Float32_MatchesFloat64WithinFloat32Precision()
    {
        using var scope = NewDisposeScope();
        Tensor x32 = tensor(SmoothPoints.Select(v => (float)v).ToArray()).requires_grad_(true);
        Tensor dx = Dx(SoftRoundOps.differentiable_round(x32, 12.0), x32);
        double[] expected = Reference.Values(x32).Select(v => Reference.DifferentiableRoundDx(v, 12.0)).ToArray();
        TensorAssert.Close(expected, dx, rtol: 1e-5);
    }

    [TestMethod]
    [DataRow(ScalarType.Float32)]
    [DataRow(ScalarType.Float64)]
    public void Infinity_GivesInfinityAndZeroGradient(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(new[] { double.PositiveInfinity, double.NegativeInfinity, 0.3 }, dtype).requires_grad_(true);
        Tensor k = tensor(5.0, dtype).requires_grad_(true);
        Tensor y = SoftRoundOps.differentiable_round(x, k);
        TensorAssert.Close(new[] { double.PositiveInfinity, double.NegativeInfinity, Reference.DifferentiableRound(0.3, 5) }, y, 1e-6);
        y.sum().backward();
        double[] dx = Reference.Values(x.grad!);
        Assert.AreEqual(0.0, dx[0]);
        Assert.AreEqual(0.0, dx[1]);
        double r = 0.3 - 0.5, s = Reference.Sigmoid(5 * r) * Reference.Sigmoid(-5 * r);
        Assert.AreEqual(r * s, Reference.Values(k.grad!)[0], 1e-6, "only the finite entry contributes to dy/dk");
    }

    [TestMethod]
    public void NegativeZero_FollowsTheFormula()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(new[] { -0.0, 0.0 }, ScalarType.Float64).requires_grad_(true);
        Tensor y = SoftRoundOps.differentiable_round(x, 10.0);
        double expected = Reference.Sigmoid(-5);
        TensorAssert.Close(new[] { expected, expected }, y, 1e-15);
        double dx = 10 * Reference.Sigmoid(5) * Reference.Sigmoid(-5);
        TensorAssert.Close(new[] { dx, dx }, Dx(y, x), 1e-14);
    }

    [TestMethod]
    [DataRow(ScalarType.Float32, 16777216.0)]
    [DataRow(ScalarType.Float32, -16777216.0)]
    [DataRow(ScalarType.Float32, 1e30)]
    [DataRow(ScalarType.Float64, 9007199254740992.0)]
    [DataRow(ScalarType.Float64, -9007199254740992.0)]
    [DataRow(ScalarType.Float64, 1e300)]
    public void HugeValues_AreIntegersAndFollowTheFormula(ScalarType dtype, double huge)
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(new[] { huge }, dtype).requires_grad_(true);
        Tensor y = SoftRoundOps.differentiable_round(x, 10.0);
        // x is an integer, so r = −½ and y = x + σ(−5), which rounds back to x at this magnitude.
        Assert.AreEqual(Reference.Values(x)[0], Reference.Values(y)[0]);
        double dx = 10 * Reference.Sigmoid(5) * Reference.Sigmoid(-5);
        TensorAssert.Close(new[] { dx }, Dx(y, x), 1e-6);
    }

    [TestMethod]
    [DataRow(ScalarType.Int32)]
    [DataRow(ScalarType.Int64)]
    [DataRow(ScalarType.Byte)]
    [DataRow(ScalarType.Bool)]
    [DataRow(ScalarType.ComplexFloat32)]
    public void NonFloatingInput_IsRefusedNamingOpAndDtype(ScalarType dtype)
    {
        using Tensor x = zeros(3, dtype);
        var e = Assert.ThrowsExactly<ArgumentException>(() => SoftRoundOps.differentiable_round(x, 10.0));
        Assert.AreEqual("x", e.ParamName);
        StringAssert.Contains(e.Message, "differentiable_round");
        StringAssert.Contains(e.Message, dtype.ToString());
        using Tensor k = tensor(2.0f);
        Assert.ThrowsExactly<ArgumentException>(() => SoftRoundOps.differentiable_round(x, k));
    }

    [TestMethod]
    public void NullInput_IsRefused()
    {
        using Tensor x = zeros(2);
        Assert.AreEqual("x", Assert.ThrowsExactly<ArgumentNullException>(() => SoftRoundOps.differentiable_round(null!, 1.0)).ParamName);
        Assert.AreEqual("k", Assert.ThrowsExactly<ArgumentNullException>(() => SoftRoundOps.differentiable_round(x, (Tensor)null!)).ParamName);
    }

    [TestMethod]
    [DataRow(double.NaN, "NaN")]
    [DataRow(double.PositiveInfinity, "Infinity")]
    [DataRow(double.NegativeInfinity, "-Infinity")]
    [DataRow(0.0, "0")]
    [DataRow(-2.5, "-2.5")]
    public void BadScalarK_IsRefusedNamingKAndValue(double k, string shown)
    {
        using Tensor x = tensor(new[] { 0.3f, 1.2f });
        using Tensor before = x.clone();
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SoftRoundOps.differentiable_round(x, k));
        Assert.AreEqual("k", e.ParamName);
        StringAssert.Contains(e.Message, "differentiable_round");
        StringAssert.Contains(e.Message, $"got {shown}.");
        TensorAssert.Identical(before, x);
    }

    [TestMethod]
    [DataRow(double.NaN, "NaN")]
    [DataRow(double.PositiveInfinity, "Infinity")]
    [DataRow(0.0, "0")]
    [DataRow(-1.0, "-1")]
    public void BadTensorK_IsRefusedNamingKAndTheOffendingEntry(double bad, string shown)
    {
        using Tensor x = tensor(new[] { 0.3f, 1.2f, 2.7f });
        using Tensor before = x.clone();
        using Tensor k = tensor(new[] { 2.0f, (float)bad, 3.0f });
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SoftRoundOps.differentiable_round(x, k));
        Assert.AreEqual("k", e.ParamName);
        StringAssert.Contains(e.Message, $"got {shown}.");
        TensorAssert.Identical(before, x);
    }

    [TestMethod]
    public void TensorK_ThatDoesNotBroadcastToX_IsRefused()
    {
        using Tensor x = zeros(2, 3);
        using Tensor tooLong = ones(4);
        using Tensor enlarging = ones(5, 2, 3);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => SoftRoundOps.differentiable_round(x, tooLong)).Message, "(4)");
        Assert.AreEqual("k", Assert.ThrowsExactly<ArgumentException>(() => SoftRoundOps.differentiable_round(x, enlarging)).ParamName);
    }

    [TestMethod]
    public void IntegerTensorK_IsRefusedNamingK()
    {
        using Tensor x = zeros(2);
        using Tensor k = tensor(new long[] { 3, 4 });
        Assert.AreEqual("k", Assert.ThrowsExactly<ArgumentException>(() => SoftRoundOps.differentiable_round(x, k)).ParamName);
    }

    [TestMethod]
    public void Input_IsNotModified()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(SmoothPoints, ScalarType.Float64).requires_grad_(true);
        Tensor before = x.detach().clone();
        Dx(SoftRoundOps.differentiable_round(x, 10.0), x);
        TensorAssert.Identical(before, x.detach());
    }

    [TestMethod]
    public void EmptyAndZeroDimInputs_Work()
    {
        using var scope = NewDisposeScope();
        Tensor empty = zeros(new long[] { 0, 3 }).requires_grad_(true);
        Tensor y = SoftRoundOps.differentiable_round(empty, 10.0);
        CollectionAssert.AreEqual(new long[] { 0, 3 }, y.shape);
        CollectionAssert.AreEqual(new long[] { 0, 3 }, Dx(y, empty).shape);

        Tensor scalar = tensor(1.3, ScalarType.Float64).requires_grad_(true);
        Tensor ys = SoftRoundOps.differentiable_round(scalar, 10.0);
        Assert.AreEqual(0L, ys.dim());
        Assert.AreEqual(Reference.DifferentiableRound(1.3, 10), ys.item<double>(), 1e-15);
        Assert.AreEqual(Reference.DifferentiableRoundDx(1.3, 10), Dx(ys, scalar).item<double>(), 1e-14);
    }

    public static IEnumerable<object[]> Layouts() => new[]
    {
        new object[] { "transposed" }, new object[] { "every other" }, new object[] { "sliced" }, new object[] { "expanded" },
    };

    [TestMethod]
    [DynamicData(nameof(Layouts))]
    public void NonContiguousInput_GivesSameValuesAndGradientsAsContiguousCopy(string layout)
    {
        using var scope = NewDisposeScope();
        Tensor source = (randn(6, 8, ScalarType.Float64) * 3).requires_grad_(true);
        Tensor view = layout switch
        {
            "transposed" => source.t(),
            "every other" => source[.., TensorIndex.Slice(null, null, 2)],
            "sliced" => source[TensorIndex.Slice(1, 5), TensorIndex.Slice(2, 7)],
            _ => source[0].expand(4, 8),
        };
        Assert.IsFalse(view.is_contiguous());
        Tensor y = SoftRoundOps.differentiable_round(view, 8.0);
        Tensor copy = view.detach().contiguous().requires_grad_(true);
        Tensor yc = SoftRoundOps.differentiable_round(copy, 8.0);
        TensorAssert.Identical(yc.detach(), y.detach());

        Tensor weights = rand(y.shape, ScalarType.Float64);
        (y * weights).sum().backward();
        (yc * weights).sum().backward();
        // The view's gradient lands in source; gather it back through the same view.
        Tensor expectedSourceGrad = zeros_like(source);
        Tensor target = layout switch
        {
            "transposed" => expectedSourceGrad.t(),
            "every other" => expectedSourceGrad[.., TensorIndex.Slice(null, null, 2)],
            "sliced" => expectedSourceGrad[TensorIndex.Slice(1, 5), TensorIndex.Slice(2, 7)],
            _ => expectedSourceGrad[0],
        };
        target.add_(layout == "expanded" ? copy.grad!.sum(0L) : copy.grad!);
        TensorAssert.Close(Reference.Values(expectedSourceGrad), source.grad!, rtol: 1e-15, atol: 1e-300);
    }

    [TestMethod]
    public void NoGrad_RecordsNoGraph()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(SmoothPoints, ScalarType.Float64).requires_grad_(true);
        Tensor k = tensor(3.0, ScalarType.Float64).requires_grad_(true);
        using (no_grad())
        {
            Assert.IsFalse(SoftRoundOps.differentiable_round(x, 10.0).requires_grad);
            Assert.IsFalse(SoftRoundOps.differentiable_round(x, k).requires_grad);
        }
        Tensor plain = tensor(SmoothPoints, ScalarType.Float64);
        Assert.IsFalse(SoftRoundOps.differentiable_round(plain, 10.0).requires_grad);
        Assert.IsTrue(SoftRoundOps.differentiable_round(plain, k).requires_grad, "k alone needs a graph");
        Assert.IsTrue(SoftRoundOps.differentiable_round(x, 10.0).requires_grad);
    }

    [TestMethod]
    [DataRow(1.0)]
    [DataRow(10.0)]
    [DataRow(40.0)]
    public void JumpsByTwoSigmaOfMinusHalfKAtEachInteger(double k)
    {
        using var scope = NewDisposeScope();
        const double eps = 1e-12;
        Tensor x = tensor(new[] { -eps, 0.0, 3 - eps, 3.0 }, ScalarType.Float64);
        double[] y = Reference.Values(SoftRoundOps.differentiable_round(x, k));
        double jump = 2 * Reference.Sigmoid(-k / 2);
        Assert.AreEqual(jump, y[1] - y[0], 1e-9);
        Assert.AreEqual(jump, y[3] - y[2], 1e-9);
        Assert.AreEqual(Reference.Sigmoid(-k / 2), y[1], 1e-15, "y(n) = n + σ(−k/2)");
    }

    [TestMethod]
    [DataRow(1.0)]
    [DataRow(10.0)]
    [DataRow(40.0)]
    public void NormalisedForm_EqualsSoftRoundAtHalfK(double k)
    {
        using var scope = NewDisposeScope();
        Tensor x = linspace(-2.999, 2.999, 301, ScalarType.Float64);
        Tensor f = x.floor();
        double low = Reference.Sigmoid(-k / 2), high = Reference.Sigmoid(k / 2);
        Tensor normalised = f + (SoftRoundOps.differentiable_round(x, k) - f - low) / (high - low);
        TensorAssert.Close(Reference.Values(SoftRoundOps.soft_round(x, k / 2)), normalised, 1e-12, 1e-12);
    }

    [TestMethod]
    public void ThousandForwardBackwardIterations_LeaveLiveTensorCountUnchanged()
    {
        using Tensor data = randn(256, ScalarType.Float32);
        using Tensor kData = tensor(5.0f);
        void Iteration()
        {
            using var scope = NewDisposeScope();
            Tensor x = data.clone().requires_grad_(true);
            Tensor k = kData.clone().requires_grad_(true);
            (SoftRoundOps.differentiable_round(x, k) + SoftRoundOps.differentiable_round(x, 10.0)).sum().backward();
            using (no_grad()) SoftRoundOps.differentiable_round(x, 3.0);
        }
        Iteration();
        long before = LiveTensors.Count();
        for (int i = 0; i < 1000; i++) Iteration();
        Assert.AreEqual(before, LiveTensors.Count());
    }
}
