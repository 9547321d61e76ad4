using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using SoftRound.Tf.Kernels;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf.Quantization;

/// <summary>
/// A trained quantization-aware model captured once for integer inference (torch.ao's converted model): its steps in
/// order, each quantized layer with its integer weight codes and their scales, its input grid (s_x, Z_x, [qmin, qmax])
/// and its int32 bias codes, and the ReLU, max-pooling and flattening steps between. <see cref="IntegerModel"/> (the
/// format and the reference inference) and <see cref="SoftRound.Tf.Onnx.OnnxExport"/> read it.
/// </summary>
/// <remarks>
/// <para>Captures an <c>nn.Sequential</c> (nested ones flattened) of <see cref="QuantConv2d"/>,
/// <see cref="QuantConvBn2d"/> (its batch norm folded), <see cref="QuantLinear"/>, <c>ReLU</c>, <c>MaxPool2d</c> (no
/// dilation or ceil mode), <c>Flatten</c> and <c>Dropout</c> and <c>Identity</c> (both the identity here), with
/// symmetric signed weights of at most 8 bits, that starts with a quantized layer; after the last quantized layer only
/// ReLU may follow.</para>
/// <para>Weight codes are clamp(round(w/s_w), qmin, qmax) as the weight quantizer computes them; bias codes
/// round(b/(s_x·s_w)) with both scales in float32, as the quantized layers add the bias in training. A zero point that
/// is learned (a float) is rounded to the nearest integer in its grid.</para>
/// </remarks>
public sealed class QuantizedGraph
{
    internal QuantizedGraph(IReadOnlyList<QuantizedStep> steps)
    {
        Validate(steps);
        Steps = steps;
    }

    /// <summary>The steps, in order.</summary>
    internal IReadOnlyList<QuantizedStep> Steps { get; }

    /// <summary>The quantized layers, in order.</summary>
    internal QuantizedLayer[] Layers => Steps.OfType<QuantizedLayer>().ToArray();

    /// <summary>The number of quantized layers.</summary>
    public int layer_count => Steps.Count(s => s is QuantizedLayer);

    /// <summary>The weights' bytes as stored (int4 packed two per byte).</summary>
    public long weight_bytes => Steps.OfType<QuantizedLayer>().Sum(l => (long)l.Weights.Length);

    /// <summary>Captures a trained quantization-aware model (its quantizers must be initialised).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentException">The model holds a module the graph cannot express (named by its path), weights that are not symmetric or wider than 8 bits, an uninitialised quantizer, a bias that does not fit in int32, or sizes, scales or accumulators beyond the graph's bounds (the message says which).</exception>
    public static QuantizedGraph capture(Sequential model) => Capture(model, "QuantizedGraph.capture");

    /// <summary><see cref="capture"/> with <paramref name="op"/> naming the public member in messages.</summary>
    internal static QuantizedGraph Capture(Sequential model, string op)
    {
        ArgumentNullException.ThrowIfNull(model, nameof(model));
        try
        {
            var list = new List<QuantizedStep>();
            foreach ((string name, nn.Module module) in Modules(model))
            {
                QuantizedStep? step = module switch
                {
                    QuantLinear l => FromLayer(op, name, false, l, l.out_features, l.in_features, new long[] { 1, 1 }, new long[] { 1, 1 }, new long[] { 0, 0 }, new long[] { 1, 1 }, 1),
                    QuantConv2d c => FromLayer(op, name, true, c, c.out_channels, c.in_channels, c.weight.shape[2..],
                        c.strides, c.paddings, c.dilations, c.groups),
                    ReLU => new ReluStep(),
                    TorchSharp.Modules.Flatten f when f.start_dim == 1 && f.end_dim == -1 => new FlattenStep(),
                    MaxPool2d p when p.dilation.All(d => d == 1) && !p.ceil_mode => new MaxPoolStep((int)p.kernel_size[0], (int)p.kernel_size[^1],
                        (int)(p.stride ?? p.kernel_size)[0], (int)(p.stride ?? p.kernel_size)[^1], (int)p.padding[0], (int)p.padding[^1]),
                    Dropout or Identity => null,
                    BatchNorm2d => throw new ArgumentException($"{op}: {name} is a BatchNorm2d that was not folded into the convolution before it; prepare the model with QuantizationOps.prepare_qat, which folds Conv2d → BatchNorm2d.", nameof(model)),
                    _ => throw new ArgumentException($"{op}: {name} is a {module.GetType().Name}, which the integer format cannot express.", nameof(model)),
                };
                if (step is not null) list.Add(step);
            }
            return new QuantizedGraph(list);
        }
        catch (InvalidDataException e)
        {
            throw new ArgumentException($"{op}: the model cannot be stored: {e.Data[QuantizedStep.Why]}.", nameof(model));
        }
    }

    /// <summary>The modules of <paramref name="model"/> in order with their dotted paths, nested Sequentials flattened.</summary>
    internal static IEnumerable<(string name, nn.Module module)> Modules(Sequential model, string prefix = "")
    {
        foreach ((string name, nn.Module child) in model.named_children())
        {
            if (child is Sequential inner)
            {
                foreach (var item in Modules(inner, prefix + name + ".")) yield return item;
            }
            else
            {
                yield return (prefix + name, child);
            }
        }
    }

    /// <summary>A layer's description: the codes of the weight and bias it applies (a folded layer's folded ones), its geometry and grids.</summary>
    private static QuantizedLayer FromLayer(string op, string name, bool convolution, QuantWeightLayer layer, long outC, long inC,
        long[] kernel, long[] stride, long[] padding, long[] dilation, long groups)
    {
        string where = $"{op}: {name}";
        (FakeQuantizeLayer wq, FakeQuantizeLayer xq) = (layer.weight_quantizer, layer.input_quantizer);
        if (!wq.is_initialized || !xq.is_initialized) throw new ArgumentException($"{where}: its quantizers have not been initialised (train or calibrate first).", "model");
        QuantSpec ws = wq.spec;
        if (!ws.symmetric || !ws.signed || ws.bits > 8) throw new ArgumentException($"{where}: weights must be signed symmetric of at most 8 bits; got {ws}.", "model");
        using var scope = NewDisposeScope();
        (Tensor weight, Tensor? bias) = layer.Effective();
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
        return new QuantizedLayer(convolution, geometry, wScales, sx, zx, xq.spec.qmin, xq.spec.qmax, biasCodes, QuantizedLayer.Pack(codes, ws.bits));
    }

    /// <summary>Throws unless a graph has 1 to 1024 steps (so that every writer writes only what the readers read).</summary>
    internal static void CheckStepCount(int count)
    {
        if (count is < 1 or > QuantizedStep.MaxSteps) throw QuantizedStep.Invalid($"it has {count} steps");
    }

    /// <summary>
    /// Throws unless the steps start with a layer, only ReLU follows the last, every requantization multiplier has a
    /// fixed-point form, and no accumulator can leave int32.
    /// </summary>
    private static void Validate(IReadOnlyList<QuantizedStep> steps)
    {
        CheckStepCount(steps.Count);
        if (steps[0] is not QuantizedLayer) throw QuantizedStep.Invalid("it does not start with a quantized layer");
        int last = steps.Select((s, i) => (s, i)).Last(p => p.s is QuantizedLayer).i;
        if (steps.Skip(last + 1).Any(s => s is not ReluStep)) throw QuantizedStep.Invalid("only ReLU may follow its last quantized layer");
        QuantizedLayer[] layers = steps.OfType<QuantizedLayer>().ToArray();
        for (int i = 0; i < layers.Length; i++)
        {
            layers[i].CheckAccumulator();
            if (i + 1 < layers.Length) layers[i].Multipliers(layers[i + 1]);
        }
    }

    /// <summary>The next quantized layer after step <paramref name="index"/>, or null after the last.</summary>
    internal QuantizedLayer? NextLayer(int index) => Steps.Skip(index + 1).OfType<QuantizedLayer>().FirstOrDefault();
}
