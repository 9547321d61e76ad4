using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using ImageCodec;
using QuantizationAwareTraining;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Entropy;
using SoftRound.Tf.Quantization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf.Benchmarks;

/// <summary>
/// Where a training step's time goes (<c>--profile</c>): the medians of each phase of the codec's and the QAT
/// example's steps (forward, backward, clipping, optimiser, auxiliary step), and, for the codec, every layer's forward
/// and forward+backward alone on its own input, grouped by kind. Stopwatch medians over repeated steps, not
/// BenchmarkDotNet's statistics: the step totals for the README come from the two training-step benchmarks.
/// </summary>
public static class StepProfile
{
    private const int Warmup = 5, Steps = 30;

    /// <summary>Prints the tables.</summary>
    public static void Run()
    {
        TorchSharp.torch.set_num_threads(Threads.Count);
        Codec();
        Qat();
    }

    private static void Codec()
    {
        manual_seed(1);
        var trainer = new Training.Trainer(Training.Defaults(SoftRound.Tf.QuantizationMode.SoftRoundNoise, 0.0067, 1_000_000, 1));
        Tensor batch = rand(8, 3, 128, 128);
        Print("codec step (soft round + noise, 8×3×128×128)", Phases(phase => trainer.Step(batch, phase)));

        // Each layer alone, forward then backward of a random upstream gradient, on the input it sees in the step.
        var groups = new Dictionary<string, (double forward, double both)>();
        Tensor x = batch;
        var model = (FactorizedPrior)trainer.Model;
        foreach ((string name, nn.Module module) in model.named_children())
        {
            if (module is not Sequential transform) continue;
            Tensor input = name == "g_s" ? model.analysis(batch).round().detach() : x;
            foreach ((string _, nn.Module child) in transform.named_children())
            {
                var layer = (nn.Module<Tensor, Tensor>)child;
                string kind = child switch { GDN g => g.inverse ? "IGDN" : "GDN", ConvTranspose2d => "transposed conv 5×5/2", _ => "conv 5×5/2" };
                (double f, double b) = Layer(t => layer.call(t), input);
                groups[kind] = groups.TryGetValue(kind, out var sum) ? (sum.forward + f, sum.both + b) : (f, b);
                using (no_grad()) input = layer.call(input);
            }
            if (name == "g_a") x = input;
        }
        EntropyBottleneck bottleneck = model.EntropyBottleneck;
        groups["entropy bottleneck (quantizer + density)"] = Layer(t => { var (yHat, p) = bottleneck.forward(t); return yHat + p; }, x);
        groups["its auxiliary loss"] = Layer(_ => bottleneck.loss(), x);
        Console.WriteLine("| layer kind (codec) | forward ms | forward+backward ms |");
        Console.WriteLine("|---|---:|---:|");
        foreach (var (kind, (f, b)) in groups) Console.WriteLine($"| {kind} | {f:0.00} | {b:0.00} |");
        Console.WriteLine($"| sum | {groups.Values.Sum(v => v.forward):0.00} | {groups.Values.Sum(v => v.both):0.00} |");
        Console.WriteLine();
    }

    private static void Qat()
    {
        manual_seed(1);
        Tensor images = rand(128, 1, 28, 28), labels = randint(0, 10, new long[] { 128 });
        Sequential floatModel = Cnn.Float();
        foreach ((string label, Sequential model) in new[]
        {
            ("float CNN, batch 128", floatModel),
            ("QAT 4-bit LSQ straight-through, batch 128", Cnn.Quantized(floatModel, 4, RoundingGradient.StraightThrough, null, learnScales: true)),
        })
        {
            model.train();
            var adam = optim.Adam(model.parameters(), 5e-4);
            Print(label, Phases(phase => Experiment.Step(model, adam, images, labels, phase)));
        }
    }

    private static Dictionary<string, double> Phases(Action<Action<string>> step)
    {
        var times = new Dictionary<string, List<double>>();
        var watch = new Stopwatch();
        for (int i = 0; i < Warmup + Steps; i++)
        {
            var total = Stopwatch.StartNew();
            watch.Restart();
            step(phase =>
            {
                if (i >= Warmup) Add(times, phase, watch.Elapsed.TotalMilliseconds);
                watch.Restart();
            });
            if (i >= Warmup) Add(times, "whole step", total.Elapsed.TotalMilliseconds);
        }
        return times.ToDictionary(p => p.Key, p => Median(p.Value));
    }

    private static (double forward, double both) Layer(Func<Tensor, Tensor> f, Tensor input)
    {
        var forward = new List<double>();
        var both = new List<double>();
        for (int i = 0; i < Warmup + Steps; i++)
        {
            using var scope = NewDisposeScope();
            Tensor leaf = input.detach().requires_grad_(true);
            var watch = Stopwatch.StartNew();
            Tensor y = f(leaf);
            double forwardTime = watch.Elapsed.TotalMilliseconds;
            Tensor upstream = ones_like(y);
            watch.Restart();
            y.backward(new[] { upstream });
            double backwardTime = watch.Elapsed.TotalMilliseconds;
            if (i < Warmup) continue;
            forward.Add(forwardTime);
            both.Add(forwardTime + backwardTime);
        }
        return (Median(forward), Median(both));
    }

    private static void Print(string title, Dictionary<string, double> phases)
    {
        double whole = phases["whole step"];
        Console.WriteLine($"| {title} | median ms | share |");
        Console.WriteLine("|---|---:|---:|");
        foreach (var (phase, ms) in phases.Where(p => p.Key != "whole step")) Console.WriteLine($"| {phase} | {ms:0.00} | {ms / whole:0%} |");
        Console.WriteLine($"| whole step ({1000 / whole:0.0} steps/s) | {whole:0.00} | |");
        Console.WriteLine();
    }

    private static void Add(Dictionary<string, List<double>> times, string key, double value)
    {
        if (!times.TryGetValue(key, out var list)) times[key] = list = new List<double>();
        list.Add(value);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.OrderBy(v => v).ToList();
        return sorted[sorted.Count / 2];
    }
}
