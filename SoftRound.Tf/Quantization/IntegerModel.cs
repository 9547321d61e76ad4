using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Threading.Tasks;
using SoftRound.Tf.Kernels;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf.Quantization;

/// <summary>
/// A quantization-aware model exported for integer inference, and that inference: integer weights (int8, or
/// int4 packed two per byte), their scales, the inputs' scales and zero points and int32 biases; every layer
/// accumulates Σ (q_x − Z_x)·q_w + q_b in int32 and requantizes into the next layer's input grid with a fixed-point
/// multiplier; ReLU and max pooling act on the codes.
/// </summary>
/// <remarks>
/// <para>Exports an <c>nn.Sequential</c> of <see cref="QuantConv2d"/>, <see cref="QuantLinear"/>, <c>ReLU</c>,
/// <c>MaxPool2d</c> (no dilation or ceil mode), <c>Flatten</c> and <c>Dropout</c> (the identity here), with symmetric
/// weights of at most 8 bits, that starts with a quantized layer; after the last quantized layer only ReLU may follow.
/// The output is the last layer's accumulator times s_x·s_w (its "step"), in float32.</para>
/// <para>Requantization: with M = s_x·s_w/s_next = m·2^−t (m in [2^30, 2^31)), q = clamp(⌊(acc·m + 2^(t−1))/2^t⌋ +
/// Z_next, qmin, qmax), in 64-bit integers (gemmlowp's rounding up at ties). The bias is round(b/(s_x·s_w)), which the
/// quantized layers already add in training.
/// Against the fake-quantized model in float32 the only differences are that rounding and the float sums' own
/// rounding: codes differ by one where a value lies that close to a tie.</para>
/// <para>The file format (<see cref="save"/>): "SRQI", version 1, the steps, then the SHA-256 of everything before;
/// <see cref="load"/> refuses anything else with <see cref="InvalidDataException"/>.</para>
/// </remarks>
public sealed class IntegerModel
{
    private const uint Magic = 0x49515253; // "SRQI"
    private const ushort Version = 1;
    private const int MaxSteps = 1024, MaxChannels = 1 << 16, MaxKernel = 64, MaxWeightBytes = 1 << 28;

    private readonly Step[] steps;

    private IntegerModel(Step[] steps)
    {
        this.steps = steps;
        Validate(steps);
    }

    /// <summary>The number of quantized layers.</summary>
    public int layer_count => steps.Count(s => s is Layer);

    /// <summary>The weights' bytes as stored (int4 packed two per byte).</summary>
    public long weight_bytes => steps.OfType<Layer>().Sum(l => (long)l.Weights.Length);

    /// <summary>Exports a trained quantization-aware model (its quantizers must be initialised).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentException">The model holds a module this format cannot express, weights that are not symmetric or wider than 8 bits, an uninitialised quantizer, a bias that does not fit in int32, or sizes, scales or accumulators beyond what <see cref="load"/> accepts (the message says which).</exception>
    public static IntegerModel export(Sequential model)
    {
        ArgumentNullException.ThrowIfNull(model, nameof(model));
        try
        {
            var list = new List<Step>();
            foreach ((string name, nn.Module module) in Flatten(model, ""))
            {
                list.Add(module switch
                {
                    QuantLinear l => FromLayer(name, false, l.weight, l.bias, l.weight_quantizer, l.input_quantizer, l.out_features, l.in_features, new long[] { 1, 1 }, new long[] { 1, 1 }, new long[] { 0, 0 }, new long[] { 1, 1 }, 1),
                    QuantConv2d c => FromLayer(name, true, c.weight, c.bias, c.weight_quantizer, c.input_quantizer, c.out_channels, c.in_channels, c.weight.shape[2..],
                        c.strides, c.paddings, c.dilations, c.groups),
                    ReLU => new Relu(),
                    Flatten f when f.start_dim == 1 && f.end_dim == -1 => new FlattenStep(),
                    MaxPool2d p when p.dilation.All(d => d == 1) && !p.ceil_mode => new Pool((int)p.kernel_size[0], (int)p.kernel_size[^1],
                        (int)(p.stride ?? p.kernel_size)[0], (int)(p.stride ?? p.kernel_size)[^1], (int)p.padding[0], (int)p.padding[^1]),
                    Dropout => null!,
                    _ => throw new ArgumentException($"IntegerModel.export: {name} is a {module.GetType().Name}, which the integer format cannot express.", nameof(model)),
                });
            }
            list.RemoveAll(s => s is null);
            return new IntegerModel(list.ToArray());
        }
        catch (InvalidDataException e)
        {
            throw new ArgumentException($"IntegerModel.export: the model cannot be stored: {e.Data[Why]}.", nameof(model));
        }
    }

    /// <summary>
    /// The integer inference on a batch: x (N, C, H, W) for a convolutional first layer or (N, F) for a linear one,
    /// quantized by the first layer's input grid; returns the last layer's output, acc·s_x·s_w, as float32 (N, …).
    /// </summary>
    /// <exception cref="ArgumentException">x is not floating point, holds NaN or ±∞, or has a shape the first layer cannot take.</exception>
    public Tensor forward(Tensor x)
    {
        const string op = "IntegerModel.forward";
        SoftRound.Tf.Internals.OpGuard.FloatingPoint(op, nameof(x), x);
        var first = (Layer)steps[0];
        long n = x.shape.Length > 0 ? x.shape[0] : 0;
        long[] sample = first.Convolution ? new[] { first.InChannels, x.dim() == 4 ? x.shape[2] : 0, x.dim() == 4 ? x.shape[3] : 0 } : new[] { (long)first.InChannels };
        if ((first.Convolution ? x.dim() != 4 || x.shape[1] != first.InChannels : x.dim() != 2 || x.shape[1] != first.InChannels) || n == 0)
        {
            throw new ArgumentException($"{op}: x has shape ({string.Join(", ", x.shape)}); expected (N, {first.InChannels}{(first.Convolution ? ", H, W" : "")}) with N ≥ 1.", nameof(x));
        }
        using var scope = NewDisposeScope();
        float[] data = x.detach().to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
        if (data.Any(v => !float.IsFinite(v))) throw new ArgumentException($"{op}: x must be finite.", nameof(x));
        int per = data.Length / (int)n;
        long[] outShape = OutputShape(sample);
        int outCount = (int)outShape.Aggregate(1L, (a, b) => a * b);
        var output = new float[n * outCount];
        Parallel.For(0, (int)n, i => Run(data.AsSpan(i * per, per).ToArray(), sample).CopyTo(output, i * outCount));
        return tensor(output, new[] { n }.Concat(outShape).ToArray()).MoveToOuterDisposeScope();
    }

    /// <summary>Writes the model (the format in the remarks).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    public void save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream, nameof(stream));
        using var body = new MemoryStream();
        using (var w = new BinaryWriter(body, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write(Version);
            w.Write((ushort)steps.Length);
            foreach (Step s in steps) s.Write(w);
        }
        byte[] bytes = body.ToArray();
        stream.Write(bytes);
        stream.Write(SHA256.HashData(bytes));
    }

    /// <summary>Reads a model written by <see cref="save"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    /// <exception cref="InvalidDataException">The bytes are not such a model: truncated, corrupted (checksum), another format or version, values out of range, or trailing bytes.</exception>
    public static IntegerModel load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream, nameof(stream));
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        byte[] all = copy.ToArray();
        if (all.Length < 8 + 32) throw Bad($"it has {all.Length} bytes, fewer than the smallest model");
        byte[] body = all[..^32];
        if (!SHA256.HashData(body).AsSpan().SequenceEqual(all.AsSpan(all.Length - 32))) throw Bad("its checksum does not match its contents");
        try
        {
            using var r = new BinaryReader(new MemoryStream(body));
            if (r.ReadUInt32() != Magic) throw Bad("it does not start with SRQI");
            ushort version = r.ReadUInt16();
            if (version != Version) throw Bad($"its version is {version}; this library reads {Version}");
            int count = r.ReadUInt16();
            CheckStepCount(count);
            var steps = new Step[count];
            for (int i = 0; i < count; i++) steps[i] = Step.ReadAny(r);
            if (r.BaseStream.Position != body.Length) throw Bad($"{body.Length - r.BaseStream.Position} bytes follow the last step");
            return new IntegerModel(steps);
        }
        catch (EndOfStreamException)
        {
            throw Bad("it ends inside a step");
        }
    }

    private const string Why = "why";

    /// <summary>
    /// Output positions of a window of <paramref name="extent"/> (dilation included) sliding by <paramref name="stride"/>
    /// over <paramref name="length"/> + 2·<paramref name="padding"/>: ⌊(length + 2·padding − extent)/stride⌋ + 1, or 0 when
    /// the window does not fit (C#'s division truncates toward zero, which would give 1 there).
    /// </summary>
    private static long OutputLength(long length, long padding, long extent, long stride) =>
        length + 2 * padding < extent ? 0 : (length + 2 * padding - extent) / stride + 1;

    /// <summary>A loader's refusal; <see cref="export"/> rethrows the same reason, kept under <see cref="Why"/>, as its own.</summary>
    private static InvalidDataException Bad(string why) => new($"IntegerModel.load: the stream is not an integer model: {why}.") { Data = { [Why] = why } };

    private static IEnumerable<(string, nn.Module)> Flatten(Sequential model, string prefix)
    {
        foreach ((string name, nn.Module child) in model.named_children())
        {
            if (child is Sequential inner)
            {
                foreach (var item in Flatten(inner, prefix + name + ".")) yield return item;
            }
            else
            {
                yield return (prefix + name, child);
            }
        }
    }

    private static Layer FromLayer(string name, bool convolution, Tensor weight, Tensor? bias, FakeQuantizeLayer wq, FakeQuantizeLayer xq, long outC, long inC,
        long[] kernel, long[] stride, long[] padding, long[] dilation, long groups)
    {
        string where = $"IntegerModel.export: {name}";
        if (!wq.is_initialized || !xq.is_initialized) throw new ArgumentException($"{where}: its quantizers have not been initialised (train or calibrate first).", "model");
        QuantSpec ws = wq.spec;
        if (!ws.symmetric || !ws.signed || ws.bits > 8) throw new ArgumentException($"{where}: weights must be signed symmetric of at most 8 bits; got {ws}.", "model");
        using var scope = NewDisposeScope();
        double[] wScales = wq.scale.detach().to(ScalarType.Float64).cpu().data<double>().ToArray();
        if (wScales.Length == 1 && outC > 1) wScales = Enumerable.Repeat(wScales[0], (int)outC).ToArray();
        float[] w = weight.detach().to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
        int per = w.Length / (int)outC;
        var codes = new sbyte[w.Length];
        for (int c = 0; c < outC; c++)
        {
            var grid = new FakeQuantizeKernel.Grid<float>(wScales[c], 0, ws.qmin, ws.qmax);
            for (int j = 0; j < per; j++) codes[c * per + j] = (sbyte)FakeQuantizeKernel.Code(w[c * per + j], grid);
        }
        double sx = xq.scale.detach().to(ScalarType.Float64).item<double>();
        int zx = xq.zero_point is null ? xq.spec.symmetric_zero_point : (int)Math.Clamp(Math.Round(xq.zero_point.detach().to(ScalarType.Float64).item<double>(), MidpointRounding.ToEven), xq.spec.qmin, xq.spec.qmax);
        int[]? biasCodes = null;
        if (bias is not null)
        {
            double[] b = bias.detach().to(ScalarType.Float64).cpu().data<double>().ToArray();
            biasCodes = new int[b.Length];
            for (int c = 0; c < b.Length; c++)
            {
                double q = QuantWeightLayer.BiasCode(b[c], sx, wScales[c]);
                if (!(q >= int.MinValue && q <= int.MaxValue)) throw new ArgumentException($"{where}: bias[{c}] = {b[c]} is {q} steps of s_x·s_w, outside int32.", "model");
                biasCodes[c] = (int)q;
            }
        }
        int[] geometry = new[] { outC, inC, kernel[0], kernel[^1], stride[0], stride[^1], padding[0], padding[^1], dilation[0], dilation[^1], groups }
            .Select(v => (int)v).Concat(new[] { ws.bits, ws.qmin, ws.qmax }).ToArray();
        return new Layer(convolution, geometry, wScales, sx, zx, xq.spec.qmin, xq.spec.qmax, biasCodes, Pack(codes, ws.bits));
    }

    /// <summary>The float32 value of a scale, as the fake-quantized model uses it.</summary>
    private static double Single(double v) => (float)v;

    /// <summary>The bytes <paramref name="count"/> codes take: one each, or one per two int4 codes.</summary>
    private static long WeightBytes(long count, int bits) => bits > 4 ? count : (count + 1) / 2;

    /// <summary>int8 codes as bytes, or int4 codes two per byte (the even index in the low nibble).</summary>
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

    private long[] OutputShape(long[] shape)
    {
        foreach (Step s in steps) shape = s.Shape(shape);
        return shape;
    }

    /// <summary>
    /// The codes every quantized layer takes as input, for one sample (C, H, W) or (F): the first layer's the quantized
    /// input, the others the requantized outputs of the layer before (after its ReLU and pooling).
    /// </summary>
    internal List<int[]> InputCodes(float[] x, long[] shape)
    {
        var codes = new List<int[]>();
        Run(x, shape, codes);
        return codes;
    }

    /// <summary>One sample through the steps: codes between layers, floats after the last.</summary>
    private float[] Run(float[] x, long[] shape, List<int[]>? trace = null)
    {
        var first = (Layer)steps[0];
        var grid = new FakeQuantizeKernel.Grid<float>(first.InputScale, first.InputZero, first.InputMin, first.InputMax);
        int[] codes = x.Select(v => (int)FakeQuantizeKernel.Code(v, grid)).ToArray();
        float[]? result = null;
        int last = Array.FindLastIndex(steps, s => s is Layer);
        for (int i = 0; i < steps.Length; i++)
        {
            switch (steps[i])
            {
                case Layer layer:
                    trace?.Add((int[])codes.Clone());
                    int[] acc = layer.Accumulate(codes, shape, out long[] next);
                    shape = next;
                    if (i == last)
                    {
                        result = layer.Dequantize(acc, shape);
                    }
                    else
                    {
                        var target = (Layer)steps.Skip(i + 1).First(s => s is Layer);
                        codes = layer.Requantize(acc, shape, target);
                    }
                    break;
                case Relu when result is not null:
                    for (int j = 0; j < result.Length; j++) result[j] = Math.Max(result[j], 0f);
                    break;
                case Relu:
                    int zero = ((Layer)steps.Skip(i + 1).First(s => s is Layer)).InputZero;
                    for (int j = 0; j < codes.Length; j++) codes[j] = Math.Max(codes[j], zero);
                    break;
                case Pool pool:
                    codes = pool.Apply(codes, shape, out shape);
                    break;
                case FlattenStep:
                    shape = new[] { shape.Aggregate(1L, (a, b) => a * b) };
                    break;
            }
        }
        return result!;
    }

    /// <summary>Throws unless a model has 1 to 1024 steps (so that <see cref="export"/> writes only what <see cref="load"/> reads).</summary>
    private static void CheckStepCount(int count)
    {
        if (count is < 1 or > MaxSteps) throw Bad($"it has {count} steps");
    }

    /// <summary>
    /// Throws unless the steps start with a layer, only ReLU follows the last, every requantization multiplier has a
    /// fixed-point form, and no accumulator can leave int32.
    /// </summary>
    private static void Validate(Step[] steps)
    {
        CheckStepCount(steps.Length);
        if (steps[0] is not Layer) throw Bad("it does not start with a quantized layer");
        int last = Array.FindLastIndex(steps, s => s is Layer);
        if (steps.Skip(last + 1).Any(s => s is not Relu)) throw Bad("only ReLU may follow its last quantized layer");
        Layer[] layers = steps.OfType<Layer>().ToArray();
        for (int i = 0; i < layers.Length; i++)
        {
            layers[i].CheckAccumulator();
            if (i + 1 < layers.Length) layers[i].Multipliers(layers[i + 1]);
        }
    }

    /// <summary>One step of the integer model.</summary>
    private abstract class Step
    {
        public abstract void Write(BinaryWriter w);

        /// <summary>The sample shape after this step; throws <see cref="ArgumentException"/> when it cannot take <paramref name="input"/>.</summary>
        public abstract long[] Shape(long[] input);

        public static Step ReadAny(BinaryReader r) => r.ReadByte() switch
        {
            0 => Layer.Read(r),
            1 => new Relu(),
            2 => new FlattenStep(),
            3 => Pool.Read(r),
            byte kind => throw Bad($"a step has the unknown kind {kind}"),
        };
    }

    private sealed class Relu : Step
    {
        public override void Write(BinaryWriter w) => w.Write((byte)1);

        public override long[] Shape(long[] input) => input;
    }

    private sealed class FlattenStep : Step
    {
        public override void Write(BinaryWriter w) => w.Write((byte)2);

        public override long[] Shape(long[] input) => new[] { input.Aggregate(1L, (a, b) => a * b) };
    }

    private sealed class Pool : Step
    {
        private readonly int kh, kw, sh, sw, ph, pw;

        /// <summary>Max pooling over kh×kw windows with strides sh, sw and paddings ph, pw; throws the loader's refusal unless
        /// windows and strides are 1 to 64 and each padding at most half its window.</summary>
        public Pool(int kh, int kw, int sh, int sw, int ph, int pw)
        {
            int[] v = { kh, kw, sh, sw, ph, pw };
            if (v[..4].Any(k => k is < 1 or > MaxKernel) || v[4..].Any(p => p < 0 || p > MaxKernel)) throw Bad($"a pooling step has the geometry ({string.Join(", ", v)})");
            if (ph > kh / 2 || pw > kw / 2) throw Bad("a pooling step pads more than half its window");
            (this.kh, this.kw, this.sh, this.sw, this.ph, this.pw) = (kh, kw, sh, sw, ph, pw);
        }

        public override void Write(BinaryWriter w)
        {
            w.Write((byte)3);
            foreach (int v in new[] { kh, kw, sh, sw, ph, pw }) w.Write(v);
        }

        public static Pool Read(BinaryReader r)
        {
            int[] v = Enumerable.Range(0, 6).Select(_ => r.ReadInt32()).ToArray();
            return new Pool(v[0], v[1], v[2], v[3], v[4], v[5]);
        }

        public override long[] Shape(long[] input)
        {
            if (input.Length != 3) throw new ArgumentException($"IntegerModel.forward: max pooling needs (C, H, W) samples; got ({string.Join(", ", input)}).");
            long h = OutputLength(input[1], ph, kh, sh), w = OutputLength(input[2], pw, kw, sw);
            if (h < 1 || w < 1) throw new ArgumentException($"IntegerModel.forward: a {input[1]}×{input[2]} input is smaller than a {kh}×{kw} pooling window.");
            return new[] { input[0], h, w };
        }

        public int[] Apply(int[] codes, long[] shape, out long[] next)
        {
            next = Shape(shape);
            int c = (int)shape[0], h = (int)shape[1], w = (int)shape[2], oh = (int)next[1], ow = (int)next[2];
            var result = new int[c * oh * ow];
            for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++)
            {
                int best = int.MinValue;
                for (int i = 0; i < kh; i++)
                for (int j = 0; j < kw; j++)
                {
                    int yy = y * sh - ph + i, xx = x * sw - pw + j;
                    if (yy >= 0 && yy < h && xx >= 0 && xx < w) best = Math.Max(best, codes[(ch * h + yy) * w + xx]);
                }
                result[(ch * oh + y) * ow + x] = best;
            }
            return result;
        }
    }

    private sealed class Layer : Step
    {
        public readonly bool Convolution;
        public readonly int OutChannels, InChannels, Kh, Kw, Sh, Sw, Ph, Pw, Dh, Dw, Groups, Bits, WeightMin, WeightMax;
        public readonly double[] WeightScales;
        public readonly double InputScale;
        public readonly int InputZero, InputMin, InputMax;
        public readonly int[]? Bias;
        public readonly byte[] Weights;
        private readonly sbyte[] codes;

        /// <summary>
        /// A layer from its geometry (out, in, kH, kW, sH, sW, pH, pW, dH, dW, groups, bits, weight qmin, weight qmax),
        /// scales, input grid, bias codes and stored weights; throws the loader's refusal for anything out of range.
        /// </summary>
        public Layer(bool convolution, int[] geometry, double[] weightScales, double inputScale, int inputZero, int inputMin, int inputMax, int[]? bias, byte[] weights)
        {
            long count = CheckGeometry(convolution, geometry);
            Convolution = convolution;
            (OutChannels, InChannels, Kh, Kw, Sh, Sw, Ph, Pw, Dh, Dw, Groups, Bits, WeightMin, WeightMax) = (geometry[0], geometry[1], geometry[2], geometry[3],
                geometry[4], geometry[5], geometry[6], geometry[7], geometry[8], geometry[9], geometry[10], geometry[11], geometry[12], geometry[13]);
            (WeightScales, InputScale, InputZero, InputMin, InputMax, Bias, Weights) = (weightScales, inputScale, inputZero, inputMin, inputMax, bias, weights);
            CheckScalesAndGrid();
            codes = Unpack(weights, Bits, (int)count);
            if (codes.Any(q => q < WeightMin || q > WeightMax)) throw Bad("a weight code lies outside its grid");
        }

        /// <summary>
        /// Throws unless <paramref name="v"/> (the constructor's geometry) describes a layer the format holds: 1 to 65536
        /// channels each way divisible by the groups, kernel, stride and dilation 1 to 64, padding 0 to 64 (a linear layer
        /// all 1 and padding 0), a symmetric weight grid of 2 to 8 signed bits, at most 2^28 weight bytes.
        /// </summary>
        /// <returns>The number of weight codes.</returns>
        private static long CheckGeometry(bool convolution, int[] v)
        {
            (int outC, int inC, int groups, int bits, int wMin, int wMax) = (v[0], v[1], v[10], v[11], v[12], v[13]);
            if (outC is < 1 or > MaxChannels || inC is < 1 or > MaxChannels) throw Bad($"a layer has {inC} → {outC} channels");
            if (groups < 1 || inC % groups != 0 || outC % groups != 0) throw Bad($"a layer has {groups} groups for {inC} → {outC} channels");
            if (v[2..6].Concat(v[8..10]).Any(k => k is < 1 or > MaxKernel) || v[6..8].Any(p => p is < 0 or > MaxKernel)) throw Bad("a layer's geometry is out of range");
            if (!convolution && !v[2..11].SequenceEqual(new[] { 1, 1, 1, 1, 0, 0, 1, 1, 1 })) throw Bad("a linear layer has a convolution's geometry");
            if (bits is < 2 or > 8 || (wMin != -(1 << (bits - 1)) && wMin != 1 - (1 << (bits - 1))) || wMax != (1 << (bits - 1)) - 1) throw Bad($"a layer's weight grid [{wMin}, {wMax}] does not fit {bits} signed bits");
            long count = (long)outC * (inC / groups) * v[2] * v[3];
            if (WeightBytes(count, bits) > MaxWeightBytes) throw Bad($"a layer's weights take {WeightBytes(count, bits)} bytes, more than {MaxWeightBytes}");
            return count;
        }

        /// <summary>Throws unless the weight and input scales are positive and finite and the input grid lies in [−2^15, 2^16 − 1] around its zero point.</summary>
        private void CheckScalesAndGrid()
        {
            if (WeightScales.Any(s => !(s > 0 && double.IsFinite(s)))) throw Bad("a layer's weight scales are not positive and finite");
            if (!(InputScale > 0 && double.IsFinite(InputScale))) throw Bad($"a layer's input scale is {InputScale}");
            if (InputMin < -(1 << 15) || InputMax > (1 << 16) - 1 || InputMin >= InputMax || InputZero < InputMin || InputZero > InputMax) throw Bad($"a layer's input grid [{InputMin}, {InputMax}] with zero point {InputZero} is invalid");
        }

        public override void Write(BinaryWriter w)
        {
            w.Write((byte)0);
            w.Write(Convolution);
            foreach (int v in new[] { OutChannels, InChannels, Kh, Kw, Sh, Sw, Ph, Pw, Dh, Dw, Groups, Bits, WeightMin, WeightMax }) w.Write(v);
            foreach (double s in WeightScales) w.Write(s);
            w.Write(InputScale);
            foreach (int v in new[] { InputZero, InputMin, InputMax }) w.Write(v);
            w.Write(Bias is not null);
            if (Bias is not null) foreach (int b in Bias) w.Write(b);
            w.Write(Weights.Length);
            w.Write(Weights);
        }

        public static Layer Read(BinaryReader r)
        {
            bool convolution = r.ReadBoolean();
            int[] v = Enumerable.Range(0, 14).Select(_ => r.ReadInt32()).ToArray();
            long bytes = WeightBytes(CheckGeometry(convolution, v), v[11]);
            double[] scales = Enumerable.Range(0, v[0]).Select(_ => r.ReadDouble()).ToArray();
            double inputScale = r.ReadDouble();
            int[] grid = Enumerable.Range(0, 3).Select(_ => r.ReadInt32()).ToArray();
            int[]? bias = r.ReadBoolean() ? Enumerable.Range(0, v[0]).Select(_ => r.ReadInt32()).ToArray() : null;
            int length = r.ReadInt32();
            if (length != bytes) throw Bad($"a layer has {length} weight bytes; its shape needs {bytes}");
            byte[] weights = r.ReadBytes(length);
            if (weights.Length != length) throw new EndOfStreamException();
            return new Layer(convolution, v, scales, inputScale, grid[0], grid[1], grid[2], bias, weights);
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

        /// <summary>acc = Σ (q_x − Z_x)·q_w + q_b per output, in int32 (checked).</summary>
        public int[] Accumulate(int[] x, long[] shape, out long[] next)
        {
            next = Shape(shape);
            if (!Convolution)
            {
                var acc = new int[OutChannels];
                for (int o = 0; o < OutChannels; o++)
                {
                    long sum = Bias?[o] ?? 0;
                    int row = o * InChannels;
                    for (int i = 0; i < InChannels; i++) sum += (long)(x[i] - InputZero) * codes[row + i];
                    acc[o] = checked((int)sum);
                }
                return acc;
            }
            int h = (int)shape[1], w = (int)shape[2], oh = (int)next[1], ow = (int)next[2], perGroupIn = InChannels / Groups, perGroupOut = OutChannels / Groups;
            var result = new int[OutChannels * oh * ow];
            for (int o = 0; o < OutChannels; o++)
            {
                int g = o / perGroupOut;
                for (int y = 0; y < oh; y++)
                for (int xo = 0; xo < ow; xo++)
                {
                    long sum = Bias?[o] ?? 0;
                    for (int ci = 0; ci < perGroupIn; ci++)
                    {
                        int channel = g * perGroupIn + ci;
                        for (int i = 0; i < Kh; i++)
                        {
                            int yy = y * Sh - Ph + i * Dh;
                            if (yy < 0 || yy >= h) continue;
                            for (int j = 0; j < Kw; j++)
                            {
                                int xx = xo * Sw - Pw + j * Dw;
                                if (xx < 0 || xx >= w) continue;
                                sum += (long)(x[(channel * h + yy) * w + xx] - InputZero) * codes[((o * perGroupIn + ci) * Kh + i) * Kw + j];
                            }
                        }
                    }
                    result[(o * oh + y) * ow + xo] = checked((int)sum);
                }
            }
            return result;
        }

        /// <summary>The accumulators' real values acc·s_x·s_w, with the scales in float32 as the fake-quantized model has them.</summary>
        public float[] Dequantize(int[] acc, long[] shape)
        {
            int per = acc.Length / OutChannels;
            var y = new float[acc.Length];
            for (int o = 0; o < OutChannels; o++)
            {
                double step = Single(InputScale) * Single(WeightScales[o]);
                for (int j = 0; j < per; j++) y[o * per + j] = (float)(acc[o * per + j] * step);
            }
            return y;
        }

        /// <summary>Throws unless |bias| + fan-in·max|q_x − Z_x|·max|q_w| fits in int32.</summary>
        public void CheckAccumulator()
        {
            long input = Math.Max(InputMax - InputZero, InputZero - InputMin);
            long weight = Math.Max(-WeightMin, WeightMax);
            long bound = (long)(InChannels / Groups) * Kh * Kw * input * weight + (Bias is null ? 0 : Bias.Max(b => Math.Abs((long)b)));
            if (bound > int.MaxValue) throw Bad($"a layer's accumulator could reach {bound}, beyond int32");
        }

        /// <summary>Each output channel's requantization multiplier into <paramref name="target"/>'s input grid, in fixed point.</summary>
        public (long m, int t)[] Multipliers(Layer target) =>
            WeightScales.Select(s => FixedPoint(Single(InputScale) * Single(s) / Single(target.InputScale))).ToArray();

        /// <summary>Codes in <paramref name="target"/>'s input grid: clamp(⌊(acc·m + 2^(t−1))/2^t⌋ + Z, qmin, qmax) with M = m·2^−t.</summary>
        public int[] Requantize(int[] acc, long[] shape, Layer target)
        {
            int per = acc.Length / OutChannels;
            var q = new int[acc.Length];
            (long m, int t)[] multipliers = Multipliers(target);
            for (int o = 0; o < OutChannels; o++)
            {
                (long m, int t) = multipliers[o];
                for (int j = 0; j < per; j++)
                {
                    long v = ((acc[o * per + j] * m) + (1L << (t - 1))) >> t;
                    q[o * per + j] = (int)Math.Clamp(v + target.InputZero, target.InputMin, target.InputMax);
                }
            }
            return q;
        }

        /// <summary>M = m·2^−t with m in [2^30, 2^31) and 1 ≤ t ≤ 62.</summary>
        internal static (long m, int t) FixedPoint(double multiplier)
        {
            if (!(multiplier > 0 && double.IsFinite(multiplier))) throw Bad($"a requantization multiplier {multiplier} is out of range");
            int e = Math.ILogB(multiplier);
            int t = 30 - e;
            if (t is < 1 or > 62) throw Bad($"a requantization multiplier {multiplier} is out of range");
            long m = (long)Math.Round(Math.ScaleB(multiplier, t), MidpointRounding.ToEven);
            if (m == 1L << 31) (m, t) = (1L << 30, t - 1);
            return (m, t);
        }
    }
}
