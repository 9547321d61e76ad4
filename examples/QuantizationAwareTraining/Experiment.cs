using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using SoftRound.Tf.Quantization;
using Spectre.Console;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Adam = SoftRound.Tf.Optim.Adam;

namespace QuantizationAwareTraining;

/// <summary>One trained or calibrated model's test accuracy.</summary>
public sealed record Outcome(string Method, int Bits, double Accuracy, double Seconds);

/// <summary>The integer model's agreement with its fake-quantized source on the test set.</summary>
public sealed record IntegerOutcome(string Method, int Bits, double FakeQuantizedAccuracy, double IntegerAccuracy, int Disagreements, long WeightBytes, double Seconds,
    double OnnxAccuracy, int OnnxDisagreements, IntegerModel Integer, byte[] Onnx);

/// <summary>
/// A QAT recipe: name, rounding gradient, steepness, and whether the first and last layers stay at 8 bits (LSQ's
/// protocol) instead of the stated width.
/// </summary>
public sealed record Surrogate(string Name, RoundingGradient Rounding, double? Steepness, bool EdgesAt8Bits = false);

/// <summary>Float training, post-training quantization and quantization-aware training on Fashion-MNIST.</summary>
public sealed class Experiment(FashionMnist train, FashionMnist test, ulong seed, int floatEpochs, int qatEpochs, ProgressContext progress)
{
    /// <summary>The bit widths compared.</summary>
    public static readonly int[] Widths = { 8, 4, 3, 2 };

    /// <summary>
    /// Straight through, soft round (α = 2) and the sigmoid round (k = 4) with every layer at the stated width; then
    /// straight through with the first and last layers at 8 bits (not run at 8 bits, where it is the first recipe).
    /// </summary>
    public static readonly Surrogate[] Surrogates =
    {
        new("QAT, straight-through", RoundingGradient.StraightThrough, null),
        new("QAT, soft round (α 2)", RoundingGradient.SoftRound, 2),
        new("QAT, sigmoid round (k 4)", RoundingGradient.DifferentiableRound, 4),
        new("QAT, straight-through, first/last layer 8 bits", RoundingGradient.StraightThrough, null, EdgesAt8Bits: true),
    };

    private const int BatchSize = 128;

    /// <summary>Trains the float model: Adam 2e−3, batch 128, the learning rate cosine-annealed to 0.</summary>
    public (Sequential model, Outcome outcome) TrainFloat()
    {
        manual_seed((long)seed);
        Sequential model = Cnn.Float();
        var watch = Stopwatch.StartNew();
        Train(model, floatEpochs, 2e-3, "float");
        return (model, new Outcome("float", 32, Accuracy(model), watch.Elapsed.TotalSeconds));
    }

    /// <summary>
    /// Post-training quantization: min/max weights, MSE-calibrated activations on 1,024 training images; with
    /// <paramref name="edgesAt8Bits"/> the first and last layers at 8 bits.
    /// </summary>
    public (Sequential model, Outcome outcome) PostTraining(Sequential trained, int bits, bool edgesAt8Bits = false)
    {
        var watch = Stopwatch.StartNew();
        Sequential model = Cnn.Quantized(trained, bits, RoundingGradient.StraightThrough, null, learnScales: false, edgesAt8Bits);
        FakeQuantizeLayer[] quantizers = Cnn.Quantizers(model);
        model.train();
        foreach (FakeQuantizeLayer q in quantizers) q.fake_quant_enabled = false;
        using (no_grad())
        {
            for (int start = 0; start + BatchSize <= Math.Min(1024, train.Count); start += BatchSize)
            {
                using var scope = NewDisposeScope();
                model.forward(train.Images[start..(start + BatchSize)]);
            }
        }
        foreach (FakeQuantizeLayer q in quantizers) q.fake_quant_enabled = true;
        model.eval();
        return (model, new Outcome(edgesAt8Bits ? "post-training, first/last layer 8 bits" : "post-training", bits, Accuracy(model), watch.Elapsed.TotalSeconds));
    }

    /// <summary>QAT from the float model: LSQ scales initialised on the first batch, Adam 5e−4 cosine-annealed, batch-norm statistics frozen.</summary>
    public (Sequential model, Outcome outcome) QuantizationAware(Sequential trained, int bits, Surrogate surrogate)
    {
        manual_seed((long)seed + bits);
        var watch = Stopwatch.StartNew();
        Sequential model = Cnn.Quantized(trained, bits, surrogate.Rounding, surrogate.Steepness, learnScales: true, surrogate.EdgesAt8Bits);
        // The batch norms' statistics stay those of the float model (torch.ao freezes them after the first QAT epochs;
        // these runs are that short): a measured one-epoch run that updated them lost 1.5 to 4.4 points at 4 bits.
        foreach ((string _, nn.Module m) in model.named_modules()) if (m is QuantConvBn2d folded) folded.freeze_bn_stats();
        Train(model, qatEpochs, 5e-4, $"{surrogate.Name}, {bits} bits");
        return (model, new Outcome(surrogate.Name, bits, Accuracy(model), watch.Elapsed.TotalSeconds));
    }

    /// <summary>
    /// Exports a QAT model to the integer format (saved and loaded again) and to ONNX (QDQ), and runs both on the whole
    /// test set: the integer reference in C#, the ONNX model in ONNX Runtime.
    /// </summary>
    public IntegerOutcome Integer(Sequential model, Outcome outcome)
    {
        var watch = Stopwatch.StartNew();
        QuantizedGraph graph = QuantizedGraph.capture(model);
        var stream = new System.IO.MemoryStream();
        IntegerModel.from_graph(graph).save(stream);
        IntegerModel integer = IntegerModel.load(new System.IO.MemoryStream(stream.ToArray()));
        byte[] onnx = SoftRound.Tf.Onnx.OnnxExport.export(integer.graph);
        using var runtime = new OnnxClassifier(onnx, threads: 2);
        long correct = 0, disagree = 0, onnxCorrect = 0, onnxDisagree = 0;
        for (long start = 0; start < test.Count; start += 1000)
        {
            using var scope = NewDisposeScope();
            Tensor x = test.Images[(int)start..(int)Math.Min(start + 1000, test.Count)];
            Tensor labels = test.Labels[(int)start..(int)Math.Min(start + 1000, test.Count)];
            Tensor fake;
            using (no_grad()) fake = model.forward(x).argmax(1);
            Tensor predicted = integer.forward(x).argmax(1);
            Tensor fromOnnx = tensor(runtime.Predict(x.contiguous().data<float>().ToArray(), (int)x.shape[0]));
            correct += predicted.eq(labels).sum().item<long>();
            disagree += predicted.ne(fake).sum().item<long>();
            onnxCorrect += fromOnnx.eq(labels).sum().item<long>();
            onnxDisagree += fromOnnx.ne(predicted).sum().item<long>();
        }
        return new IntegerOutcome(outcome.Method, outcome.Bits, outcome.Accuracy, (double)correct / test.Count, (int)disagree, integer.weight_bytes, watch.Elapsed.TotalSeconds,
            (double)onnxCorrect / test.Count, (int)onnxDisagree, integer, onnx);
    }

    private void Train(Sequential model, int epochs, double learningRate, string label)
    {
        ProgressTask task = progress.AddTask(Markup.Escape(label), maxValue: epochs * (train.Count / BatchSize));
        model.train();
        using var optimizer = new Adam(model.parameters(), learningRate);
        long steps = epochs * (train.Count / BatchSize), step = 0;
        var generator = new Generator(seed);
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            Tensor order = randperm(train.Count, generator: generator);
            for (long start = 0; start + BatchSize <= train.Count; start += BatchSize)
            {
                foreach (var group in optimizer.ParamGroups) group.LearningRate = learningRate * 0.5 * (1 + Math.Cos(Math.PI * step / steps));
                using (NewDisposeScope())
                {
                    Tensor index = order[(int)start..(int)(start + BatchSize)];
                    Step(model, optimizer, train.Images[index], train.Labels[index]);
                }
                step++;
                task.Increment(1);
            }
            order.Dispose();
        }
        model.eval();
    }

    /// <summary>
    /// One training step: the cross-entropy of the batch, its gradient and an optimiser step. <paramref name="phase"/>,
    /// when given, is called as each phase ends ("forward", "backward", "step"), for profiling.
    /// </summary>
    public static void Step(Sequential model, optim.Optimizer optimizer, Tensor images, Tensor labels, Action<string>? phase = null)
    {
        optimizer.zero_grad();
        using (NewDisposeScope())
        {
            Tensor loss = nn.functional.cross_entropy(model.forward(images), labels);
            phase?.Invoke("forward");
            loss.backward();
            phase?.Invoke("backward");
        }
        optimizer.step();
        phase?.Invoke("step");
    }

    private double Accuracy(Sequential model)
    {
        model.eval();
        long correct = 0;
        using (no_grad())
        {
            for (long start = 0; start < test.Count; start += 1000)
            {
                using var scope = NewDisposeScope();
                long end = Math.Min(start + 1000, test.Count);
                correct += model.forward(test.Images[(int)start..(int)end]).argmax(1).eq(test.Labels[(int)start..(int)end]).sum().item<long>();
            }
        }
        return (double)correct / test.Count;
    }
}
