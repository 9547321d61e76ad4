using System;
using SoftRound.Tf.Internals;
using TorchSharp;
using static TorchSharp.torch;
using static SoftRound.Tf.Internals.KeptScalars;

namespace SoftRound.Tf.Quantization;

/// <summary>The functional ops of quantization-aware training.</summary>
public static partial class QuantizationOps
{
    private const string FakeQuantizeName = "QuantizationOps.fake_quantize";

    /// <summary>
    /// Fake quantization with learnable scale and zero point:
    /// y = (clamp(round(x·(1/s)) + Z, qmin, qmax) − Z)·s with Z = clamp(round(z), qmin, qmax), per tensor or per
    /// channel along <see cref="QuantSpec.axis"/>; round is half to even and 1/s is rounded to x's dtype, as in
    /// PyTorch's <c>_fake_quantize_learnable_per_tensor_affine</c> / <c>_per_channel_affine</c>.
    /// </summary>
    /// <remarks>
    /// Gradients (PyTorch's formulas, LSQ and LSQ+): with u = x·(1/s), q = round(u) + Z and r′ the rounding surrogate's
    /// slope at u (1 for <see cref="RoundingGradient.StraightThrough"/>):
    /// inside the grid (qmin ≤ q ≤ qmax) dy/dx = r′, dy/ds = (y − x·r′)/s, dy/dz = 0;
    /// outside dy/dx = 0, dy/ds = qmin − Z or qmax − Z, dy/dz = −s.
    /// The scale's and zero point's gradients are summed over their elements (per channel: over all but the axis) and
    /// multiplied by g = <paramref name="grad_scale"/>, by default LSQ's 1/√(N·qmax) with N = x.numel() (PyTorch's
    /// choice, also per channel). Both passes use the same q, so the gradient's mask is the forward's clamping.
    /// Differences from PyTorch (tested against its own numbers): PyTorch's backward pass and its per-channel forward
    /// compute round(Z + x·(1/s)), which its x86 builds fuse into one multiply-add, so near a tie with Z ≠ 0 (within an
    /// ulp) they can pick the other integer than its per-tensor forward and its quantize op, whose rule this is; its
    /// backward also takes Z as ⌊z + ½⌋ truncated toward zero, which differs from round(z) at ties and for z &lt; −½.
    /// float64 x keeps s in float64 (PyTorch reads it as float32); NaN gives NaN (PyTorch's cast to int64 gives qmin
    /// or qmax); +∞ and values past int64 (1e20, 3e38) give qmax's value, where PyTorch's overflowing cast gives qmin's. float16 and bfloat16 are computed in float32. CPU tensors take a fused kernel.
    /// </remarks>
    /// <param name="x">The input; floating point.</param>
    /// <param name="scale">s: one value per tensor (any shape with one element), or per channel a 1-dim tensor of x.shape[axis] values; finite and &gt; 0.</param>
    /// <param name="zero_point">z, of the scale's shape and finite, for an affine spec; null for Z = <see cref="QuantSpec.symmetric_zero_point"/>.</param>
    /// <param name="spec">The grid and the axis.</param>
    /// <param name="grad_scale">g; finite and &gt; 0; null for 1/√(N·qmax).</param>
    /// <param name="rounding">The rounding's backward pass.</param>
    /// <param name="steepness">α for <see cref="RoundingGradient.SoftRound"/> (default 5), k for <see cref="RoundingGradient.DifferentiableRound"/> (default 10); finite and &gt; 0.</param>
    /// <returns>A new tensor of x's shape and dtype.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="x"/>, <paramref name="scale"/> or <paramref name="spec"/> is null.</exception>
    /// <exception cref="ArgumentException">A tensor is not floating point, the scale or zero point has the wrong number of values or is on another device, or a zero point is given for a symmetric spec.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The axis is outside x's dimensions; an entry of the scale is not finite and &gt; 0 or of the zero point not finite; <paramref name="grad_scale"/> or <paramref name="steepness"/> is not finite and &gt; 0; <paramref name="rounding"/> is undefined.</exception>
    public static Tensor fake_quantize(Tensor x, Tensor scale, Tensor? zero_point, QuantSpec spec, double? grad_scale = null,
        RoundingGradient rounding = RoundingGradient.StraightThrough, double? steepness = null)
    {
        const string op = FakeQuantizeName;
        OpGuard.FloatingPoint(op, nameof(x), x);
        ArgumentNullException.ThrowIfNull(spec, nameof(spec));
        int? axis = Axis(op, x, spec);
        long values = axis is int a ? x.shape[a] : 1;
        CheckQuantizerTensor(op, nameof(scale), scale, x, values, positive: true);
        if (zero_point is not null)
        {
            if (spec.symmetric)
            {
                throw new ArgumentException($"{op}: spec is symmetric, so its zero point is fixed at {spec.symmetric_zero_point}; pass zero_point = null or an affine spec.", nameof(zero_point));
            }
            CheckQuantizerTensor(op, nameof(zero_point), zero_point, x, values, positive: false);
        }
        OpGuard.Defined(op, nameof(rounding), rounding);
        double k = steepness ?? (rounding == RoundingGradient.DifferentiableRound ? 10 : 5);
        OpGuard.Steepness(op, nameof(steepness), k, allowZero: false);
        double g = grad_scale ?? (x.numel() == 0 ? 1 : 1 / Math.Sqrt((double)x.numel() * spec.qmax));
        OpGuard.Steepness(op, nameof(grad_scale), g, allowZero: false);
        var settings = new FakeQuantizeFunction.Settings(spec.qmin, spec.qmax, axis, g, rounding, k);
        return ComputeDtype.Run(x, null, (xc, _) =>
        {
            using var scope = NewDisposeScope();
            using Scalar symmetricZero = ((double)spec.symmetric_zero_point).ToScalar();
            Tensor z = zero_point ?? full(scale.shape, symmetricZero, scale.dtype, scale.device);
            Tensor y = is_grad_enabled() && (xc.requires_grad || scale.requires_grad || z.requires_grad)
                ? FakeQuantizeFunction.apply(xc, scale, z, settings)
                : FakeQuantizeFunction.Value(xc, scale, z, settings);
            return y.MoveToOuterDisposeScope();
        });
    }

    /// <summary>LSQ's gradient scale 1/√(N·qmax) for a tensor of <paramref name="numel"/> elements.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numel"/> &lt; 1.</exception>
    public static double lsq_grad_scale(long numel, QuantSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec, nameof(spec));
        if (numel < 1) throw new ArgumentOutOfRangeException(nameof(numel), numel, $"QuantizationOps.lsq_grad_scale: numel must be ≥ 1; got {numel}.");
        return 1 / Math.Sqrt((double)numel * spec.qmax);
    }

    /// <summary>The spec's axis as a non-negative dimension of x, or null per tensor; throws when it is outside x's dimensions.</summary>
    internal static int? Axis(string op, Tensor x, QuantSpec spec)
    {
        if (spec.axis is not int a) return null;
        long dims = x.dim();
        if (a < -dims || a >= dims)
        {
            throw new ArgumentOutOfRangeException(nameof(spec), a, $"{op}: spec.axis = {a} is outside the {dims} dimensions of x.");
        }
        return a < 0 ? (int)(a + dims) : a;
    }

    private static void CheckQuantizerTensor(string op, string param, Tensor t, Tensor x, long values, bool positive)
    {
        OpGuard.FloatingPoint(op, param, t);
        if (t.numel() != values || (values > 1 && t.dim() != 1))
        {
            throw new ArgumentException($"{op}: {param} has shape ({string.Join(", ", t.shape)}); expected {(values == 1 ? "one value" : $"({values})")}.", param);
        }
        if (t.device_type != x.device_type || t.device_index != x.device_index)
        {
            throw new ArgumentException($"{op}: {param} is on {t.device}, x on {x.device}.", param);
        }
        // Read on the CPU only: on another device that would synchronise it on every call (OpGuard's rule).
        if (t.device_type == DeviceType.CPU) OpGuard.Values(op, param, Scalars.Values(t), positive);
    }
}
