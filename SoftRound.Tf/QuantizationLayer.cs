using System;
using SoftRound.Tf.Internals;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static SoftRound.Tf.Internals.KeptScalars;

namespace SoftRound.Tf;

/// <summary>
/// The quantizer of learned-compression models. With a centre c (per-call means, else the offset o, else 0) and a step
/// size Δ (default 1), it computes t = (x − c)/Δ and in eval mode (<c>eval()</c>) y = round(t)·Δ + c with the gradient
/// passed straight through to x; in training mode (<c>train()</c>) it applies its <see cref="QuantizationMode"/> to t.
/// </summary>
/// <remarks>
/// <para>
/// The offset o is optional: a fixed buffer or a learned parameter named <c>offset</c> (a 0-dim tensor or one that
/// broadcasts to the input, such as one per channel), or a live tensor owned elsewhere and read at every call
/// (<see cref="bind_offset"/>), as CompressAI's <c>EntropyBottleneck</c> reads its medians. Means given to a call take
/// the place of the offset for that call (CompressAI's <c>GaussianConditional</c>); a step size given to a call takes
/// the place of <see cref="step_size"/> (variable-rate models).
/// </para>
/// <para>
/// The centre gets a gradient in the soft-round modes (dy/dc = 1 − soft_round'(t)); rounding with a straight-through
/// gradient gives it 0, as tensorflow_compression's <c>round_st</c> does. The eval-mode gradient for x is 1, where
/// CompressAI's "dequantize" mode (a plain <c>torch.round</c>) gives 0. The steepness α of the soft-round modes is
/// stored as <c>log_alpha</c> and can follow a <see cref="SteepnessSchedule"/>. <see cref="symbols"/> gives the integer
/// symbols an entropy coder needs, and <see cref="dequantize"/> maps them back to the eval output bit for bit.
/// </para>
/// </remarks>
public sealed class QuantizationLayer : SoftRoundFamilyLayer
{
    private const string Name = nameof(QuantizationLayer);
    private const string OffsetKey = "offset";
    private QuantizationMode trainingMode;
    private double step = 1;
    private Func<Tensor>? offsetSource;

    /// <summary>Creates the quantizer.</summary>
    /// <param name="mode">What to do in training mode.</param>
    /// <param name="alpha">The steepness α of the soft-round modes; finite and ≥ 0.</param>
    /// <param name="offset">An optional offset o of finite values (copied); with <paramref name="learnOffset"/> and no offset, a learned 0-dim zero.</param>
    /// <param name="learnOffset">Whether the offset is a learned parameter.</param>
    /// <param name="stepSize">The quantization step Δ; finite and &gt; 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="mode"/> is not defined, <paramref name="alpha"/> is not finite and ≥ 0, an offset entry is not
    /// finite, or <paramref name="stepSize"/> is not finite and &gt; 0.
    /// </exception>
    /// <exception cref="ArgumentException"><paramref name="offset"/> is not a floating-point tensor.</exception>
    public QuantizationLayer(QuantizationMode mode = QuantizationMode.UniformNoise, double alpha = 5.0, Tensor? offset = null,
        bool learnOffset = false, double stepSize = 1.0)
        : base(Name, alpha, trainable: false)
    {
        OpGuard.Defined(Name, nameof(mode), mode);
        OpGuard.Steepness(Name, nameof(stepSize), stepSize, allowZero: false);
        if (offset is not null) OpGuard.Finite(Name, nameof(offset), offset, offset);
        trainingMode = mode;
        step = stepSize;
        Tensor? initial = offset?.detach().clone() ?? (learnOffset ? zeros(Array.Empty<long>()) : null);
        if (initial is null) return;
        this.offset = learnOffset ? new Parameter(initial) : initial;
    }

    /// <summary>What the layer does in training mode.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value set is not a defined <see cref="QuantizationMode"/>.</exception>
    public QuantizationMode mode
    {
        get => trainingMode;
        set
        {
            OpGuard.Defined(Name, nameof(mode), value);
            trainingMode = value;
        }
    }

    /// <summary>The step size Δ used when a call gives none; 1 by default. Not saved in <c>state_dict</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value set is NaN, infinite or ≤ 0; Δ is then unchanged.</exception>
    public double step_size
    {
        get => step;
        set
        {
            OpGuard.Steepness(Name, nameof(step_size), value, allowZero: false);
            step = value;
        }
    }

    /// <summary>
    /// The offset o: the layer's own (a parameter when learned, else a buffer), the bound tensor's current value
    /// (<see cref="bind_offset"/>), or null when the layer has none.
    /// </summary>
    /// <remarks>The private setter is how TorchSharp's <c>to(dtype)</c> and <c>to(device)</c> hand the converted tensor back.</remarks>
    public Tensor? offset
    {
        get => offsetSource is not null ? offsetSource() : (Tensor?)get_parameter(OffsetKey) ?? get_buffer(OffsetKey);
        private set
        {
            if (value is Parameter parameter) ConditionallyRegisterParameter(OffsetKey, parameter);
            else ConditionallyRegisterBuffer(OffsetKey, value);
        }
    }

    /// <summary>
    /// Binds the offset to a tensor owned elsewhere, such as a parameter of an entropy model updated by its own loss:
    /// <paramref name="source"/> is called at every forward, symbols and dequantize, and its result is used as o
    /// (with its gradient, where the mode gives one). The layer does not register, copy or dispose it.
    /// </summary>
    /// <param name="source">Returns the current offset: a floating-point tensor of finite values that broadcasts to the inputs.</param>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The layer already has an offset of its own (given to its constructor).</exception>
    public void bind_offset(Func<Tensor> source)
    {
        ArgumentNullException.ThrowIfNull(source, nameof(source));
        if (get_parameter(OffsetKey) is not null || get_buffer(OffsetKey) is not null)
        {
            throw new InvalidOperationException($"{Name}.bind_offset: the layer already has its own offset; create it without one to bind another.");
        }
        offsetSource = source;
    }

    /// <summary>The generator for the training noise; null for torch's default generator.</summary>
    public Generator? generator { get; set; }

    /// <summary>
    /// y as the class describes, with the offset as centre and <see cref="step_size"/> as step: eval
    /// round_st((x − o)/Δ)·Δ + o; training as <see cref="mode"/> says (<see cref="QuantizationMode"/>).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="x"/> is not a floating-point tensor, or the offset does not broadcast to it.</exception>
    public override Tensor forward(Tensor x) => forward(x, null);

    /// <summary>
    /// y with centre c = <paramref name="means"/> (else the offset) and step Δ = <paramref name="stepSize"/> (else
    /// <see cref="step_size"/>), t = (x − c)/Δ: eval y = round_st(t)·Δ + c; training <c>UniformNoise</c> x + Δ·u,
    /// <c>RoundSt</c> round_st(t)·Δ + c, <c>SoftRoundNoise</c> (soft_round(t, α) + u)·Δ + c, <c>SteSoftRound</c>
    /// ste_soft_round(t, α)·Δ + c, <c>DifferentiableRound</c> differentiable_round(t, α)·Δ + c, with u ~ U(−½, ½).
    /// </summary>
    /// <param name="x">The input; float16, bfloat16, float32 or float64.</param>
    /// <param name="means">Optional per-element centres, broadcastable to x; they take the place of the offset.</param>
    /// <param name="stepSize">Optional step sizes, broadcastable to x, finite and &gt; 0; they take the place of <see cref="step_size"/>.</param>
    /// <exception cref="ArgumentException">
    /// <paramref name="x"/>, the means or the step size is not a floating-point tensor, or one of them does not broadcast to x.
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException">An entry of <paramref name="stepSize"/> is not finite and &gt; 0 (checked on the CPU).</exception>
    public Tensor forward(Tensor x, Tensor? means, Tensor? stepSize = null) => Quantize(x, means, stepSize, trainingMode);

    /// <summary>
    /// <see cref="forward(Tensor, Tensor?, Tensor?)"/> with <paramref name="mode"/> in place of <see cref="mode"/> in
    /// training (and this layer's α, generator and offset): how a model computes a second proxy of the same latents.
    /// </summary>
    internal Tensor forward(Tensor x, Tensor? means, QuantizationMode mode) => Quantize(x, means, null, mode);

    private Tensor Quantize(Tensor x, Tensor? means, Tensor? stepSize, QuantizationMode mode)
    {
        using var scope = NewDisposeScope();
        (Tensor? c, Tensor? delta) = Grid(nameof(forward), x, means, stepSize, x.dtype);
        Tensor y = !training ? Around(x, c, delta, t => SoftRoundOps.round_st(t), positiveZero: true) : mode switch
        {
            QuantizationMode.UniformNoise => x.add(Scaled(UniformNoise.Like(x, generator), delta), One),
            QuantizationMode.RoundSt => Around(x, c, delta, t => SoftRoundOps.round_st(t)),
            QuantizationMode.SoftRoundNoise => Around(x, c, delta, t => SoftRoundOps.soft_round(t, alpha).add(UniformNoise.Like(t, generator), One)),
            QuantizationMode.DifferentiableRound => Around(x, c, delta, t => SoftRoundOps.differentiable_round(t, alpha)),
            _ => Around(x, c, delta, t => SoftRoundOps.ste_soft_round(t, alpha)),
        };
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The integer symbols round((x − c)/Δ) as int32, for an entropy coder, with c and Δ as in
    /// <see cref="forward(Tensor, Tensor?, Tensor?)"/>; no gradient. Computed in the dtype the eval pass computes in.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="x"/>, the means or the step size is not a floating-point tensor or does not broadcast to x.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An entry of x is NaN or infinite, or its symbol does not fit in int32.</exception>
    public Tensor symbols(Tensor x, Tensor? means = null, Tensor? stepSize = null)
    {
        OpGuard.Finite(Name + ".symbols", nameof(x), x, x);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        (Tensor? c, Tensor? delta) = Grid(nameof(symbols), x, means, stepSize, OpGuard.ComputeType(x.dtype));
        Tensor xc = x.to(OpGuard.ComputeType(x.dtype));
        Tensor rounded = Around(xc, c?.to(xc.dtype, x.device), delta?.to(xc.dtype, x.device), t => t.round(), restore: false).to(ScalarType.Float64);
        double largest = rounded.numel() == 0 ? 0 : rounded.abs().max().item<double>();
        if (largest > int.MaxValue) throw SymbolTooLarge(largest);
        return rounded.to(ScalarType.Int32).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <see cref="symbols"/> of one row without a tensor, for a coder that calls it once per position: x and the
    /// means widened to float64, computed in float64 when <paramref name="float64"/> (x's dtype is float64), else in
    /// float32 as the tensor form does for narrower x; with this layer's step size. The same symbols (tested).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A symbol is not finite or does not fit in int32.</exception>
    internal void Symbols(ReadOnlySpan<double> x, ReadOnlySpan<double> means, bool float64, Span<int> symbols)
    {
        for (int i = 0; i < symbols.Length; i++)
        {
            // (x − c)/1 is x − c exactly: the tensor form's skipping of a unit step changes nothing.
            double rounded = float64 ? Math.Round((x[i] - means[i]) / step) : MathF.Round(((float)x[i] - (float)means[i]) / (float)step);
            if (!(Math.Abs(rounded) <= int.MaxValue)) throw SymbolTooLarge(Math.Abs(rounded));
            symbols[i] = (int)rounded;
        }
    }

    private static ArgumentOutOfRangeException SymbolTooLarge(double largest) =>
        new("x", largest, $"{Name}.symbols: a symbol of magnitude {largest} does not fit in int32.");

    /// <summary>
    /// y = symbols·Δ + c, with c and Δ as in <see cref="forward(Tensor, Tensor?, Tensor?)"/>, in the centre's dtype
    /// (float32 without one); no gradient. dequantize(symbols(x)) equals the eval forward's output.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="symbols"/> is null.</exception>
    /// <exception cref="ArgumentException">The means or the step size is not a floating-point tensor or does not broadcast to the symbols.</exception>
    public Tensor dequantize(Tensor symbols, Tensor? means = null, Tensor? stepSize = null)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        ScalarType dtype = (means ?? offset)?.dtype ?? ScalarType.Float32;
        (Tensor? c, Tensor? delta) = Grid(nameof(dequantize), symbols, means, stepSize, dtype, checkInput: false);
        Tensor s = symbols.to(dtype, c?.device ?? symbols.device);
        Tensor y = delta is null ? s : s * delta;
        return (c is null ? y : y.add(c, One)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <see cref="dequantize"/> of one row with float64 means, without a tensor: y = symbols·Δ + means in float64, with
    /// this layer's step size Δ. The same values (tested).
    /// </summary>
    internal void Dequantize(ReadOnlySpan<int> symbols, ReadOnlySpan<double> means, Span<double> y)
    {
        for (int i = 0; i < y.Length; i++) y[i] = symbols[i] * step + means[i];
    }

    /// <summary>
    /// Validates the inputs of a call and gives its centre c and step Δ (null for none, and for Δ = 1; the layer's step
    /// becomes a 0-dim tensor of <paramref name="dtype"/>).
    /// </summary>
    private (Tensor? centre, Tensor? step) Grid(string member, Tensor x, Tensor? means, Tensor? stepSize, ScalarType dtype, bool checkInput = true)
    {
        string op = $"{Name}.{member}";
        if (checkInput) OpGuard.FloatingPoint(op, nameof(x), x);
        else OpGuard.NotNull(op, nameof(symbols), x);
        Tensor? c = means;
        if (means is not null)
        {
            OpGuard.FloatingPoint(op, nameof(means), means);
            OpGuard.BroadcastsTo(op, nameof(means), means, x);
        }
        else if (offset is { } o)
        {
            OpGuard.BroadcastsTo(op, nameof(offset), o, x);
            c = o;
        }
        if (stepSize is not null)
        {
            OpGuard.Steepness(op, nameof(stepSize), stepSize, x, allowZero: false);
            return (c, stepSize);
        }
        return (c, step == 1 ? null : tensor(step, dtype, x.device));
    }

    /// <summary>
    /// f((x − c)/Δ)·Δ + c, skipping what is absent; with <paramref name="restore"/> false, only f((x − c)/Δ). With
    /// <paramref name="positiveZero"/> and no centre, + 0, so that a rounded −0 becomes the +0 that
    /// <see cref="dequantize"/> gives for symbol 0.
    /// </summary>
    private static Tensor Around(Tensor x, Tensor? c, Tensor? delta, Func<Tensor, Tensor> f, bool restore = true, bool positiveZero = false)
    {
        Tensor t = c is null ? x : x - c;
        if (delta is not null) t = t / delta;
        Tensor y = f(t);
        if (!restore) return y;
        if (c is not null) return Scaled(y, delta).add(c, One);
        return positiveZero ? Scaled(y, delta).add(S(0.0), One) : Scaled(y, delta);
    }

    private static Tensor Scaled(Tensor t, Tensor? delta) => delta is null ? t : t * delta;
}
