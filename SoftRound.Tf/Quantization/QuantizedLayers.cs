using System;

namespace SoftRound.Tf.Quantization;

/// <summary>The default specs of the quantized layers.</summary>
internal static class QuantizedLayers
{
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
