using System;
using System.Collections.Generic;
using System.Linq;
using SoftRound.Tf.Quantization;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static SoftRound.Tf.Onnx.OnnxGraphBuilder;
using DataType = SoftRound.Tf.Onnx.Proto.TensorProto.Types.DataType;

namespace SoftRound.Tf.Onnx;

/// <summary>
/// Writes models as ONNX (IR version 10, operator set 21) for ONNX Runtime or any ONNX runtime: a float
/// <c>nn.Sequential</c> as Conv, Gemm, Relu, MaxPool, Flatten and BatchNormalization nodes (a batch norm after a
/// convolution folded into it), and a <see cref="QuantizedGraph"/> as integer codes, int8 (or int4) weights with a
/// scale per output channel and int32 biases (<see cref="OnnxQuantFormat"/>). The model's input is named "input",
/// float32 (N, C, H, W) or (N, F) with N (and H, W) symbolic; its output "output", float32.
/// </summary>
/// <remarks>
/// <para>A quantized graph computes what <see cref="IntegerModel.forward"/> computes: the input's codes
/// round(x·(1/s_x)) + Z_x as the fake quantizer rounds (a Mul by 1/s_x, then QuantizeLinear with scale 1), clamped to the
/// layer's grid; every layer's accumulator requantized into the next layer's grid (QuantizeLinear, then a Clip on the
/// codes where the grid is narrower than its 8-bit type); ReLU as max(q, Z) on the codes, max pooling and flattening on
/// the codes; the last layer's output in float32. Requantization differs from the reference in one respect: ONNX
/// rounds (acc·s_x·s_w)/s_next in floating point, half to even, where the reference multiplies by a 31-bit fixed-point
/// multiplier and rounds half up, so a code can differ by one where a value lies within about 1e−6 of a tie.</para>
/// <para>Codes must fit 8 bits (uint8 for grids in [0, 255], int8 in [−128, 127]); a wider grid is refused.
/// 4-bit weights are written as int4 (DequantizeLinear accepts it from operator set 21) when asked; QLinearConv takes
/// only 8-bit weights, so <see cref="OnnxQuantFormat.QOperator"/> always writes int8.</para>
/// </remarks>
public static class OnnxExport
{
    /// <summary>
    /// The ONNX model of a float <c>nn.Sequential</c> (nested ones flattened) of <c>Conv2d</c> (zero padding),
    /// <c>Linear</c>, <c>BatchNorm2d</c> (folded into a convolution right before it, else BatchNormalization), <c>ReLU</c>,
    /// <c>MaxPool2d</c>, <c>Flatten</c> (from dimension 1 to the last), <c>Dropout</c> and <c>Identity</c>, in eval-mode
    /// semantics; weights in float32.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentException">The model holds a module this writer cannot express, named by its path; or is empty.</exception>
    public static byte[] export(Sequential model)
    {
        const string op = "OnnxExport.export";
        ArgumentNullException.ThrowIfNull(model, nameof(model));
        var modules = QuantizedGraph.Modules(model).ToArray();
        if (modules.Length == 0) throw new ArgumentException($"{op}: the model has no modules.", nameof(model));
        var b = new OnnxGraphBuilder();
        string x = "input";
        object[]? shape = modules[0].module switch
        {
            Conv2d c => new object[] { "N", c.in_channels, "H", "W" },
            Linear l => new object[] { "N", l.in_features },
            _ => null,
        };
        b.Declare(true, x, DataType.Float, shape);
        using var scope = NewDisposeScope();
        for (int i = 0; i < modules.Length; i++)
        {
            (string name, nn.Module module) = modules[i];
            switch (module)
            {
                case Conv2d conv:
                    if (conv.padding_mode != TorchSharp.PaddingModes.Zeros || conv.padding_type is not null) throw Unsupported(name, $"a Conv2d padded with {conv.padding_mode}{(conv.padding_type is null ? "" : $", {conv.padding_type}")}");
                    (Tensor weight, Tensor? bias) = (conv.weight!, conv.bias);
                    if (i + 1 < modules.Length && modules[i + 1].module is BatchNorm2d following)
                    {
                        QuantConvBn2d.CheckFoldable(op, conv, following);
                        (weight, bias) = QuantConvBn2d.Fold(weight, bias, following.weight!, following.bias!, following.running_mean!, following.running_var!, following.eps);
                        i++;
                    }
                    x = FloatConv(b, x, conv, weight, bias);
                    break;
                case Linear linear:
                    x = b.Node("Gemm", new[] { x, b.Floats("weight", linear.weight!.shape, Floats(linear.weight!)) }
                        .Concat(linear.bias is null ? Array.Empty<string>() : new[] { b.Floats("bias", linear.bias.shape, Floats(linear.bias)) }).ToArray(), Int("transB", 1));
                    break;
                case BatchNorm2d bn when bn.track_running_stats:
                    long c = bn.num_features;
                    x = b.Node("BatchNormalization", new[] { x,
                        b.Floats("gamma", new[] { c }, bn.weight is null ? Enumerable.Repeat(1f, (int)c).ToArray() : Floats(bn.weight)),
                        b.Floats("beta", new[] { c }, bn.bias is null ? new float[c] : Floats(bn.bias)),
                        b.Floats("mean", new[] { c }, Floats(bn.running_mean!)), b.Floats("var", new[] { c }, Floats(bn.running_var!)) },
                        new Proto.AttributeProto { Name = "epsilon", Type = Proto.AttributeProto.Types.AttributeType.Float, F = (float)bn.eps });
                    break;
                case ReLU:
                    x = b.Node("Relu", new[] { x });
                    break;
                case MaxPool2d p:
                    long[] stride = p.stride ?? p.kernel_size;
                    x = b.Node("MaxPool", new[] { x }, Ints("kernel_shape", p.kernel_size), Ints("strides", stride),
                        Ints("pads", p.padding[0], p.padding[^1], p.padding[0], p.padding[^1]), Ints("dilations", p.dilation), Int("ceil_mode", p.ceil_mode ? 1 : 0));
                    break;
                case TorchSharp.Modules.Flatten f when f.start_dim == 1 && f.end_dim == -1:
                    x = b.Node("Flatten", new[] { x }, Int("axis", 1));
                    break;
                case Dropout or Identity:
                    break;
                case QuantWeightLayer:
                    throw Unsupported(name, $"a {module.GetType().Name}; a quantized model is exported from its QuantizedGraph (QuantizedGraph.capture)");
                default:
                    throw Unsupported(name, $"a {module.GetType().Name}");
            }
        }
        b.Output(x);
        return b.Model("float32 model");

        ArgumentException Unsupported(string name, string what) =>
            new($"{op}: {name} is {what}, which this writer cannot express.", nameof(model));
    }

    /// <summary>
    /// The ONNX model of a quantized graph, in <paramref name="format"/>; with <paramref name="int4Weights"/> the
    /// weights of layers of at most 4 bits are stored as int4 (<see cref="OnnxQuantFormat.Qdq"/> only).
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="graph"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="format"/> is undefined.</exception>
    /// <exception cref="ArgumentException">A layer's input grid needs more than 8 bits (the message names the layer), or int4 weights with <see cref="OnnxQuantFormat.QOperator"/>.</exception>
    public static byte[] export(QuantizedGraph graph, OnnxQuantFormat format = OnnxQuantFormat.Qdq, bool int4Weights = false)
    {
        const string op = "OnnxExport.export";
        ArgumentNullException.ThrowIfNull(graph, nameof(graph));
        if (!Enum.IsDefined(format)) throw new ArgumentOutOfRangeException(nameof(format), format, $"{op}: format must be Qdq, QOperator or IntegerInFloat; got {(int)format}.");
        if (int4Weights && format != OnnxQuantFormat.Qdq) throw new ArgumentException($"{op}: int4 weights need the Qdq format; {format} stores 8-bit weights.", nameof(int4Weights));
        if (format == OnnxQuantFormat.IntegerInFloat) return IntegerInFloat(op, graph);
        var b = new OnnxGraphBuilder();
        QuantizedLayer first = graph.Layers[0];
        DeclareInput(b, first);
        // The input's codes as the fake quantizer computes them: round(x·(1/s)) + Z, with 1/s in float32.
        DataType type = CodeType(op, first, 0);
        string scaled = b.Node("Mul", new[] { "input", b.Float("inverse_scale", 1f / (float)first.InputScale) });
        string x = b.Node("QuantizeLinear", new[] { scaled, b.Float("one", 1f), b.Codes("input_zero_point", type, Array.Empty<long>(), new[] { first.InputZero }) });
        x = Clamp(b, x, type, first.InputMin, first.InputMax);
        bool isFloat = false;
        int layerIndex = 0;
        for (int i = 0; i < graph.Steps.Count; i++)
        {
            switch (graph.Steps[i])
            {
                case QuantizedLayer layer:
                    QuantizedLayer? next = graph.NextLayer(i);
                    type = CodeType(op, layer, layerIndex);
                    if (next is not null && format == OnnxQuantFormat.QOperator && CodeType(op, next, layerIndex + 1) == type)
                    {
                        x = QLinear(b, x, type, layer, next, type);
                    }
                    else
                    {
                        x = DequantizedLayer(b, x, type, layer, int4Weights && layer.Bits <= 4);
                        if (next is null)
                        {
                            isFloat = true;
                        }
                        else
                        {
                            DataType nextType = CodeType(op, next, layerIndex + 1);
                            x = b.Node("QuantizeLinear", new[] { x, b.Float("scale", (float)next.InputScale), b.Codes("zero_point", nextType, Array.Empty<long>(), new[] { next.InputZero }) });
                            x = Clamp(b, x, nextType, next.InputMin, next.InputMax);
                        }
                    }
                    layerIndex++;
                    break;
                case ReluStep when isFloat:
                    x = b.Node("Relu", new[] { x });
                    break;
                case ReluStep:
                    QuantizedLayer target = graph.NextLayer(i)!;
                    x = Clamp(b, x, CodeType(op, target, layerIndex), target.InputZero, target.InputMax);
                    break;
                case MaxPoolStep or FlattenStep:
                    x = ShapeStep(b, x, graph.Steps[i]);
                    break;
            }
        }
        b.Output(x);
        return b.Model($"quantized model ({format}{(int4Weights ? ", int4 weights" : "")})");
    }

    /// <summary>The graph in <see cref="OnnxQuantFormat.IntegerInFloat"/>: centred codes c = q − Z as float32 throughout.</summary>
    private static byte[] IntegerInFloat(string op, QuantizedGraph graph)
    {
        QuantizedLayer[] layers = graph.Layers;
        for (int k = 0; k + 1 < layers.Length; k++)
        {
            long bound = layers[k].AccumulatorBound;
            if (bound >= 1 << 24) throw new ArgumentException($"{op}: quantized layer {k}'s accumulator could reach {bound}, beyond float32's exact integers (2^24); export it as Qdq or QOperator.", "graph");
        }
        var b = new OnnxGraphBuilder();
        QuantizedLayer first = layers[0];
        DeclareInput(b, first);
        // c = clamp(round(x·(1/s)), qmin − Z, qmax − Z): the fake quantizer's code, less its zero point.
        string x = b.Node("Round", new[] { b.Node("Mul", new[] { "input", b.Float("inverse_scale", 1f / (float)first.InputScale) }) });
        x = b.Node("Clip", new[] { x, b.Float("lo", first.InputMin - first.InputZero), b.Float("hi", first.InputMax - first.InputZero) });
        for (int i = 0; i < graph.Steps.Count; i++)
        {
            switch (graph.Steps[i])
            {
                case QuantizedLayer l:
                    long[] channels = { l.OutChannels };
                    long[] perChannel = l.Convolution ? new long[] { 1, l.OutChannels, 1, 1 } : new long[] { 1, l.OutChannels };
                    var inputs = new List<string> { x, b.Node("Cast", new[] { b.Codes("weight", DataType.Int8, WeightDims(l, l.Convolution), l.Codes.Select(c => (int)c).ToArray()) }, Int("to", (long)DataType.Float)) };
                    if (l.Bias is not null) inputs.Add(b.Floats("bias", channels, l.Bias.Select(v => (float)v).ToArray()));
                    string acc = l.Convolution ? b.Node("Conv", inputs.ToArray(), ConvAttributes(l)) : b.Node("Gemm", inputs.ToArray(), Int("transB", 1));
                    QuantizedLayer? next = graph.NextLayer(i);
                    if (next is null)
                    {
                        x = b.Node("Mul", new[] { acc, b.Floats("step", perChannel, Enumerable.Range(0, l.OutChannels).Select(o => (float)l.Step(o)).ToArray()) });
                        break;
                    }
                    float[] multipliers = Enumerable.Range(0, l.OutChannels).Select(o => (float)l.Multiplier(o, next)).ToArray();
                    x = b.Node("Round", new[] { b.Node("Mul", new[] { acc, b.Floats("multiplier", perChannel, multipliers) }) });
                    x = b.Node("Clip", new[] { x, b.Float("lo", next.InputMin - next.InputZero), b.Float("hi", next.InputMax - next.InputZero) });
                    break;
                case ReluStep:
                    x = b.Node("Relu", new[] { x });
                    break;
                case MaxPoolStep or FlattenStep:
                    x = ShapeStep(b, x, graph.Steps[i]);
                    break;
            }
        }
        b.Output(x);
        return b.Model("quantized model (IntegerInFloat)");
    }

    /// <summary>Declares the graph's input "input": float32 (N, C, H, W) before a convolution, (N, F) before a linear layer.</summary>
    private static void DeclareInput(OnnxGraphBuilder b, QuantizedLayer first) =>
        b.Declare(true, "input", DataType.Float, first.Convolution ? new object[] { "N", (long)first.InChannels, "H", "W" } : new object[] { "N", (long)first.InChannels });

    /// <summary>A max pooling or flattening step, the same on codes as on values: MaxPool or Flatten (from axis 1).</summary>
    private static string ShapeStep(OnnxGraphBuilder b, string x, QuantizedStep step) => step is MaxPoolStep p
        ? b.Node("MaxPool", new[] { x }, Ints("kernel_shape", p.Kh, p.Kw), Ints("strides", p.Sh, p.Sw), Ints("pads", p.Ph, p.Pw, p.Ph, p.Pw))
        : b.Node("Flatten", new[] { x }, Int("axis", 1));

    /// <summary>The 8-bit type that holds a layer's input codes: uint8 for a grid in [0, 255], int8 in [−128, 127].</summary>
    private static DataType CodeType(string op, QuantizedLayer layer, int index) => (layer.InputMin, layer.InputMax) switch
    {
        ( >= 0, <= 255) => DataType.Uint8,
        ( >= -128, <= 127) => DataType.Int8,
        _ => throw new ArgumentException($"{op}: quantized layer {index} takes codes in [{layer.InputMin}, {layer.InputMax}], which no 8-bit type holds; ONNX export needs input grids of at most 8 bits.", "graph"),
    };

    /// <summary>Codes clipped to [lo, hi], or as they are where the type's own range is no wider.</summary>
    private static string Clamp(OnnxGraphBuilder b, string x, DataType type, int lo, int hi)
    {
        (int min, int max) = type == DataType.Uint8 ? (0, 255) : (-128, 127);
        if (lo <= min && hi >= max) return x;
        return b.Node("Clip", new[] { x, b.Codes("lo", type, Array.Empty<long>(), new[] { Math.Max(lo, min) }), b.Codes("hi", type, Array.Empty<long>(), new[] { Math.Min(hi, max) }) });
    }

    /// <summary>The layer's weights: dims (out, in/groups, kH, kW) for a convolution, (out, in) for a linear layer.</summary>
    private static long[] WeightDims(QuantizedLayer l, bool asConvolution) =>
        asConvolution ? new long[] { l.OutChannels, l.InChannels / l.Groups, l.Kh, l.Kw } : new long[] { l.OutChannels, l.InChannels };

    /// <summary>The attributes of a convolution with the layer's geometry.</summary>
    private static Proto.AttributeProto[] ConvAttributes(QuantizedLayer l) => new[]
    {
        Ints("kernel_shape", l.Kh, l.Kw), Ints("strides", l.Sh, l.Sw), Ints("pads", l.Ph, l.Pw, l.Ph, l.Pw), Ints("dilations", l.Dh, l.Dw), Int("group", l.Groups),
    };

    private static float[] WeightScales(QuantizedLayer l) => l.WeightScales.Select(s => (float)s).ToArray();

    /// <summary>DequantizeLinear of the codes, the weights and the int32 bias, then the float Conv or Gemm: float32 output.</summary>
    private static string DequantizedLayer(OnnxGraphBuilder b, string x, DataType type, QuantizedLayer l, bool int4)
    {
        long[] channels = { l.OutChannels };
        string input = b.Node("DequantizeLinear", new[] { x, b.Float("scale", (float)l.InputScale), b.Codes("zero_point", type, Array.Empty<long>(), new[] { l.InputZero }) });
        string codes = int4
            ? b.Constant("weight", DataType.Int4, WeightDims(l, l.Convolution), l.Weights)
            : b.Codes("weight", DataType.Int8, WeightDims(l, l.Convolution), l.Codes.Select(c => (int)c).ToArray());
        string zero = int4
            ? b.Constant("weight_zero_point", DataType.Int4, channels, new byte[(l.OutChannels + 1) / 2])
            : b.Codes("weight_zero_point", DataType.Int8, channels, new int[l.OutChannels]);
        string weight = b.Node("DequantizeLinear", new[] { codes, b.Floats("weight_scale", channels, WeightScales(l)), zero }, Int("axis", 0));
        var inputs = new List<string> { input, weight };
        if (l.Bias is not null)
        {
            float[] steps = Enumerable.Range(0, l.OutChannels).Select(o => (float)l.Step(o)).ToArray();
            inputs.Add(b.Node("DequantizeLinear", new[] { b.Int32s("bias", channels, l.Bias), b.Floats("bias_scale", channels, steps) }, Int("axis", 0)));
        }
        return l.Convolution ? b.Node("Conv", inputs.ToArray(), ConvAttributes(l)) : b.Node("Gemm", inputs.ToArray(), Int("transB", 1));
    }

    /// <summary>QLinearConv into <paramref name="next"/>'s grid (a linear layer as a 1×1 convolution on (N, F, 1, 1)); the codes clipped to that grid.</summary>
    private static string QLinear(OnnxGraphBuilder b, string x, DataType type, QuantizedLayer l, QuantizedLayer next, DataType nextType)
    {
        long[] channels = { l.OutChannels };
        if (!l.Convolution) x = b.Node("Unsqueeze", new[] { x, b.Int64s("axes", new long[] { 2 }, new long[] { 2, 3 }) });
        var inputs = new List<string>
        {
            x, b.Float("scale", (float)l.InputScale), b.Codes("zero_point", type, Array.Empty<long>(), new[] { l.InputZero }),
            b.Codes("weight", DataType.Int8, WeightDims(l, true), l.Codes.Select(c => (int)c).ToArray()), b.Floats("weight_scale", channels, WeightScales(l)),
            b.Codes("weight_zero_point", DataType.Int8, channels, new int[l.OutChannels]),
            b.Float("output_scale", (float)next.InputScale), b.Codes("output_zero_point", nextType, Array.Empty<long>(), new[] { next.InputZero }),
        };
        if (l.Bias is not null) inputs.Add(b.Int32s("bias", channels, l.Bias));
        string y = b.Node("QLinearConv", inputs.ToArray(), ConvAttributes(l));
        if (!l.Convolution) y = b.Node("Flatten", new[] { y }, Int("axis", 1));
        return Clamp(b, y, nextType, next.InputMin, next.InputMax);
    }

    /// <summary>A Conv node with <paramref name="conv"/>'s geometry and the given weight and bias (its own, or folded).</summary>
    private static string FloatConv(OnnxGraphBuilder b, string x, Conv2d conv, Tensor weight, Tensor? bias)
    {
        var inputs = new List<string> { x, b.Floats("weight", weight.shape, Floats(weight)) };
        if (bias is not null) inputs.Add(b.Floats("bias", bias.shape, Floats(bias)));
        long[] k = conv.kernel_size, s = conv.stride, p = conv.padding!, d = conv.dilation;
        return b.Node("Conv", inputs.ToArray(), Ints("kernel_shape", k[0], k[^1]), Ints("strides", s[0], s[^1]), Ints("pads", p[0], p[^1], p[0], p[^1]),
            Ints("dilations", d[0], d[^1]), Int("group", conv.groups));
    }

    private static float[] Floats(Tensor t) => t.detach().to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
}
