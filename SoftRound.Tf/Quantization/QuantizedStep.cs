using System;
using System.IO;
using System.Linq;

namespace SoftRound.Tf.Quantization;

/// <summary>
/// One step of a <see cref="QuantizedGraph"/>: a quantized layer, a ReLU, a max pooling or a flattening. A step is a
/// description (geometry, grids, scales, codes) that checks its own ranges; the integer format, the ONNX writer and
/// the reference inference read it.
/// </summary>
internal abstract class QuantizedStep
{
    /// <summary>Bounds every reader and writer shares: at most this many steps, channels, kernel or window sides, weight bytes.</summary>
    internal const int MaxSteps = 1024, MaxChannels = 1 << 16, MaxKernel = 64, MaxWeightBytes = 1 << 28;

    /// <summary>The key under which <see cref="Invalid"/> keeps its reason, for a reader to rethrow in its own words.</summary>
    internal const string Why = "why";

    /// <summary>The sample shape after this step; throws <see cref="ArgumentException"/> when it cannot take <paramref name="input"/>.</summary>
    public abstract long[] Shape(long[] input);

    /// <summary>A description out of range: <see cref="InvalidDataException"/> with the reason kept under <see cref="Why"/>.</summary>
    internal static InvalidDataException Invalid(string why) => new($"QuantizedGraph: {why}.") { Data = { [Why] = why } };

    /// <summary>
    /// Output positions of a window of <paramref name="extent"/> (dilation included) sliding by <paramref name="stride"/>
    /// over <paramref name="length"/> + 2·<paramref name="padding"/>: ⌊(length + 2·padding − extent)/stride⌋ + 1, or 0 when
    /// the window does not fit (C#'s division truncates toward zero, which would give 1 there).
    /// </summary>
    internal static long OutputLength(long length, long padding, long extent, long stride) =>
        length + 2 * padding < extent ? 0 : (length + 2 * padding - extent) / stride + 1;
}

/// <summary>max(x, 0): on codes, max(q, Z) of the next layer's grid; after the last layer, on its float output.</summary>
internal sealed class ReluStep : QuantizedStep
{
    public override long[] Shape(long[] input) => input;
}

/// <summary>(C, H, W) samples to (C·H·W).</summary>
internal sealed class FlattenStep : QuantizedStep
{
    public override long[] Shape(long[] input) => new[] { input.Aggregate(1L, (a, b) => a * b) };
}

/// <summary>Max pooling of codes over kh×kw windows with strides sh, sw and zero paddings ph, pw (padding never wins).</summary>
internal sealed class MaxPoolStep : QuantizedStep
{
    public readonly int Kh, Kw, Sh, Sw, Ph, Pw;

    /// <summary>Throws <see cref="QuantizedStep.Invalid"/> unless windows and strides are 1 to 64 and each padding at most half its window.</summary>
    public MaxPoolStep(int kh, int kw, int sh, int sw, int ph, int pw)
    {
        int[] v = { kh, kw, sh, sw, ph, pw };
        if (v[..4].Any(k => k is < 1 or > MaxKernel) || v[4..].Any(p => p < 0 || p > MaxKernel)) throw Invalid($"a pooling step has the geometry ({string.Join(", ", v)})");
        if (ph > kh / 2 || pw > kw / 2) throw Invalid("a pooling step pads more than half its window");
        (Kh, Kw, Sh, Sw, Ph, Pw) = (kh, kw, sh, sw, ph, pw);
    }

    public override long[] Shape(long[] input)
    {
        if (input.Length != 3) throw new ArgumentException($"IntegerModel.forward: max pooling needs (C, H, W) samples; got ({string.Join(", ", input)}).");
        long h = OutputLength(input[1], Ph, Kh, Sh), w = OutputLength(input[2], Pw, Kw, Sw);
        if (h < 1 || w < 1) throw new ArgumentException($"IntegerModel.forward: a {input[1]}×{input[2]} input is smaller than a {Kh}×{Kw} pooling window.");
        return new[] { input[0], h, w };
    }
}

/// <summary>
/// A quantized convolution or linear layer: acc = Σ (q_x − Z_x)·q_w + q_b in int32, its real value acc·s_x·s_w; the
/// input grid (s_x, Z_x, [qmin, qmax]), symmetric signed weight codes of 2 to 8 bits with a scale per output channel,
/// int32 bias codes on the s_x·s_w grid.
/// </summary>
internal sealed class QuantizedLayer : QuantizedStep
{
    public readonly bool Convolution;
    public readonly int OutChannels, InChannels, Kh, Kw, Sh, Sw, Ph, Pw, Dh, Dw, Groups, Bits, WeightMin, WeightMax;
    public readonly double[] WeightScales;
    public readonly double InputScale;
    public readonly int InputZero, InputMin, InputMax;
    public readonly int[]? Bias;

    /// <summary>The weights as stored: int8 codes, or int4 codes two per byte (<see cref="Pack"/>).</summary>
    public readonly byte[] Weights;

    /// <summary>The weight codes, (out, in/groups, kH, kW) in row-major order.</summary>
    public readonly sbyte[] Codes;

    /// <summary>
    /// A layer from its geometry (out, in, kH, kW, sH, sW, pH, pW, dH, dW, groups, bits, weight qmin, weight qmax),
    /// scales, input grid, bias codes and stored weights; throws <see cref="QuantizedStep.Invalid"/> for anything out of range.
    /// </summary>
    public QuantizedLayer(bool convolution, int[] geometry, double[] weightScales, double inputScale, int inputZero, int inputMin, int inputMax, int[]? bias, byte[] weights)
    {
        long count = CheckGeometry(convolution, geometry);
        Convolution = convolution;
        (OutChannels, InChannels, Kh, Kw, Sh, Sw, Ph, Pw, Dh, Dw, Groups, Bits, WeightMin, WeightMax) = (geometry[0], geometry[1], geometry[2], geometry[3],
            geometry[4], geometry[5], geometry[6], geometry[7], geometry[8], geometry[9], geometry[10], geometry[11], geometry[12], geometry[13]);
        (WeightScales, InputScale, InputZero, InputMin, InputMax, Bias, Weights) = (weightScales, inputScale, inputZero, inputMin, inputMax, bias, weights);
        if (weightScales.Length != OutChannels || (bias is not null && bias.Length != OutChannels)) throw Invalid($"a layer of {OutChannels} outputs has {weightScales.Length} weight scales and {bias?.Length ?? 0} biases");
        CheckScalesAndGrid();
        if (weights.Length != WeightBytes(count, Bits)) throw Invalid($"a layer has {weights.Length} weight bytes; its shape needs {WeightBytes(count, Bits)}");
        Codes = Unpack(weights, Bits, (int)count);
        if (Codes.Any(q => q < WeightMin || q > WeightMax)) throw Invalid("a weight code lies outside its grid");
    }

    /// <summary>The geometry as the constructor takes it.</summary>
    public int[] Geometry => new[] { OutChannels, InChannels, Kh, Kw, Sh, Sw, Ph, Pw, Dh, Dw, Groups, Bits, WeightMin, WeightMax };

    /// <summary>
    /// Throws unless <paramref name="v"/> (the constructor's geometry) describes a layer the graph holds: 1 to 65536
    /// channels each way divisible by the groups, kernel, stride and dilation 1 to 64, padding 0 to 64 (a linear layer
    /// all 1 and padding 0), a symmetric weight grid of 2 to 8 signed bits, at most 2^28 weight bytes.
    /// </summary>
    /// <returns>The number of weight codes.</returns>
    internal static long CheckGeometry(bool convolution, int[] v)
    {
        if (v.Length != 14) throw Invalid($"a layer's geometry has {v.Length} values, not 14");
        (int outC, int inC, int groups, int bits, int wMin, int wMax) = (v[0], v[1], v[10], v[11], v[12], v[13]);
        if (outC is < 1 or > MaxChannels || inC is < 1 or > MaxChannels) throw Invalid($"a layer has {inC} → {outC} channels");
        if (groups < 1 || inC % groups != 0 || outC % groups != 0) throw Invalid($"a layer has {groups} groups for {inC} → {outC} channels");
        if (v[2..6].Concat(v[8..10]).Any(k => k is < 1 or > MaxKernel) || v[6..8].Any(p => p is < 0 or > MaxKernel)) throw Invalid("a layer's geometry is out of range");
        if (!convolution && !v[2..11].SequenceEqual(new[] { 1, 1, 1, 1, 0, 0, 1, 1, 1 })) throw Invalid("a linear layer has a convolution's geometry");
        if (bits is < 2 or > 8 || (wMin != -(1 << (bits - 1)) && wMin != 1 - (1 << (bits - 1))) || wMax != (1 << (bits - 1)) - 1) throw Invalid($"a layer's weight grid [{wMin}, {wMax}] does not fit {bits} signed bits");
        long count = (long)outC * (inC / groups) * v[2] * v[3];
        if (WeightBytes(count, bits) > MaxWeightBytes) throw Invalid($"a layer's weights take {WeightBytes(count, bits)} bytes, more than {MaxWeightBytes}");
        return count;
    }

    /// <summary>Throws unless the weight and input scales are positive and finite and the input grid lies in [−2^15, 2^16 − 1] around its zero point.</summary>
    private void CheckScalesAndGrid()
    {
        if (WeightScales.Any(s => !(s > 0 && double.IsFinite(s)))) throw Invalid("a layer's weight scales are not positive and finite");
        if (!(InputScale > 0 && double.IsFinite(InputScale))) throw Invalid($"a layer's input scale is {InputScale}");
        if (InputMin < -(1 << 15) || InputMax > (1 << 16) - 1 || InputMin >= InputMax || InputZero < InputMin || InputZero > InputMax) throw Invalid($"a layer's input grid [{InputMin}, {InputMax}] with zero point {InputZero} is invalid");
    }

    /// <summary>The bytes <paramref name="count"/> codes take: one each, or one per two int4 codes.</summary>
    internal static long WeightBytes(long count, int bits) => bits > 4 ? count : (count + 1) / 2;

    /// <summary>int8 codes as bytes, or int4 codes two per byte (the even index in the low nibble, as ONNX packs int4).</summary>
    internal static byte[] Pack(sbyte[] codes, int bits)
    {
        if (bits > 4) return codes.Select(c => (byte)c).ToArray();
        var packed = new byte[WeightBytes(codes.Length, bits)];
        for (int i = 0; i < codes.Length; i++) packed[i / 2] |= (byte)((codes[i] & 0xF) << (4 * (i % 2)));
        return packed;
    }

    /// <summary>The inverse of <see cref="Pack"/> for <paramref name="count"/> codes.</summary>
    internal static sbyte[] Unpack(byte[] packed, int bits, int count)
    {
        if (bits > 4) return packed.Select(b => (sbyte)b).ToArray();
        var codes = new sbyte[count];
        for (int i = 0; i < count; i++) codes[i] = (sbyte)((sbyte)(packed[i / 2] >> (4 * (i % 2)) << 4) >> 4);
        return codes;
    }

    public override long[] Shape(long[] input)
    {
        if (!Convolution)
        {
            if (input.Length != 1 || input[0] != InChannels) throw new ArgumentException($"IntegerModel.forward: a linear layer of {InChannels} inputs gets samples of shape ({string.Join(", ", input)}).");
            return new long[] { OutChannels };
        }
        if (input.Length != 3 || input[0] != InChannels) throw new ArgumentException($"IntegerModel.forward: a convolution of {InChannels} channels gets samples of shape ({string.Join(", ", input)}).");
        long h = OutputLength(input[1], Ph, Dh * (Kh - 1) + 1, Sh), w = OutputLength(input[2], Pw, Dw * (Kw - 1) + 1, Sw);
        if (h < 1 || w < 1) throw new ArgumentException($"IntegerModel.forward: a {input[1]}×{input[2]} input is smaller than the {Kh}×{Kw} kernel.");
        return new[] { (long)OutChannels, h, w };
    }

    /// <summary>The float32 value of a scale, as the fake-quantized model uses it.</summary>
    internal static double Single(double v) => (float)v;

    /// <summary>Output channel <paramref name="o"/>'s step s_x·s_w, with both scales in float32 as the fake-quantized model has them.</summary>
    public double Step(int o) => Single(InputScale) * Single(WeightScales[o]);

    /// <summary>The largest |partial sum| the accumulator can reach: fan-in·max|q_x − Z_x|·max|q_w| + max|q_b|.</summary>
    public long AccumulatorBound =>
        (long)(InChannels / Groups) * Kh * Kw * Math.Max(InputMax - InputZero, InputZero - InputMin) * Math.Max(-WeightMin, WeightMax)
        + (Bias is null ? 0 : Bias.Max(b => Math.Abs((long)b)));

    /// <summary>Throws unless <see cref="AccumulatorBound"/> fits in int32.</summary>
    public void CheckAccumulator()
    {
        long bound = AccumulatorBound;
        if (bound > int.MaxValue) throw Invalid($"a layer's accumulator could reach {bound}, beyond int32");
    }

    /// <summary>Each output channel's requantization multiplier s_x·s_w/s_next into <paramref name="target"/>'s input grid, in fixed point.</summary>
    public (long m, int t)[] Multipliers(QuantizedLayer target) =>
        Enumerable.Range(0, OutChannels).Select(o => FixedPoint(Multiplier(o, target))).ToArray();

    /// <summary>Output channel <paramref name="o"/>'s requantization multiplier M = s_x·s_w/s_next into <paramref name="target"/>'s grid, the scales in float32.</summary>
    public double Multiplier(int o, QuantizedLayer target) => Step(o) / Single(target.InputScale);

    /// <summary>M = m·2^−t with m in [2^30, 2^31) and 1 ≤ t ≤ 62.</summary>
    internal static (long m, int t) FixedPoint(double multiplier)
    {
        if (!(multiplier > 0 && double.IsFinite(multiplier))) throw Invalid($"a requantization multiplier {multiplier} is out of range");
        int e = Math.ILogB(multiplier);
        int t = 30 - e;
        if (t is < 1 or > 62) throw Invalid($"a requantization multiplier {multiplier} is out of range");
        long m = (long)Math.Round(Math.ScaleB(multiplier, t), MidpointRounding.ToEven);
        if (m == 1L << 31) (m, t) = (1L << 30, t - 1);
        return (m, t);
    }
}
