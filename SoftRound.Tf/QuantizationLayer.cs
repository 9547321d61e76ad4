using System;
using SoftRound.Tf.Internals;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf;

/// <summary>
/// The quantizer of learned-compression models. In training mode (<c>train()</c>) it applies its
/// <see cref="QuantizationMode"/>; in eval mode (<c>eval()</c>) it rounds: y = round(x − o) + o, with the gradient
/// passed straight through. o is an optional fixed (buffer) or learned (parameter) offset named <c>offset</c>, a
/// 0-dim tensor or one that broadcasts to the input, such as one offset per channel.
/// </summary>
/// <remarks>
/// The steepness α of the soft-round modes is stored as <c>log_alpha</c> and can follow a <see cref="SteepnessSchedule"/>.
/// A learned offset gets a gradient in the soft-round modes (dy/do = 1 − soft_round'(x − o)); round_st gives it none, as
/// in tensorflow_compression. <see cref="symbols"/> gives the integer symbols an entropy coder needs, and
/// <see cref="dequantize"/> maps them back.
/// </remarks>
public sealed class QuantizationLayer : SteepnessLayer
{
    private const string Name = nameof(QuantizationLayer);
    private const string OffsetKey = "offset";
    private QuantizationMode trainingMode;

    /// <summary>Creates the quantizer.</summary>
    /// <param name="mode">What to do in training mode.</param>
    /// <param name="alpha">The steepness α of the soft-round modes; finite and &gt; 0.</param>
    /// <param name="offset">An optional offset o of finite values (copied); with <paramref name="learnOffset"/> and no offset, a learned 0-dim zero.</param>
    /// <param name="learnOffset">Whether the offset is a learned parameter.</param>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="mode"/> is not defined, <paramref name="alpha"/> is not finite and &gt; 0, or an offset entry is not finite.
    /// </exception>
    /// <exception cref="ArgumentException"><paramref name="offset"/> is not a floating-point tensor.</exception>
    public QuantizationLayer(QuantizationMode mode = QuantizationMode.UniformNoise, double alpha = 5.0, Tensor? offset = null, bool learnOffset = false)
        : base(Name, nameof(alpha), alpha, trainable: false)
    {
        OpGuard.Defined(Name, nameof(mode), mode);
        if (offset is not null) OpGuard.Finite(Name, nameof(offset), offset, offset);
        trainingMode = mode;
        Tensor? initial = offset?.detach().clone() ?? (learnOffset ? zeros(Array.Empty<long>()) : null);
        if (initial is null) return;
        if (learnOffset) register_parameter(OffsetKey, new Parameter(initial));
        else register_buffer(OffsetKey, initial);
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

    /// <summary>The steepness α of the soft-round modes; the same as <see cref="SteepnessLayer.steepness"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value set is NaN, infinite or ≤ 0; α is then unchanged.</exception>
    public double alpha
    {
        get => steepness;
        set => steepness = value;
    }

    /// <summary>The offset o (a parameter when learned), or null when the layer has none.</summary>
    public Tensor? offset => (Tensor?)get_parameter(OffsetKey) ?? get_buffer(OffsetKey);

    /// <summary>The generator for the training noise; null for torch's default generator.</summary>
    public Generator? generator { get; set; }

    /// <summary>
    /// In eval mode y = round_st(x, o); in training mode as <see cref="mode"/> says (<see cref="QuantizationMode"/>).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="x"/> is not a floating-point tensor, or the offset does not broadcast to it.</exception>
    public override Tensor forward(Tensor x)
    {
        OpGuard.FloatingPoint(Name, nameof(x), x);
        Tensor? o = offset;
        if (o is not null) OpGuard.BroadcastsTo(Name, nameof(offset), o, x);
        if (!training) return SoftRoundOps.round_st(x, o);
        using var scope = NewDisposeScope();
        Tensor y = trainingMode switch
        {
            QuantizationMode.UniformNoise => x + UniformNoise.Like(x, generator),
            QuantizationMode.RoundSt => SoftRoundOps.round_st(x, o),
            QuantizationMode.SoftRoundNoise => AroundOffset(x, o, t => SoftRoundOps.soft_round(t, alpha)) + UniformNoise.Like(x, generator),
            _ => AroundOffset(x, o, t => SoftRoundOps.ste_soft_round(t, alpha)),
        };
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>The integer symbols round(x − o) as int32, for an entropy coder; no gradient.</summary>
    /// <exception cref="ArgumentException"><paramref name="x"/> is not a floating-point tensor.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An entry of x is NaN or infinite, or its symbol does not fit in int32.</exception>
    public Tensor symbols(Tensor x)
    {
        OpGuard.Finite(Name + ".symbols", nameof(x), x, x);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor? o = offset;
        // Shifted and rounded in the dtype the eval forward pass computes in, so that dequantize(symbols(x)) is its output.
        Tensor xc = x.to(OpGuard.ComputeType(x.dtype));
        Tensor rounded = (o is null ? xc : xc - o.to(xc.dtype, x.device)).round().to(ScalarType.Float64);
        double largest = rounded.numel() == 0 ? 0 : rounded.abs().max().item<double>();
        if (largest > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(x), largest, $"{Name}.symbols: a symbol of magnitude {largest} does not fit in int32.");
        }
        return rounded.to(ScalarType.Int32).MoveToOuterDisposeScope();
    }

    /// <summary>y = symbols + o, in the offset's dtype (float32 without an offset); no gradient.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="symbols"/> is null.</exception>
    public Tensor dequantize(Tensor symbols)
    {
        OpGuard.NotNull(Name + ".dequantize", nameof(symbols), symbols);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor? o = offset;
        Tensor y = o is null ? symbols.to(ScalarType.Float32) : symbols.to(o.dtype, o.device) + o;
        return y.MoveToOuterDisposeScope();
    }

    private static Tensor AroundOffset(Tensor x, Tensor? o, Func<Tensor, Tensor> f) => o is null ? f(x) : f(x - o) + o;
}
