using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Quantization;
using SoftRound.Tf.Tests.Helpers;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Quantization;

[TestClass]
public sealed class FakeQuantizeTests
{
    /// <summary>One case of Reference/fake-quantize-pytorch.json: PyTorch 2.6's learnable fake quantize.</summary>
    public sealed record PyTorchCase(string Name, int? Axis, long[] Shape, int QMin, int QMax, double GradScale, double[] Scale, double[] ZeroPoint,
        double[] X, double[] Dy, double[] Y, double[] Dx, double[] DScale, double[] DZero);

    private static readonly IReadOnlyList<PyTorchCase> Cases = LoadCases();

    private static List<PyTorchCase> LoadCases()
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Repository.Root, "SoftRound.Tf.Tests", "Reference", "fake-quantize-pytorch.json")));
        static double[] D(JsonElement e, string name) => e.GetProperty(name).EnumerateArray().Select(v => v.GetDouble()).ToArray();
        return doc.RootElement.GetProperty("cases").EnumerateArray().Select(c => new PyTorchCase(
            c.GetProperty("name").GetString()!,
            c.GetProperty("axis").ValueKind == JsonValueKind.Null ? null : c.GetProperty("axis").GetInt32(),
            c.GetProperty("shape").EnumerateArray().Select(v => v.GetInt64()).ToArray(),
            c.GetProperty("qmin").GetInt32(), c.GetProperty("qmax").GetInt32(), c.GetProperty("grad_scale").GetDouble(),
            D(c, "scale"), D(c, "zero_point"), D(c, "x"), D(c, "dy"), D(c, "y"), D(c, "dx"), D(c, "dscale"), D(c, "dzero"))).ToList();
    }

    /// <summary>The spec whose grid is [qmin, qmax]: affine where the case's zero points are not all 0.</summary>
    private static QuantSpec SpecOf(PyTorchCase c)
    {
        bool signed = c.QMin < 0;
        int bits = (int)Math.Round(Math.Log2(c.QMax - (signed ? -(c.QMax + 1) : 0) + 1));
        var spec = new QuantSpec(bits, signed, symmetric: c.ZeroPoint.All(z => z == 0), narrowRange: signed && c.QMin == -c.QMax, axis: c.Axis);
        Assert.AreEqual((c.QMin, c.QMax), (spec.qmin, spec.qmax), c.Name);
        return spec;
    }

    /// <summary>q = round(x·(1/s)) + Z with x·(1/s) rounded to float first: this library's rule, and PyTorch's per-tensor forward.</summary>
    private static long OurCode(float x, float inverse, long zero) => (long)MathF.Round(x * inverse, MidpointRounding.ToEven) + zero;

    /// <summary>
    /// q = round(fma(x, 1/s, Z)): PyTorch's per-channel kernels and its backward pass evaluate Z + x·(1/s), which the
    /// compiler of its x86 builds contracts into one fused multiply-add, so the product is not rounded on its own.
    /// The two rules differ only where x·(1/s) lies within an ulp of a tie and Z ≠ 0.
    /// </summary>
    private static long PyTorchFusedCode(float x, float inverse, long zero) => (long)MathF.Round((float)((double)x * inverse + zero), MidpointRounding.ToEven);

    [TestMethod]
    public void MatchesPyTorch_BitwiseValuesAndInputGradients_ScaleAndZeroPointGradients()
    {
        Assert.HasCount(11, Cases);
        int differing = 0;
        foreach (PyTorchCase c in Cases)
        {
            using var scope = NewDisposeScope();
            QuantSpec spec = SpecOf(c);
            Tensor x = tensor(c.X.Select(v => (float)v).ToArray()).reshape(c.Shape).requires_grad_(true);
            Tensor scale = tensor(c.Scale.Select(v => (float)v).ToArray()).requires_grad_(true);
            Tensor? zero = spec.symmetric ? null : tensor(c.ZeroPoint.Select(v => (float)v).ToArray()).requires_grad_(true);
            Tensor y = QuantizationOps.fake_quantize(x, scale, zero, spec, c.GradScale);
            (y * tensor(c.Dy.Select(v => (float)v).ToArray()).reshape(c.Shape)).sum().backward();
            float[] ys = y.detach().data<float>().ToArray(), dxs = x.grad!.data<float>().ToArray();
            for (int i = 0; i < c.X.Length; i++)
            {
                (float s, float inverse, long z) = Grid(c, i);
                float xi = (float)c.X[i], dy = (float)c.Dy[i];
                long ours = OurCode(xi, inverse, z), fused = PyTorchFusedCode(xi, inverse, z);
                float expectedY = (Math.Clamp(ours, c.QMin, c.QMax) - z) * s;
                float expectedDx = dy * (ours >= c.QMin && ours <= c.QMax ? 1f : 0f);
                Assert.AreEqual(BitConverter.SingleToInt32Bits(expectedY), BitConverter.SingleToInt32Bits(ys[i]), $"{c.Name}: y[{i}]");
                Assert.AreEqual(BitConverter.SingleToInt32Bits(expectedDx), BitConverter.SingleToInt32Bits(dxs[i]), $"{c.Name}: dx[{i}]");
                // PyTorch's own numbers: the same bits wherever its rule gives the same code (its per-tensor forward always).
                bool sameCode = ours == fused;
                if (!sameCode)
                {
                    differing++;
                    double u = (double)xi * inverse;
                    float magnitude = (float)(Math.Abs(u) + Math.Abs(z)), ulp = MathF.BitIncrement(magnitude) - magnitude;
                    Assert.AreEqual(0.5, u - Math.Floor(u), ulp, $"{c.Name}: x[{i}] differs farther than an ulp from a tie");
                }
                if (sameCode || c.Axis is null) Assert.AreEqual(BitConverter.SingleToInt32Bits((float)c.Y[i]), BitConverter.SingleToInt32Bits(ys[i]), $"{c.Name}: PyTorch's y[{i}]");
                if (sameCode) Assert.AreEqual(BitConverter.SingleToInt32Bits((float)c.Dx[i]), BitConverter.SingleToInt32Bits(dxs[i]), $"{c.Name}: PyTorch's dx[{i}]");
            }
            // The scale's and zero point's gradients: the per-element terms summed in double under each rule. Ours are
            // within 1.2e-7 of Σ|term| (float32's rounding of the sum); PyTorch's float32 sums within 1e-6 of Σ|term| of
            // its rule's (the sums cancel: relative to the sum itself PyTorch's summation is off by up to ~1e-5).
            (double[] scaleSum, double[] scaleMagnitude, double[] zeroSum, double[] zeroMagnitude) = Terms(c, OurCode);
            TensorAssert.Close(scaleSum, scale.grad!, 0, 1.2e-7 * scaleMagnitude.Max());
            if (zero is not null) TensorAssert.Close(zeroSum, zero.grad!, 0, 1.2e-7 * zeroMagnitude.Max());
            (double[] ptScale, double[] ptScaleMagnitude, double[] ptZero, double[] ptZeroMagnitude) = Terms(c, PyTorchFusedCode);
            for (int ch = 0; ch < c.DScale.Length; ch++)
            {
                Assert.AreEqual(c.DScale[ch], ptScale[ch], 1e-6 * ptScaleMagnitude[ch], $"{c.Name}: PyTorch's scale gradient [{ch}]");
                Assert.AreEqual(c.DZero[ch], ptZero[ch], 1e-6 * ptZeroMagnitude[ch], $"{c.Name}: PyTorch's zero-point gradient [{ch}]");
            }
        }
        // The cases put inputs on ties on purpose: 56 of their 1,436 elements lie within an ulp of one with Z ≠ 0.
        Assert.AreEqual(56, differing, "elements where the two rules differ");
    }

    /// <summary>Element i's scale, reciprocal (both float32) and Z = clamp(round(z), qmin, qmax).</summary>
    private static (float scale, float inverse, long zero) Grid(PyTorchCase c, int i)
    {
        long inner = 1;
        if (c.Axis is int a) for (int d = a + 1; d < c.Shape.Length; d++) inner *= c.Shape[d];
        int ch = c.Axis is null ? 0 : (int)(i / inner % c.Scale.Length);
        float s = (float)c.Scale[ch];
        return (s, 1f / s, (long)Math.Clamp(Math.Round(c.ZeroPoint[ch], MidpointRounding.ToEven), c.QMin, c.QMax));
    }

    /// <summary>
    /// The learnable fake-quantize gradient terms for s and z per element, in float32 in PyTorch's kernel's order, with
    /// the code q from <paramref name="code"/>, multiplied by the gradient scale and summed per channel in double, with
    /// the sums of their magnitudes.
    /// </summary>
    private static (double[] scale, double[] scaleMagnitude, double[] zero, double[] zeroMagnitude) Terms(PyTorchCase c, Func<float, float, long, long> code)
    {
        int channels = c.Scale.Length;
        var result = (new double[channels], new double[channels], new double[channels], new double[channels]);
        long inner = 1;
        if (c.Axis is int a) for (int d = a + 1; d < c.Shape.Length; d++) inner *= c.Shape[d];
        float g = (float)c.GradScale;
        for (int i = 0; i < c.X.Length; i++)
        {
            int ch = c.Axis is null ? 0 : (int)(i / inner % channels);
            (float s, float inv, long z) = Grid(c, i);
            float x = (float)c.X[i], dy = (float)c.Dy[i];
            long xq = code(x, inv, z);
            float ds, dz;
            if (xq < c.QMin || xq > c.QMax)
            {
                dz = dy * -1 * s * g;
                ds = (xq < c.QMin ? dy * (float)(c.QMin - z) : dy * (float)(c.QMax - z)) * g;
            }
            else
            {
                float xfq = (float)(Math.Clamp(xq, c.QMin, c.QMax) - z) * s;
                dz = 0;
                ds = dy * (xfq - x) * inv * g;
            }
            result.Item1[ch] += ds;
            result.Item2[ch] += Math.Abs(ds);
            result.Item3[ch] += dz;
            result.Item4[ch] += Math.Abs(dz);
        }
        return result;
    }

    /// <summary>
    /// The reference of the gradients: the same forward composed from torch ops, with the rounding r(u) written as
    /// round(u) + f(u) − f(u).detach() so that autograd passes f's slope (f = u, soft_round or differentiable_round).
    /// </summary>
    private static Tensor Composed(Tensor x, Tensor scale, Tensor? zero, QuantSpec spec, RoundingGradient rounding, double steepness, double gradScale)
    {
        long[] view = Enumerable.Repeat(1L, (int)x.dim()).ToArray();
        if (spec.axis is int a) view[a] = x.shape[a];
        Tensor Scaled(Tensor p) => p * gradScale + (p - p * gradScale).detach();
        Tensor s = Scaled(scale).reshape(spec.axis is null ? Array.Empty<long>() : view);
        Tensor z = zero is null ? zeros_like(s) : Scaled(zero).reshape(s.shape);
        Tensor zr = z.round().detach() + (z - z.detach());
        Tensor zc = zr.clamp(spec.qmin, spec.qmax);
        Tensor u = x / s;
        Tensor f = rounding switch
        {
            RoundingGradient.SoftRound => SoftRoundOps.soft_round(u, steepness),
            RoundingGradient.DifferentiableRound => SoftRoundOps.differentiable_round(u, steepness),
            _ => u,
        };
        Tensor r = u.round().detach() + (f - f.detach());
        return ((r + zc).clamp(spec.qmin, spec.qmax) - zc) * s;
    }

    [TestMethod]
    public void Gradients_InFloat64_EqualAutogradThroughTheComposedSurrogate()
    {
        var random = new Random(5);
        foreach (RoundingGradient rounding in Enum.GetValues<RoundingGradient>())
        {
            foreach (QuantSpec spec in new[] { new QuantSpec(4), new QuantSpec(3, signed: false, symmetric: false, axis: 1), new QuantSpec(8, narrowRange: true, axis: 0) })
            {
                using var scope = NewDisposeScope();
                Tensor x0 = randn(new long[] { 5, 3, 7 }, ScalarType.Float64, generator: new Generator((ulong)random.Next())) * 2;
                long channels = spec.axis is int a ? x0.shape[a] : 1;
                Tensor scale0 = rand(new long[] { channels }, ScalarType.Float64, generator: new Generator((ulong)random.Next())) * 0.4 + 0.1;
                Tensor? zero0 = spec.symmetric ? null : rand(new long[] { channels }, ScalarType.Float64, generator: new Generator((ulong)random.Next())) * 6 + 0.3;
                Tensor dy = randn(x0.shape, ScalarType.Float64, generator: new Generator((ulong)random.Next()));
                const double g = 0.37, k = 3;
                (Tensor x, Tensor s, Tensor? z) Leaves() => (x0.clone().requires_grad_(true), scale0.clone().requires_grad_(true), zero0?.clone().requires_grad_(true));
                var (x1, s1, z1) = Leaves();
                Tensor y1 = QuantizationOps.fake_quantize(x1, s1, z1, spec, g, rounding, k);
                (y1 * dy).sum().backward();
                var (x2, s2, z2) = Leaves();
                Tensor y2 = Composed(x2, s2, z2, spec, rounding, k, g);
                (y2 * dy).sum().backward();
                string label = $"{rounding}, {spec}";
                TensorAssert.Close(Reference.Values(y2), y1.detach(), 1e-15, 1e-15);
                TensorAssert.Close(Reference.Values(x2.grad!), x1.grad!, 1e-12, 1e-12);
                TensorAssert.Close(Reference.Values(s2.grad!), s1.grad!, 1e-10, 1e-12);
                if (z1 is not null) TensorAssert.Close(Reference.Values(z2!.grad!), z1.grad!, 1e-10, 1e-12);
                Assert.IsTrue(x1.grad!.abs().sum().item<double>() > 0, label);
            }
        }
    }

    [TestMethod]
    public void ScaleGradient_OutsideTheGrid_IsTheTrueDerivative_ByFiniteDifferences()
    {
        // Outside the grid y = (qmin − Z)·s or (qmax − Z)·s, a smooth function of s: there LSQ's gradient is the
        // derivative itself (inside, the straight-through surrogate differs from the zero derivative of a step).
        using var scope = NewDisposeScope();
        Tensor x = tensor(new[] { -9.0, 7.5, 30.0, -12.25, 100.0 }, ScalarType.Float64);
        Tensor dy = tensor(new[] { 0.3, -1.1, 0.7, 2.0, -0.4 }, ScalarType.Float64);
        var spec = new QuantSpec(3, signed: false, symmetric: false);
        Tensor z = tensor(new[] { 2.2 }, ScalarType.Float64);
        double Loss(double scale)
        {
            using var inner = NewDisposeScope();
            return (QuantizationOps.fake_quantize(x, tensor(new[] { scale }, ScalarType.Float64), z, spec, 1.0) * dy).sum().item<double>();
        }
        Tensor s = tensor(new[] { 0.9 }, ScalarType.Float64).requires_grad_(true);
        (QuantizationOps.fake_quantize(x, s, z, spec, 1.0) * dy).sum().backward();
        const double h = 1e-6;
        double numeric = (Loss(0.9 + h) - Loss(0.9 - h)) / (2 * h);
        Assert.AreEqual(numeric, s.grad!.item<double>(), 1e-8);
        Assert.AreEqual(0.3 * (0 - 2) + (-1.1 + 0.7 - 0.4) * (7 - 2) + 2.0 * (0 - 2), numeric, 1e-8);
    }

    [TestMethod]
    public void Kernel_EqualsTheCompositePath_PerTensorAndPerChannel_EveryDtypeAndSurrogate()
    {
        var random = new Random(3);
        foreach (ScalarType dtype in new[] { ScalarType.Float32, ScalarType.Float64 })
        foreach (RoundingGradient rounding in Enum.GetValues<RoundingGradient>())
        foreach (int? axis in new int?[] { null, 0, 1, 2 })
        {
            using var scope = NewDisposeScope();
            Tensor x = randn(new long[] { 6, 5, 300 }, dtype, generator: new Generator((ulong)random.Next())) * 3;
            long channels = axis is int a ? x.shape[a] : 1;
            Tensor scale = rand(new long[] { channels }, dtype, generator: new Generator((ulong)random.Next())) * 0.3 + 0.05;
            Tensor zero = (rand(new long[] { channels }, dtype, generator: new Generator((ulong)random.Next())) * 15).round() + 0.2;
            Tensor grad = randn(x.shape, dtype, generator: new Generator((ulong)random.Next()));
            var settings = new SoftRound.Tf.Internals.FakeQuantizeFunction.Settings(-3, 12, axis, 0.01, rounding, 4);
            Tensor y = SoftRound.Tf.Internals.FakeQuantizeFunction.Value(x, scale, zero, settings);
            TensorAssert.Identical(SoftRound.Tf.Internals.FakeQuantizeFunction.CompositeValue(x, scale, zero, settings), y);
            // Outside grad mode, as in a backward pass without create_graph: the kernel (with grad mode on it would take the composite path too).
            Tensor? dx, ds, dz;
            using (no_grad()) (dx, ds, dz) = SoftRound.Tf.Internals.FakeQuantizeFunction.Gradients(x, scale, zero, grad, settings, true, true, true);
            var (cx, cs, cz) = SoftRound.Tf.Internals.FakeQuantizeFunction.CompositeGradients(x, scale, zero, grad, settings, true, true, true);
            double eps = dtype == ScalarType.Float32 ? 1.2e-7 : 2.3e-16;
            if (rounding == RoundingGradient.StraightThrough) TensorAssert.Identical(cx!, dx!);
            else TensorAssert.Close(Reference.Values(cx!), dx!, 8 * eps, 1e-30);
            // The same terms summed in double in another order (a surrogate's terms also differ by its slope's ulps), then rounded to the dtype.
            double tolerance = Math.Max(rounding == RoundingGradient.StraightThrough ? 2 * eps : 64 * eps, 1e-12);
            TensorAssert.Close(Reference.Values(cs!), ds!, tolerance, tolerance * cs!.abs().max().to(ScalarType.Float64).item<double>());
            TensorAssert.Close(Reference.Values(cz!), dz!, tolerance, tolerance * cz!.abs().max().to(ScalarType.Float64).item<double>());
            Assert.AreEqual(dtype, ds!.dtype);
        }
    }

    [TestMethod]
    public void SymmetricAndUnsigned_UseTheFixedZeroPoint_AndLeaveInputsAlone()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(new[] { -1.0f, 0.0f, 0.26f, 3.0f, 100f });
        Tensor before = x.clone();
        Tensor y = QuantizationOps.fake_quantize(x, tensor(0.5f), null, new QuantSpec(4, signed: false));
        // uint4 symmetric: Z = 8, grid [0, 15], so x/s + 8 clamps to [0, 15]: values in [−4, 3.5].
        CollectionAssert.AreEqual(new[] { -1.0f, 0.0f, 0.5f, 3.0f, 3.5f }, y.data<float>().ToArray());
        TensorAssert.Identical(before, x);
        Assert.IsFalse(y.requires_grad);
    }

    [TestMethod]
    public void HalfPrecision_IsComputedInFloat32_AndEmptyInputsWork()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(new[] { 0.3f, -0.9f, 2.2f }).to(ScalarType.Float16).requires_grad_(true);
        Tensor scale = tensor(new[] { 0.25f }).requires_grad_(true);
        Tensor y = QuantizationOps.fake_quantize(x, scale, null, new QuantSpec(3));
        Assert.AreEqual(ScalarType.Float16, y.dtype);
        CollectionAssert.AreEqual(new[] { 0.25f, -1.0f, 0.75f }, y.to(ScalarType.Float32).data<float>().ToArray());
        y.sum().backward();
        CollectionAssert.AreEqual(new[] { 1f, 1f, 0f }, x.grad!.to(ScalarType.Float32).data<float>().ToArray());
        Tensor empty = zeros(new long[] { 0, 3 }).requires_grad_(true);
        Tensor s3 = ones(3).requires_grad_(true);
        Tensor ye = QuantizationOps.fake_quantize(empty, s3, null, new QuantSpec(8, axis: 1));
        ye.sum().backward();
        CollectionAssert.AreEqual(new long[] { 0, 3 }, ye.shape);
        CollectionAssert.AreEqual(new[] { 0f, 0f, 0f }, s3.grad!.data<float>().ToArray());
    }

    [TestMethod]
    public void BadArguments_NameTheMemberParameterAndValue()
    {
        using var scope = NewDisposeScope();
        Tensor x = randn(4, 3);
        var spec = new QuantSpec(8);
        string M(Action a) => Assert.Throws<ArgumentException>(a).Message;
        StringAssert.Contains(M(() => QuantizationOps.fake_quantize(x, tensor(new[] { 0f }), null, spec)), "QuantizationOps.fake_quantize: scale must be finite and greater than 0; got 0.");
        StringAssert.Contains(M(() => QuantizationOps.fake_quantize(x, tensor(new[] { float.NaN }), null, spec)), "scale must be finite and greater than 0; got NaN.");
        StringAssert.Contains(M(() => QuantizationOps.fake_quantize(x, ones(2), null, spec)), "QuantizationOps.fake_quantize: scale has shape (2); expected one value.");
        StringAssert.Contains(M(() => QuantizationOps.fake_quantize(x, ones(4), null, spec.per_channel(1))), "scale has shape (4); expected (3).");
        StringAssert.Contains(M(() => QuantizationOps.fake_quantize(x, ones(1), ones(1), spec)), "spec is symmetric, so its zero point is fixed at 0");
        var affine = new QuantSpec(8, signed: false, symmetric: false);
        StringAssert.Contains(M(() => QuantizationOps.fake_quantize(x, ones(1), tensor(new[] { float.PositiveInfinity }), affine)), "zero_point must be finite; got Infinity.");
        StringAssert.Contains(M(() => QuantizationOps.fake_quantize(x, ones(1), null, spec.per_channel(2))), "QuantizationOps.fake_quantize: spec.axis = 2 is outside the 2 dimensions of x.");
        StringAssert.Contains(M(() => QuantizationOps.fake_quantize(x, ones(1), null, spec, grad_scale: 0)), "grad_scale");
        StringAssert.Contains(M(() => QuantizationOps.fake_quantize(x, ones(1), null, spec, steepness: -1)), "steepness");
        StringAssert.Contains(M(() => QuantizationOps.fake_quantize(x, ones(1), null, spec, rounding: RoundingGradient.SoftRound, steepness: 0)), "steepness must be finite and greater than 0; got 0");
        StringAssert.Contains(M(() => QuantizationOps.fake_quantize(x, ones(3, 1), null, spec.per_channel(1))), "QuantizationOps.fake_quantize: scale has shape (3, 1); expected (3).");
        StringAssert.Contains(M(() => QuantizationOps.fake_quantize(x, ones(1), null, spec, rounding: (RoundingGradient)7)), "rounding");
        StringAssert.Contains(M(() => QuantizationOps.fake_quantize(zeros(new long[] { 2 }, ScalarType.Int32), ones(1), null, spec)), "x has dtype Int32");
        StringAssert.Contains(M(() => QuantizationOps.fake_quantize(x, ones(new long[] { 1 }, ScalarType.Int32), null, spec)), "scale has dtype Int32");
        Assert.AreEqual("spec", Assert.Throws<ArgumentNullException>(() => QuantizationOps.fake_quantize(x, ones(1), null, null!)).ParamName);
        // A negative axis counts from the end.
        TensorAssert.Identical(QuantizationOps.fake_quantize(x, full(3, 0.1f), null, spec.per_channel(1)), QuantizationOps.fake_quantize(x, full(3, 0.1f), null, spec.per_channel(-1)));
    }

    [TestMethod]
    public void GradScale_DefaultsToLsqs()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(new[] { 3.3, -0.7, 20.0, 1.1, 0.4, -9.0 });
        var spec = new QuantSpec(4);
        Assert.AreEqual(1 / Math.Sqrt(6 * 7), QuantizationOps.lsq_grad_scale(6, spec), 1e-16);
        Tensor s1 = tensor(new[] { 0.5 }).requires_grad_(true), s2 = tensor(new[] { 0.5 }).requires_grad_(true);
        QuantizationOps.fake_quantize(x, s1, null, spec).sum().backward();
        QuantizationOps.fake_quantize(x, s2, null, spec, grad_scale: 1).sum().backward();
        Assert.AreEqual(s2.grad!.item<double>() / Math.Sqrt(42), s1.grad!.item<double>(), 1e-15);
        // Σ inside (y − x)/s: (3.5 − 3.3)/0.5 + (−0.5 + 0.7)/0.5 + (1 − 1.1)/0.5 + (0.5 − 0.4)/0.5 = 0.8; outside qmax − Z = 7
        // (x = 20) and qmin − Z = −8 (x = −9): −0.2 in all.
        Assert.AreEqual(-0.2, s2.grad!.item<double>(), 1e-12);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => QuantizationOps.lsq_grad_scale(0, spec));
    }

    [TestMethod]
    public void NoLeaks()
    {
        using var scope = NewDisposeScope();
        Tensor x = randn(64, 8).requires_grad_(true);
        Tensor s = full(8, 0.1f).requires_grad_(true);
        Tensor z = full(8, 3.0f).requires_grad_(true);
        var spec = new QuantSpec(4, signed: false, symmetric: false, axis: 1);
        void Step()
        {
            using var inner = NewDisposeScope();
            QuantizationOps.fake_quantize(x, s, z, spec, rounding: RoundingGradient.SoftRound).square().sum().backward();
            QuantizationOps.fake_quantize(x.detach(), tensor(0.1f), null, new QuantSpec(8));
        }
        Step();
        long before = LiveTensors.Count();
        for (int i = 0; i < 20; i++) Step();
        Assert.AreEqual(before, LiveTensors.Count());
    }

    [TestMethod]
    public void DefaultSteepness_IsFiveForSoftRound_AndTenForTheSigmoidRound_AndANegativeAxisMayBeTheFirst()
    {
        using var scope = NewDisposeScope();
        Tensor x = linspace(-2, 2, 41, ScalarType.Float64);
        var spec = new QuantSpec(4);
        Tensor Dx(RoundingGradient rounding, double? k)
        {
            Tensor leaf = x.clone().requires_grad_(true);
            QuantizationOps.fake_quantize(leaf, tensor(new[] { 0.3 }, ScalarType.Float64), null, spec, rounding: rounding, steepness: k).sum().backward();
            return leaf.grad!;
        }
        TensorAssert.Identical(Dx(RoundingGradient.SoftRound, 5), Dx(RoundingGradient.SoftRound, null));
        TensorAssert.Identical(Dx(RoundingGradient.DifferentiableRound, 10), Dx(RoundingGradient.DifferentiableRound, null));
        Assert.IsFalse(Dx(RoundingGradient.SoftRound, 4).eq(Dx(RoundingGradient.SoftRound, null)).all().item<bool>());
        Tensor m = randn(3, 4);
        TensorAssert.Identical(QuantizationOps.fake_quantize(m, full(3, 0.2f), null, spec.per_channel(0)), QuantizationOps.fake_quantize(m, full(3, 0.2f), null, spec.per_channel(-2)));
        Assert.AreEqual("spec", Assert.ThrowsExactly<ArgumentNullException>(() => QuantizationOps.lsq_grad_scale(4, null!)).ParamName);
        Assert.AreEqual(1 / Math.Sqrt(7), QuantizationOps.lsq_grad_scale(1, spec), 1e-16);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => QuantizationOps.lsq_grad_scale(0, spec)).Message, "QuantizationOps.lsq_grad_scale: numel must be ≥ 1; got 0.");
    }

    [TestMethod]
    public void SecondOrder_WithCreateGraph_DifferentiatesTheSurrogatesSlope_ByFiniteDifferences()
    {
        // With create_graph the backward pass runs in grad mode and takes the composite path, whose gradient is itself
        // differentiable: d²y/dx² = r″(u)/s inside the grid, 0 outside. u = x/s stays away from integers and grid edges.
        using var scope = NewDisposeScope();
        Tensor x = tensor(new[] { -2.3, -0.7, 0.2, 0.45, 1.3, 1.6, 3.9, -1.15 }, ScalarType.Float64);
        Tensor perTensorScale = tensor(0.5).requires_grad_(true);
        Tensor scales = full(8, 0.5, ScalarType.Float64).requires_grad_(true);
        Tensor zeros = full(8, 3.2, ScalarType.Float64).requires_grad_(true);
        foreach (RoundingGradient rounding in new[] { RoundingGradient.SoftRound, RoundingGradient.DifferentiableRound })
        {
            // Per tensor with a 0-dim learned scale and the symmetric grid [−4, 3].
            GradCheck.AssertSecondOrder(xs => QuantizationOps.fake_quantize(xs[0], perTensorScale, null, new QuantSpec(3), rounding: rounding, steepness: 3), x);
            // Per channel along the only axis of a 1-dim x, learned scales and zero points (Z = 3, grid [0, 7]).
            var affine = new QuantSpec(3, signed: false, symmetric: false, axis: 0);
            GradCheck.AssertSecondOrder(xs => QuantizationOps.fake_quantize(xs[0], scales, zeros, affine, rounding: rounding, steepness: 3), x);
        }
    }

    [TestMethod]
    public void IncomingGradient_NonContiguous_IsReadInLogicalOrder()
    {
        using var scope = NewDisposeScope();
        Tensor x = (arange(12, ScalarType.Float32).reshape(3, 4) * 0.4f - 2.5f).requires_grad_(true);
        Tensor w = arange(12, ScalarType.Float32).reshape(4, 3) + 1;
        Tensor y = QuantizationOps.fake_quantize(x, tensor(0.25f), null, new QuantSpec(4));
        // The gradient reaching fake_quantize is w.t(), a transposed view.
        (y.t() * w).sum().backward();
        Tensor code = (x.detach() * 4).round();
        Tensor inside = code.ge(-8).logical_and(code.le(7));
        Assert.IsTrue(inside.any().item<bool>() && !inside.all().item<bool>());
        TensorAssert.Identical(where(inside, w.t(), zeros_like(x)), x.grad!);
    }

    [TestMethod]
    public void PerChannel_UniformIncomingGradient_EqualsTheSameGradientInMemory_EverySurrogate()
    {
        // y.sum() hands backward a stride-0 gradient, read as one value; y·1 hands it a real tensor of ones.
        using var scope = NewDisposeScope();
        Tensor x = randn(new long[] { 4, 3, 50 }, generator: new Generator(11)) * 2;
        var spec = new QuantSpec(4, signed: false, symmetric: false, axis: 1);
        foreach (RoundingGradient rounding in Enum.GetValues<RoundingGradient>())
        foreach (bool learnX in new[] { true, false })
        {
            Tensor?[] Run(bool uniform)
            {
                Tensor leaf = x.clone().requires_grad_(learnX);
                Tensor s = tensor(new[] { 0.3f, 0.2f, 0.45f }).requires_grad_(true), z = tensor(new[] { 1.4f, 3f, 7.6f }).requires_grad_(true);
                Tensor y = QuantizationOps.fake_quantize(leaf, s, z, spec, rounding: rounding);
                (uniform ? y.sum() : (y * ones_like(y)).sum()).backward();
                return new[] { leaf.grad, s.grad, z.grad };
            }
            Tensor?[] uniformGrads = Run(true), inMemory = Run(false);
            Assert.AreEqual(learnX, uniformGrads[0] is not null);
            for (int i = learnX ? 0 : 1; i < 3; i++) TensorAssert.Identical(inMemory[i]!, uniformGrads[i]!);
        }
    }

    [TestMethod]
    public void Float32Input_Float64Scale_ZeroPointGradientUsesTheScaleRoundedToFloat32()
    {
        // The grid is computed in x's dtype, so s = 0.1 acts as float32's 0.100000001490116…; outside the grid dy/dz = −s.
        using var scope = NewDisposeScope();
        Tensor x = tensor(new[] { -5f, 7f, 0.5f });
        Tensor s = tensor(new[] { 0.1 }).requires_grad_(true), z = tensor(new[] { 2.0 }).requires_grad_(true);
        QuantizationOps.fake_quantize(x, s, z, new QuantSpec(4, signed: false, symmetric: false), grad_scale: 1).sum().backward();
        Assert.AreEqual(-2 * (double)0.1f, z.grad!.item<double>());
        Assert.AreNotEqual(-2 * 0.1, z.grad!.item<double>());
    }
}
