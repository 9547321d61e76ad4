using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using SoftRound.Tf.Internals.Formulas;
using SoftRound.Tf.Kernels;
using SoftRound.Tf.Quantization;
using TorchSharp;
using static TorchSharp.torch;
using static SoftRound.Tf.Internals.KeptScalars;

namespace SoftRound.Tf.Internals;

/// <summary>
/// The autograd function of <see cref="QuantizationOps.fake_quantize"/>, called as <c>apply(x, scale, zero_point,
/// settings)</c> with validated arguments in float32 or float64 (the zero point always given, as the caller fills in a
/// symmetric spec's): y = (clamp(round(x·(1/s)) + Z, qmin, qmax) − Z)·s
/// with Z = clamp(round(z), qmin, qmax); the gradients of <see cref="FakeQuantizeKernel"/> (PyTorch's learnable
/// fake-quantize formulas), scaled by the settings' gradient scale for s and z.
/// </summary>
/// <remarks>
/// CPU tensors go through the fused kernel, others through the same formula composed from torch ops
/// (<see cref="CompositeValue"/>, <see cref="CompositeGradients"/>), which is also the benchmark's baseline.
/// </remarks>
internal sealed unsafe class FakeQuantizeFunction : autograd.SingleTensorFunction<FakeQuantizeFunction>
{
    /// <summary>What the function needs besides its tensors.</summary>
    internal sealed record Settings(int QMin, int QMax, int? Axis, double GradScale, RoundingGradient Rounding, double Steepness);

    private const string Key = "settings", NeedKey = "need";

    /// <inheritdoc />
    public override string Name => "FakeQuantize";

    /// <summary>y without an autograd node.</summary>
    public static Tensor Value(Tensor x, Tensor scale, Tensor zeroPoint, Settings s)
    {
        if (x.device_type != DeviceType.CPU) return CompositeValue(x, scale, zeroPoint, s);
        using var scope = NewDisposeScope();
        Tensor input = x.contiguous();
        Tensor y = empty_like(input);
        (double[] scales, int[] zeros) = Grids(scale, zeroPoint, s);
        (long outer, long channels, long inner) = Layout(input, s.Axis);
        if (x.dtype == ScalarType.Float32) ForwardBlocks<float>(input, y, outer, channels, inner, scales, zeros, s);
        else ForwardBlocks<double>(input, y, outer, channels, inner, scales, zeros, s);
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>(dx, ds, dz) for incoming gradient <paramref name="grad"/>; each null when not asked for.</summary>
    public static (Tensor? dx, Tensor? ds, Tensor? dz) Gradients(Tensor x, Tensor scale, Tensor zeroPoint, Tensor grad, Settings s, bool needX, bool needScale, bool needZero)
    {
        if (x.device_type != DeviceType.CPU || is_grad_enabled()) return CompositeGradients(x, scale, zeroPoint, grad, s, needX, needScale, needZero);
        using var scope = NewDisposeScope();
        Tensor input = x.contiguous();
        (long outer, long channels, long inner) = Layout(input, s.Axis);
        bool uniform = grad.numel() == input.numel() && input.numel() > 0 && Array.TrueForAll(grad.stride(), st => st == 0);
        Tensor g = uniform ? grad : grad.to(x.dtype).expand(x.shape).contiguous();
        double gradValue = uniform ? Scalars.First(grad) : 0;
        Tensor? dx = needX ? empty_like(input) : null;
        (double[] scales, int[] zeros) = Grids(scale, zeroPoint, s);
        var scaleSums = new double[channels];
        var zeroSums = new double[channels];
        if (x.dtype == ScalarType.Float32) BackwardBlocks<float>(input, uniform ? null : g, gradValue, dx, outer, channels, inner, scales, zeros, s, scaleSums, zeroSums, needScale, needZero);
        else BackwardBlocks<double>(input, uniform ? null : g, gradValue, dx, outer, channels, inner, scales, zeros, s, scaleSums, zeroSums, needScale, needZero);
        Tensor? ds = null, dz = null;
        if (needScale)
        {
            for (int c = 0; c < channels; c++) scaleSums[c] *= s.GradScale;
            ds = Like(scaleSums, scale);
        }
        if (needZero)
        {
            for (int c = 0; c < channels; c++) zeroSums[c] *= -(x.dtype == ScalarType.Float32 ? (float)scales[c] : scales[c]) * s.GradScale;
            dz = Like(zeroSums, zeroPoint);
        }
        return (dx?.MoveToOuterDisposeScope(), ds?.MoveToOuterDisposeScope(), dz?.MoveToOuterDisposeScope());
    }

    /// <summary>y composed from torch ops, in the kernel's order of operations.</summary>
    public static Tensor CompositeValue(Tensor x, Tensor scale, Tensor zeroPoint, Settings s)
    {
        using var scope = NewDisposeScope();
        (Tensor sc, Tensor inverse, Tensor z) = CompositeGrid(x, scale, zeroPoint, s);
        Tensor q = (x * inverse).round().add(z, One);
        using Scalar qMin = s.QMin.ToScalar(), qMax = s.QMax.ToScalar();
        Tensor y = (q.clamp(qMin, qMax) - z) * sc;
        return where(x.isnan(), x, y).MoveToOuterDisposeScope();
    }

    /// <summary>(dx, ds, dz) composed from torch ops; differentiable, so it also serves <c>create_graph</c>.</summary>
    public static (Tensor? dx, Tensor? ds, Tensor? dz) CompositeGradients(Tensor x, Tensor scale, Tensor zeroPoint, Tensor grad, Settings s, bool needX, bool needScale, bool needZero)
    {
        using var scope = NewDisposeScope();
        (Tensor sc, Tensor inverse, Tensor z) = CompositeGrid(x, scale, zeroPoint, s);
        Tensor u = x * inverse;
        Tensor q = u.round().add(z, One);
        using Scalar qMin = s.QMin.ToScalar(), qMax = s.QMax.ToScalar(), gradScale = s.GradScale.ToScalar();
        Tensor inside = q.ge(qMin).logical_and(q.le(qMax));
        Tensor slope = Slope(u, s);
        Tensor? dx = needX ? grad * where(inside, slope, zeros_like(slope)) : null;
        Tensor? ds = null, dz = null;
        if (needScale)
        {
            Tensor y = (q - z) * sc;
            Tensor outsideTerm = grad * where(q.lt(qMin), z.neg().add(qMin, One), z.neg().add(qMax, One));
            Tensor terms = where(inside, grad * (y - x * slope) * inverse, outsideTerm);
            ds = PerChannelSum(terms, s).reshape(scale.shape).to(scale.dtype) * gradScale;
        }
        if (needZero)
        {
            Tensor terms = where(inside, zeros_like(grad), grad);
            dz = (PerChannelSum(terms, s) * sc.flatten().neg()).reshape(zeroPoint.shape).to(zeroPoint.dtype) * gradScale;
        }
        return (dx?.MoveToOuterDisposeScope(), ds?.MoveToOuterDisposeScope(), dz?.MoveToOuterDisposeScope());
    }

    /// <inheritdoc />
    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        ctx.set_materialize_grads(false);
        var x = (Tensor)vars[0];
        var scale = (Tensor)vars[1];
        var zeroPoint = (Tensor)vars[2];
        var s = (Settings)vars[3];
        ctx.save_for_backward(new List<Tensor> { x, scale, zeroPoint });
        ctx.save_data(Key, s);
        ctx.save_data(NeedKey, new[] { x.requires_grad, scale.requires_grad, zeroPoint.requires_grad });
        return Value(x, scale, zeroPoint, s);
    }

    /// <inheritdoc />
    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        if (grad_output.IsInvalid) return UndefinedGradients.For(4);
        List<Tensor> saved = ctx.get_saved_variables();
        var s = (Settings)ctx.get_data(Key);
        var need = (bool[])ctx.get_data(NeedKey);
        (Tensor? dx, Tensor? ds, Tensor? dz) = Gradients(saved[0], saved[1], saved[2], grad_output, s, need[0], need[1], need[2]);
        return new List<Tensor> { dx!, ds!, dz!, null! };
    }

    /// <summary>A tensor of <paramref name="like"/>'s shape and dtype holding <paramref name="sums"/>, made by one libtorch call for float32 and float64.</summary>
    private static Tensor Like(double[] sums, Tensor like) => like.dtype switch
    {
        ScalarType.Float32 => tensor(Array.ConvertAll(sums, v => (float)v), like.shape),
        ScalarType.Float64 => tensor(sums, like.shape),
        _ => tensor(sums, like.shape).to(like.dtype),
    };

    /// <summary>Each channel's scale as a double and its integer zero point Z = clamp(round(z), qmin, qmax).</summary>
    private static (double[] scales, int[] zeros) Grids(Tensor scale, Tensor zeroPoint, Settings s)
    {
        double[] scales = Scalars.Values(scale);
        double[] z = Scalars.Values(zeroPoint);
        var zeros = new int[scales.Length];
        for (int c = 0; c < zeros.Length; c++) zeros[c] = (int)Math.Clamp(Math.Round(z[c], MidpointRounding.ToEven), s.QMin, s.QMax);
        return (scales, zeros);
    }

    private static (long outer, long channels, long inner) Layout(Tensor x, int? axis)
    {
        if (axis is not int a) return (1, 1, x.numel());
        long outer = 1, inner = 1;
        for (int d = 0; d < a; d++) outer *= x.shape[d];
        for (int d = a + 1; d < x.dim(); d++) inner *= x.shape[d];
        return (outer, x.shape[a], inner);
    }

    private static void ForwardBlocks<T>(Tensor x, Tensor y, long outer, long channels, long inner, double[] scales, int[] zeros, Settings s)
        where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T>
    {
        if (x.numel() == 0) return;
        T* xp = Pointer<T>(x), yp = Pointer<T>(y);
        for (long o = 0; o < outer; o++)
        {
            for (long c = 0; c < channels; c++)
            {
                long at = (o * channels + c) * inner;
                FakeQuantizeKernel.Forward(xp + at, yp + at, inner, new FakeQuantizeKernel.Grid<T>(scales[c], zeros[c], s.QMin, s.QMax));
            }
        }
    }

    private static void BackwardBlocks<T>(Tensor x, Tensor? grad, double gradValue, Tensor? dx, long outer, long channels, long inner,
        double[] scales, int[] zeros, Settings s, double[] scaleSums, double[] zeroSums, bool wantScale, bool wantZero)
        where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T>
    {
        if (x.numel() == 0) return;
        T* xp = Pointer<T>(x), gp = grad is null ? null : Pointer<T>(grad), dxp = dx is null ? null : Pointer<T>(dx);
        for (long o = 0; o < outer; o++)
        {
            for (long c = 0; c < channels; c++)
            {
                long at = (o * channels + c) * inner;
                var grid = new FakeQuantizeKernel.Grid<T>(scales[c], zeros[c], s.QMin, s.QMax);
                (double a, double b) = s.Rounding switch
                {
                    RoundingGradient.SoftRound => FakeQuantizeKernel.Backward(xp + at, gp == null ? null : gp + at, gradValue, dxp == null ? null : dxp + at, inner, grid, new SteSoftRoundKernel(s.Steepness), wantScale, wantZero),
                    RoundingGradient.DifferentiableRound => FakeQuantizeKernel.Backward(xp + at, gp == null ? null : gp + at, gradValue, dxp == null ? null : dxp + at, inner, grid, new DifferentiableRoundKernel(s.Steepness), wantScale, wantZero),
                    _ => FakeQuantizeKernel.Backward(xp + at, gp == null ? null : gp + at, gradValue, dxp == null ? null : dxp + at, inner, grid, new RoundStKernel(null), wantScale, wantZero),
                };
                scaleSums[c] += a;
                zeroSums[c] += b;
            }
        }
    }

    private static T* Pointer<T>(Tensor t) where T : unmanaged => (T*)Unsafe.AsPointer(ref t.bytes.GetPinnableReference());

    /// <summary>The scale (rounded to x's dtype), its reciprocal in x's dtype and Z, each shaped to broadcast along the axis.</summary>
    private static (Tensor scale, Tensor inverse, Tensor zero) CompositeGrid(Tensor x, Tensor scale, Tensor zeroPoint, Settings s)
    {
        Tensor sc = PerChannelView(scale.to(x.dtype), x, s);
        Tensor inverse = sc.reciprocal();
        using Scalar qMin = s.QMin.ToScalar(), qMax = s.QMax.ToScalar();
        Tensor z = PerChannelView(zeroPoint.to(x.dtype).round().clamp(qMin, qMax), x, s);
        return (sc.detach(), inverse.detach(), z.detach());
    }

    private static Tensor PerChannelView(Tensor v, Tensor x, Settings s)
    {
        if (s.Axis is not int a) return v.reshape(Array.Empty<long>());
        var shape = new long[x.dim()];
        Array.Fill(shape, 1L);
        shape[a] = x.shape[a];
        return v.reshape(shape);
    }

    private static Tensor PerChannelSum(Tensor terms, Settings s)
    {
        Tensor t = terms.to(ScalarType.Float64);
        if (s.Axis is not int a) return t.sum();
        var dims = new List<long>();
        for (long d = 0; d < terms.dim(); d++) if (d != a) dims.Add(d);
        return dims.Count == 0 ? t : t.sum(dims.ToArray());
    }

    private static Tensor Slope(Tensor u, Settings s) => s.Rounding switch
    {
        RoundingGradient.SoftRound => SoftRoundFormula.Partials(u, tensor(s.Steepness, u.dtype, u.device), true, false).dx!,
        RoundingGradient.DifferentiableRound => DifferentiableRoundFormula.Partials(u, tensor(s.Steepness, u.dtype, u.device), true, false).dx!,
        _ => ones_like(u),
    };
}
