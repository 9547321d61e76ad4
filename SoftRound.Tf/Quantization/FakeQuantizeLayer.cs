using System;
using SoftRound.Tf.Internals;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static SoftRound.Tf.Internals.KeptScalars;

namespace SoftRound.Tf.Quantization;

/// <summary>
/// A layer that applies <see cref="QuantizationOps.fake_quantize"/>: y = (clamp(round(x/s) + Z, qmin, qmax) − Z)·s
/// with a learned (LSQ) or observed scale s and zero point z, per tensor or per channel (PyTorch's
/// <c>_LearnableFakeQuantize</c> and <c>FakeQuantize</c>, Brevitas's quantizers, TF-MOT's quantize wrappers).
/// </summary>
/// <remarks>
/// <para>A learned scale (and zero point) starts from the observer's proposal for the first training batch, then
/// follows its gradient; it is kept at least 1.19e−7 (float32's epsilon, PyTorch's floor). A fixed scale follows the
/// observer on every training batch. In eval mode observers are frozen. Before any training batch the layer has no
/// scale, and eval throws.</para>
/// <para><see cref="observer_enabled"/> and <see cref="fake_quant_enabled"/> switch the two halves off, as PyTorch's
/// <c>disable_observer</c> / <c>disable_fake_quant</c> do: for post-training calibration run training-mode batches
/// with fake quantization off and a fixed scale, then switch it on.</para>
/// </remarks>
public sealed class FakeQuantizeLayer : nn.Module<Tensor, Tensor>
{
    private const string ScaleKey = "scale", ZeroKey = "zero_point", InitKey = "initialized";
    private const double MinScale = 1.1920928955078125e-7;

    /// <summary>Creates the layer.</summary>
    /// <param name="spec">The grid and axis.</param>
    /// <param name="channels">The number of channels along the spec's axis; 1 per tensor.</param>
    /// <param name="learnScale">Learn s (LSQ) rather than take it from the observer on every batch.</param>
    /// <param name="learnZeroPoint">Learn z (LSQ+); only for an affine spec.</param>
    /// <param name="observer">What proposes s and z: by default <see cref="LsqObserver"/> for a learned scale, <see cref="MovingAverageMinMaxObserver"/> otherwise.</param>
    /// <param name="rounding">The rounding's backward pass.</param>
    /// <param name="steepness">The surrogate's α or k (see <see cref="QuantizationOps.fake_quantize"/>).</param>
    /// <param name="gradScale">g for s and z; null for LSQ's 1/√(N·qmax).</param>
    /// <exception cref="ArgumentNullException"><paramref name="spec"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="channels"/> is &lt; 1, or not 1 for a per-tensor spec; <paramref name="rounding"/> is undefined; <paramref name="steepness"/> or <paramref name="gradScale"/> is not finite and &gt; 0.</exception>
    /// <exception cref="ArgumentException"><paramref name="learnZeroPoint"/> with a symmetric spec.</exception>
    public FakeQuantizeLayer(QuantSpec spec, long channels = 1, bool learnScale = true, bool learnZeroPoint = false, QuantObserver? observer = null,
        RoundingGradient rounding = RoundingGradient.StraightThrough, double? steepness = null, double? gradScale = null) : base(nameof(FakeQuantizeLayer))
    {
        const string name = nameof(FakeQuantizeLayer);
        ArgumentNullException.ThrowIfNull(spec, nameof(spec));
        if (channels < 1 || (spec.axis is null && channels != 1))
        {
            throw new ArgumentOutOfRangeException(nameof(channels), channels, $"{name}: channels must be ≥ 1, and 1 for a per-tensor spec; got {channels} for {spec}.");
        }
        if (learnZeroPoint && spec.symmetric)
        {
            throw new ArgumentException($"{name}: learnZeroPoint needs an affine spec; {spec} fixes its zero point.", nameof(learnZeroPoint));
        }
        OpGuard.Defined(name, nameof(rounding), rounding);
        if (steepness is double k) OpGuard.Steepness(name, nameof(steepness), k, allowZero: false);
        if (gradScale is double g) OpGuard.Steepness(name, nameof(gradScale), g, allowZero: false);
        this.spec = spec;
        this.channels = channels;
        this.rounding = rounding;
        this.steepness = steepness;
        grad_scale = gradScale;
        this.observer = observer ?? (learnScale ? new LsqObserver() : new MovingAverageMinMaxObserver());
        Tensor scale = ones(channels);
        if (learnScale) register_parameter(ScaleKey, new Parameter(scale));
        else register_buffer(ScaleKey, scale);
        if (!spec.symmetric)
        {
            using Scalar symmetricZero = ((double)spec.symmetric_zero_point).ToScalar();
            Tensor zero = full(channels, symmetricZero);
            if (learnZeroPoint) register_parameter(ZeroKey, new Parameter(zero));
            else register_buffer(ZeroKey, zero);
        }
        register_buffer(InitKey, zeros(1));
    }

    /// <summary>The grid and axis.</summary>
    public QuantSpec spec { get; }

    /// <summary>The number of scales (1 per tensor).</summary>
    public long channels { get; }

    /// <summary>The rounding's backward pass.</summary>
    public RoundingGradient rounding { get; }

    /// <summary>The surrogate's steepness, or null for its default.</summary>
    public double? steepness { get; }

    /// <summary>g, or null for LSQ's.</summary>
    public double? grad_scale { get; }

    /// <summary>What proposes s and z.</summary>
    public QuantObserver observer { get; }

    /// <summary>Whether training batches reach the observer.</summary>
    public bool observer_enabled { get; set; } = true;

    /// <summary>Whether the layer quantizes; when off it returns its input.</summary>
    public bool fake_quant_enabled { get; set; } = true;

    /// <summary>Whether s is a learned parameter.</summary>
    public bool learns_scale => get_parameter(ScaleKey) is not null;

    /// <summary>Whether z is a learned parameter.</summary>
    public bool learns_zero_point => get_parameter(ZeroKey) is not null;

    /// <summary>s: (channels) values.</summary>
    public Tensor scale => get_parameter(ScaleKey) ?? get_buffer(ScaleKey)!;

    /// <summary>z: (channels) values, or null for a symmetric spec (Z fixed at <see cref="QuantSpec.symmetric_zero_point"/>).</summary>
    public Tensor? zero_point => get_parameter(ZeroKey) ?? get_buffer(ZeroKey);

    /// <summary>Whether s (and z) have been set from the observer.</summary>
    public bool is_initialized
    {
        get
        {
            using var scope = NewDisposeScope();
            return get_buffer(InitKey)!.item<float>() != 0;
        }
    }

    /// <summary>
    /// Training: the observer takes x (every batch for an observed scale, the first for a learned one) and sets s and z;
    /// then, as in eval, y = fake_quantize(x, s, z), or x itself when <see cref="fake_quant_enabled"/> is off.
    /// </summary>
    /// <exception cref="InvalidOperationException">Eval (or observers disabled) before s was ever set.</exception>
    /// <exception cref="ArgumentException">As <see cref="QuantizationOps.fake_quantize"/> and <see cref="QuantObserver.observe"/>.</exception>
    public override Tensor forward(Tensor x)
    {
        OpGuard.FloatingPoint(GetName() + ".forward", nameof(x), x);
        bool initialized = is_initialized;
        if (training && observer_enabled && (!learns_scale || !initialized))
        {
            Observe(x);
            initialized = true;
        }
        if (!fake_quant_enabled) return x.alias();
        if (!initialized)
        {
            throw new InvalidOperationException($"{GetName()}.forward: the scale has not been set; run a training batch with the observer enabled first.");
        }
        using (no_grad()) scale.clamp_(min: S(MinScale));
        return QuantizationOps.fake_quantize(x, scale, spec.symmetric ? null : zero_point, spec, grad_scale, rounding, steepness);
    }

    /// <summary>Lets the observer take x and sets s and z from it.</summary>
    private void Observe(Tensor x)
    {
        observer.observe(x, spec);
        (Tensor s, Tensor z) = observer.calculate_qparams(spec);
        using (s)
        using (z)
        using (no_grad())
        {
            scale.copy_(s.reshape(channels));
            zero_point?.copy_(z.reshape(channels));
            get_buffer(InitKey)!.fill_(S(1));
        }
    }
}
