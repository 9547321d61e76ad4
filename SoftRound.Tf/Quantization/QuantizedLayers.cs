using System;
using static TorchSharp.torch;

namespace SoftRound.Tf.Quantization;

/// <summary>What the quantized layers share: their default specs and the bias's quantization.</summary>
internal static class QuantizedLayers
{
    /// <summary>
    /// The bias as integer inference adds it: b_q = round(b/Δ)·Δ per output channel with Δ = s_x·s_w in float32,
    /// straight through for b (Δ is held constant). Null without a bias.
    /// </summary>
    public static Tensor? QuantizedBias(Tensor? bias, FakeQuantizeLayer input, FakeQuantizeLayer weight)
    {
        if (bias is null) return null;
        using var scope = NewDisposeScope();
        Tensor step = (input.scale.detach().to(ScalarType.Float32) * weight.scale.detach().to(ScalarType.Float32)).to(bias.dtype);
        return (SoftRoundOps.round_st(bias / step) * step).MoveToOuterDisposeScope();
    }

    /// <summary>The int32 code of bias value <paramref name="b"/>: round(b/Δ) with Δ = s_x·s_w, all in float32, as <see cref="QuantizedBias"/>.</summary>
    public static double BiasCode(double b, double inputScale, double weightScale) =>
        MathF.Round((float)b / ((float)inputScale * (float)weightScale), MidpointRounding.ToEven);

    /// <summary>The weights' spec: int8 symmetric per output channel by default; a per-channel spec must use axis 0.</summary>
    public static QuantSpec WeightSpec(string layer, QuantSpec? spec)
    {
        spec ??= new QuantSpec(8, axis: 0);
        if (spec.axis is int a && a != 0)
        {
            throw new ArgumentOutOfRangeException("weightSpec", a, $"{layer}: weightSpec's axis must be 0 (the output channels) or null; got {a}.");
        }
        return spec;
    }

    /// <summary>The input's spec: uint8 affine per tensor by default; per tensor only.</summary>
    public static QuantSpec InputSpec(string layer, QuantSpec? spec)
    {
        spec ??= new QuantSpec(8, signed: false, symmetric: false);
        if (spec.axis is int a)
        {
            throw new ArgumentOutOfRangeException("inputSpec", a, $"{layer}: inputSpec must be per tensor; got axis {a}.");
        }
        return spec;
    }
}
