using System;
using System.Collections.Generic;
using System.CommandLine;
using System.IO;
using System.Linq;
using QuantizationAwareTraining;
using SoftRound.Tf.Quantization;
using Spectre.Console;
using TorchSharp.Modules;
using static TorchSharp.torch;

// Trains a small CNN on Fashion-MNIST in floating point, quantizes it after training (8, 4, 3, 2 bits) and trains it
// quantization-aware at the same widths with three rounding surrogates; repeats post-training quantization and
// straight-through QAT with the first and last layers kept at 8 bits (LSQ's protocol); then runs the integer export of
// the straight-through QAT models and their ONNX export in ONNX Runtime, and writes the 8-bit one as model.onnx.
var full = new Option<bool>("--full") { Description = "The full run: all 12,000 training images, 30 float epochs and 5 QAT epochs per model (about 5 minutes on 2 cores)." };
var images = new Option<int>("--train-images") { Description = "Training images to use (128 to 12,000; for a quick look).", DefaultValueFactory = _ => 12000 };
var testImages = new Option<int>("--test-images") { Description = "Test images to evaluate on (100 to 10,000; for a quick look).", DefaultValueFactory = _ => 10000 };
var floatEpochsOption = new Option<int?>("--float-epochs") { Description = "Float epochs (1 to 100; default 10, 30 with --full)." };
var qatEpochsOption = new Option<int?>("--qat-epochs") { Description = "QAT epochs per model (1 to 100; default 1, 5 with --full)." };
var seed = new Option<int>("--seed") { Description = "Seed for the weights and the batches (0 or more).", DefaultValueFactory = _ => 1 };
var output = new Option<DirectoryInfo>("--output") { Description = "Folder for qat-accuracy.png.", DefaultValueFactory = _ => new DirectoryInfo("output") };
var root = new RootCommand("Quantization-aware training on Fashion-MNIST: float, post-training quantization and QAT at 8, 4, 3 and 2 bits.") { full, images, testImages, floatEpochsOption, qatEpochsOption, seed, output };

ParseResult parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors) Console.Error.WriteLine($"error: {error.Message}");
    Console.Error.WriteLine("Run with --help for the options.");
    return 2;
}
if (parsed.Action is not null && args.Any(a => a is "--help" or "-h" or "-?" or "--version")) return parsed.Invoke();
int seedValue = parsed.GetValue(seed), imageCount = parsed.GetValue(images), testCount = parsed.GetValue(testImages);
bool isFull = parsed.GetValue(full);
int floatEpochs = parsed.GetValue(floatEpochsOption) ?? (isFull ? 30 : 10), qatEpochs = parsed.GetValue(qatEpochsOption) ?? (isFull ? 5 : 1);
if (seedValue < 0 || imageCount is < 128 or > 12000 || testCount is < 100 or > 10000 || floatEpochs is < 1 or > 100 || qatEpochs is < 1 or > 100)
{
    Console.Error.WriteLine($"error: --seed must be 0 or more (got {seedValue}), --train-images 128 to 12000 (got {imageCount}), --test-images 100 to 10000 (got {testCount}), --float-epochs and --qat-epochs 1 to 100 (got {floatEpochs} and {qatEpochs}).");
    return 2;
}
DirectoryInfo folder = parsed.GetValue(output)!;

set_num_threads(Math.Min(2, Environment.ProcessorCount));
// Training allocates the same tensors every step: keep freed native memory for them (README, "Speed").
SoftRound.Tf.Performance.NativeAllocator.keep_freed_memory();
string data = Path.Combine(AppContext.BaseDirectory, "data");
FashionMnist train = FashionMnist.Load(data, "train").Take(imageCount), test = FashionMnist.Load(data, "t10k").Take(testCount);
AnsiConsole.MarkupLine($"Fashion-MNIST: {train.Count:N0} training and {test.Count:N0} test images; {floatEpochs} float epochs, {qatEpochs} QAT epoch(s) per model, seed {seedValue}.");

var outcomes = new List<Outcome>();
var integers = new List<IntegerOutcome>();
AnsiConsole.Progress()
    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
    .Start(progress =>
    {
        var experiment = new Experiment(train, test, (ulong)seedValue, floatEpochs, qatEpochs, progress);
        (Sequential trained, Outcome floatOutcome) = experiment.TrainFloat();
        outcomes.Add(floatOutcome);
        foreach (int bits in Experiment.Widths) outcomes.Add(experiment.PostTraining(trained, bits).outcome);
        foreach (int bits in Experiment.Widths.Where(b => b < 8)) outcomes.Add(experiment.PostTraining(trained, bits, edgesAt8Bits: true).outcome);
        foreach (Surrogate surrogate in Experiment.Surrogates)
        {
            foreach (int bits in Experiment.Widths)
            {
                if (surrogate.EdgesAt8Bits && bits == 8) continue;
                (Sequential model, Outcome outcome) = experiment.QuantizationAware(trained, bits, surrogate);
                outcomes.Add(outcome);
                if (surrogate.Rounding == RoundingGradient.StraightThrough) integers.Add(experiment.Integer(model, outcome));
            }
        }
    });

double floatAccuracy = outcomes[0].Accuracy;
var table = new Table().AddColumn("method");
foreach (int bits in Experiment.Widths) table.AddColumn($"{bits} bits", c => c.RightAligned());
table.AddRow("float", $"{floatAccuracy:P2}", "", "", "");
foreach (var group in outcomes.Skip(1).GroupBy(o => o.Method))
{
    table.AddRow(new[] { Markup.Escape(group.Key) }.Concat(Experiment.Widths.Select(b =>
    {
        Outcome? o = group.FirstOrDefault(x => x.Bits == b);
        return o is null ? "—" : $"{o.Accuracy:P2} ({(o.Accuracy - floatAccuracy) * 100:+0.00;-0.00})";
    })).ToArray());
}
AnsiConsole.MarkupLine("[bold]Test accuracy[/] (points against float in brackets):");
AnsiConsole.Write(table);

var integerTable = new Table().AddColumns("QAT model (straight-through)", "fake-quantized", "integer inference", "predictions that differ", "ONNX Runtime", "differ from integer", "weight bytes");
foreach (IntegerOutcome i in integers)
{
    integerTable.AddRow(i.Method == Experiment.Surrogates[0].Name ? $"{i.Bits} bits" : $"{i.Bits} bits, first/last layer 8 bits", $"{i.FakeQuantizedAccuracy:P2}", $"{i.IntegerAccuracy:P2}",
        $"{i.Disagreements} of {test.Count:N0}", $"{i.OnnxAccuracy:P2}", $"{i.OnnxDisagreements} of {test.Count:N0}", $"{i.WeightBytes:N0}");
}
AnsiConsole.MarkupLine("[bold]Integer export[/] (int32 accumulation, fixed-point requantization; ONNX: the same graph as QDQ in ONNX Runtime):");
AnsiConsole.Write(integerTable);

folder.Create();
// The 8-bit straight-through QAT model, as a deployment would take it: the integer format and ONNX.
IntegerOutcome eight = integers.First(i => i.Bits == 8 && i.Method == Experiment.Surrogates[0].Name);
string integerFile = Path.Combine(folder.FullName, "model.srqi"), onnxFile = Path.Combine(folder.FullName, "model.onnx");
using (FileStream file = File.Create(integerFile)) eight.Integer.save(file);
File.WriteAllBytes(onnxFile, eight.Onnx);
AnsiConsole.MarkupLine($"8-bit model: [blue]{Markup.Escape(onnxFile)}[/] (ONNX, {eight.Onnx.Length:N0} bytes; {eight.OnnxAccuracy:P2} in ONNX Runtime) and [blue]{Markup.Escape(integerFile)}[/] (integer format).");
string png = Path.Combine(folder.FullName, "qat-accuracy.png");
AccuracyPlot.Save(outcomes, png);
AnsiConsole.MarkupLine($"Plot: [blue]{Markup.Escape(png)}[/]");
return 0;
