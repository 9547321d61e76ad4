using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf.Quantization;

/// <summary>
/// A quantization-aware model exported for integer inference, and that inference: a <see cref="QuantizedGraph"/>
/// (integer weights, int8 or int4 packed two per byte, their scales, the inputs' scales and zero points, int32 biases)
/// with its own file format and a reference inference in plain C#: every layer accumulates Σ (q_x − Z_x)·q_w + q_b in
/// int32 and requantizes into the next layer's input grid with a fixed-point multiplier; ReLU and max pooling act on
/// the codes. For deployment, <see cref="SoftRound.Tf.Onnx.OnnxExport"/> writes the same graph for ONNX Runtime.
/// </summary>
/// <remarks>
/// <para>What it exports: see <see cref="QuantizedGraph"/>. The output is the last layer's accumulator times s_x·s_w
/// (its "step"), in float32.</para>
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
    private IntegerModel(QuantizedGraph graph) => this.graph = graph;

    /// <summary>The captured graph this model runs and stores.</summary>
    public QuantizedGraph graph { get; }

    /// <summary>The number of quantized layers.</summary>
    public int layer_count => graph.layer_count;

    /// <summary>The weights' bytes as stored (int4 packed two per byte).</summary>
    public long weight_bytes => graph.weight_bytes;

    /// <summary>Exports a trained quantization-aware model (its quantizers must be initialised): <see cref="QuantizedGraph.capture"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentException">As <see cref="QuantizedGraph.capture"/>, the message naming this member.</exception>
    public static IntegerModel export(Sequential model) => new(QuantizedGraph.Capture(model, "IntegerModel.export"));

    /// <summary>The integer inference of <paramref name="graph"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="graph"/> is null.</exception>
    public static IntegerModel from_graph(QuantizedGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph, nameof(graph));
        return new IntegerModel(graph);
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
        var first = (QuantizedLayer)graph.Steps[0];
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
        long[] outShape = IntegerReference.OutputShape(graph, sample);
        int outCount = (int)outShape.Aggregate(1L, (a, b) => a * b);
        var output = new float[n * outCount];
        Parallel.For(0, (int)n, i => IntegerReference.Run(graph, data.AsSpan(i * per, per).ToArray(), sample).CopyTo(output, i * outCount));
        return tensor(output, new[] { n }.Concat(outShape).ToArray()).MoveToOuterDisposeScope();
    }

    /// <summary>Writes the model (the format in the remarks).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    public void save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream, nameof(stream));
        IntegerModelFormat.Write(graph, stream);
    }

    /// <summary>Reads a model written by <see cref="save"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    /// <exception cref="InvalidDataException">The bytes are not such a model: truncated, corrupted (checksum), another format or version, values out of range, or trailing bytes.</exception>
    public static IntegerModel load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream, nameof(stream));
        return new IntegerModel(IntegerModelFormat.Read(stream));
    }

    /// <summary>
    /// The codes every quantized layer takes as input, for one sample (C, H, W) or (F): the first layer's the quantized
    /// input, the others the requantized outputs of the layer before (after its ReLU and pooling).
    /// </summary>
    internal List<int[]> InputCodes(float[] x, long[] shape)
    {
        var codes = new List<int[]>();
        IntegerReference.Run(graph, x, shape, codes);
        return codes;
    }
}
