using System.Linq;
using BenchmarkDotNet.Attributes;
using QuantizationAwareTraining;
using SoftRound.Tf.Onnx;
using SoftRound.Tf.Quantization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf.Benchmarks;

/// <summary>
/// Inference of the QAT example's CNN (<see cref="Cnn.Float"/>, batch norms folded) on a batch of 28×28 images: the
/// float model in TorchSharp (the baseline, eval mode, no_grad), the float model exported to ONNX in ONNX Runtime, the
/// 8-bit quantized model exported to ONNX as QDQ, as QOperator and as IntegerInFloat in ONNX Runtime, and the C# integer reference
/// (<see cref="IntegerModel.forward"/>). Every runtime on <see cref="Threads.Count"/> threads.
/// </summary>
public class OnnxInferenceBenchmark
{
    private Sequential floatModel = null!;
    private IntegerModel integer = null!;
    private OnnxClassifier onnxFloat = null!, onnxQdq = null!, onnxQOperator = null!, onnxIntegerInFloat = null!;
    private Tensor images = null!;
    private float[] pixels = null!;

    /// <summary>Images per batch.</summary>
    [Params(1, 256)]
    public int Batch { get; set; }

    /// <summary>Seeded models (the quantizers set on one training-mode batch), their exports and one batch.</summary>
    [GlobalSetup]
    public void Setup()
    {
        set_num_threads(Threads.Count);
        manual_seed(1);
        images = rand(Batch, 1, 28, 28);
        pixels = images.data<float>().ToArray();
        floatModel = Cnn.Float();
        Sequential quantized = Cnn.Quantized(floatModel, 8, RoundingGradient.StraightThrough, null, learnScales: true);
        quantized.train();
        using (no_grad()) quantized.forward(rand(64, 1, 28, 28)).Dispose();
        quantized.eval();
        floatModel.eval();
        QuantizedGraph graph = QuantizedGraph.capture(quantized);
        integer = IntegerModel.from_graph(graph);
        onnxFloat = new OnnxClassifier(OnnxExport.export(floatModel), Threads.Count);
        onnxQdq = new OnnxClassifier(OnnxExport.export(graph, OnnxQuantFormat.Qdq), Threads.Count);
        onnxQOperator = new OnnxClassifier(OnnxExport.export(graph, OnnxQuantFormat.QOperator), Threads.Count);
        onnxIntegerInFloat = new OnnxClassifier(OnnxExport.export(graph, OnnxQuantFormat.IntegerInFloat), Threads.Count);
    }

    /// <summary>The float model in TorchSharp.</summary>
    [Benchmark(Baseline = true)]
    public long TorchSharpFloat()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return floatModel.forward(images).argmax(1)[0].item<long>();
    }

    /// <summary>The float model's ONNX export in ONNX Runtime.</summary>
    [Benchmark]
    public long OnnxRuntimeFloat() => onnxFloat.Predict(pixels, Batch)[0];

    /// <summary>The 8-bit model's ONNX export (QDQ) in ONNX Runtime.</summary>
    [Benchmark]
    public long OnnxRuntimeInt8Qdq() => onnxQdq.Predict(pixels, Batch)[0];

    /// <summary>The 8-bit model's ONNX export (QOperator) in ONNX Runtime.</summary>
    [Benchmark]
    public long OnnxRuntimeInt8QOperator() => onnxQOperator.Predict(pixels, Batch)[0];

    /// <summary>The 8-bit model's ONNX export (IntegerInFloat: int8 weights, integer arithmetic in float32 operators) in ONNX Runtime.</summary>
    [Benchmark]
    public long OnnxRuntimeIntegerInFloat() => onnxIntegerInFloat.Predict(pixels, Batch)[0];

    /// <summary>The 8-bit model in the C# integer reference.</summary>
    [Benchmark]
    public long IntegerReference()
    {
        using var scope = NewDisposeScope();
        return integer.forward(images).argmax(1)[0].item<long>();
    }

    /// <summary>Disposes the sessions, models and the batch.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var d in new System.IDisposable[] { onnxFloat, onnxQdq, onnxQOperator, onnxIntegerInFloat, floatModel, images }) d.Dispose();
    }
}
