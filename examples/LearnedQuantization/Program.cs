using System;
using System.Collections.Generic;
using System.CommandLine;
using System.IO;
using System.Linq;
using LearnedQuantization;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

// Trains the same small autoencoder four times, each with another way through the rounding of its latent code,
// and compares them on held-out data.
var epochs = new Option<int>("--epochs") { Description = "Training epochs per method (1 to 1000).", DefaultValueFactory = _ => 40 };
var seed = new Option<int>("--seed") { Description = "Seed for the data, the weights and the noise (0 or more).", DefaultValueFactory = _ => 1 };
var output = new Option<DirectoryInfo>("--output") { Description = "Folder for loss-curves.png.", DefaultValueFactory = _ => new DirectoryInfo("output") };
var root = new RootCommand("Learned quantization: hard round vs round_st vs differentiable_round vs soft_round + noise.") { epochs, seed, output };

ParseResult parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors) Console.Error.WriteLine($"error: {error.Message}");
    Console.Error.WriteLine("Run with --help for the options.");
    return 2;
}
if (parsed.Action is not null && args.Any(a => a is "--help" or "-h" or "-?" or "--version")) return parsed.Invoke();
int epochCount = parsed.GetValue(epochs), seedValue = parsed.GetValue(seed);
DirectoryInfo folder = parsed.GetValue(output)!;
if (epochCount is < 1 or > 1000 || seedValue < 0)
{
    Console.Error.WriteLine($"error: --epochs must be 1 to 1000 (got {epochCount}) and --seed 0 or more (got {seedValue}).");
    return 2;
}

torch.set_num_threads(Math.Min(2, Environment.ProcessorCount));
var results = Experiment.Run(epochCount, (ulong)seedValue);

var table = new Table().AddColumns("method", "train loss", "held-out MSE (quantized)", "integer latents");
foreach (var r in results)
{
    table.AddRow(r.Method, $"{r.TrainLoss:0.0000}", $"{r.TestMse:0.0000}", $"{r.IntegerFraction:P0}");
}
AnsiConsole.Write(table);
double hard = results[0].TestMse;
AnsiConsole.MarkupLine($"MSE relative to hard round: {string.Join(", ", results.Skip(1).Select(r => $"{Markup.Escape(r.Method)} {hard / r.TestMse:0.0}× lower"))}");

folder.Create();
string png = Path.Combine(folder.FullName, "loss-curves.png");
LossPlot.Save(results, png);
AnsiConsole.MarkupLine($"Loss curves: [blue]{Markup.Escape(png)}[/]");
return 0;
