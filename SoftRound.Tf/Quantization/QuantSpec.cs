using System;

namespace SoftRound.Tf.Quantization;

/// <summary>
/// What is quantized how: the integer grid [qmin, qmax] of a bit width, signed or unsigned, symmetric (zero point fixed)
/// or affine (zero point chosen or learned), narrow range or full, per tensor or per channel along an axis.
/// </summary>
/// <remarks>
/// The grid: signed b bits is [−2^(b−1), 2^(b−1) − 1] ([−2^(b−1) + 1, 2^(b−1) − 1] with narrow range, TF-MOT's
/// <c>narrow_range</c>); unsigned is [0, 2^b − 1] ([1, 2^b − 1] narrow). A symmetric spec's zero point is
/// <see cref="symmetric_zero_point"/>: 0 when signed, 2^(b−1) when unsigned (PyTorch's <c>quint8</c> symmetric
/// convention). int8 per-channel weights, PyTorch's default for QAT, are
/// <c>new QuantSpec(8, axis: 0)</c>; uint8 affine activations <c>new QuantSpec(8, signed: false, symmetric: false)</c>.
/// </remarks>
public sealed record QuantSpec
{
    /// <summary>The bit width, 2 to 16.</summary>
    public int bits { get; }

    /// <summary>Whether the integers are signed.</summary>
    public bool signed { get; }

    /// <summary>Whether the zero point is fixed (<see cref="symmetric_zero_point"/>) rather than chosen or learned.</summary>
    public bool symmetric { get; }

    /// <summary>Whether the most negative (signed) or zero (unsigned) code is left out, so the grid is symmetric about its centre.</summary>
    public bool narrow_range { get; }

    /// <summary>The channel axis of a per-channel spec (negative counts from the end), or null for one scale per tensor.</summary>
    public int? axis { get; }

    /// <summary>The smallest code.</summary>
    public int qmin { get; }

    /// <summary>The largest code.</summary>
    public int qmax { get; }

    /// <summary>Creates a spec.</summary>
    /// <param name="bits">The bit width, 2 to 16.</param>
    /// <param name="signed">Signed integers (default) or unsigned.</param>
    /// <param name="symmetric">A fixed zero point (default) or an affine one.</param>
    /// <param name="narrowRange">Leave out the lowest code.</param>
    /// <param name="axis">The channel axis for per-channel scales; null for per tensor.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bits"/> is outside [2, 16].</exception>
    public QuantSpec(int bits, bool signed = true, bool symmetric = true, bool narrowRange = false, int? axis = null)
    {
        if (bits is < 2 or > 16)
        {
            throw new ArgumentOutOfRangeException(nameof(bits), bits, $"QuantSpec: bits must be in [2, 16]; got {bits}.");
        }
        this.bits = bits;
        this.signed = signed;
        this.symmetric = symmetric;
        narrow_range = narrowRange;
        this.axis = axis;
        qmin = (signed ? -(1 << (bits - 1)) : 0) + (narrowRange ? 1 : 0);
        qmax = signed ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
    }

    /// <summary>The zero point of a symmetric spec: 0 when signed, 2^(b−1) when unsigned.</summary>
    public int symmetric_zero_point => signed ? 0 : 1 << (bits - 1);

    /// <summary>The number of codes, qmax − qmin + 1.</summary>
    public int levels => qmax - qmin + 1;

    /// <summary>This spec per channel along <paramref name="channelAxis"/>.</summary>
    public QuantSpec per_channel(int channelAxis) => new(bits, signed, symmetric, narrow_range, channelAxis);

    /// <summary>This spec with one scale for the whole tensor.</summary>
    public QuantSpec per_tensor() => new(bits, signed, symmetric, narrow_range, null);

    /// <summary>The spec as text, e.g. <c>int4 symmetric per channel (axis 0) [-8, 7]</c>.</summary>
    public override string ToString() =>
        $"{(signed ? "int" : "uint")}{bits} {(symmetric ? "symmetric" : "affine")}{(narrow_range ? " narrow" : "")} "
        + (axis is int a ? $"per channel (axis {a})" : "per tensor") + $" [{qmin}, {qmax}]";
}
