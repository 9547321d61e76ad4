using System;
using System.CommandLine;
using System.IO;
using System.Linq;
using ImageCodec;
using SoftRound.Tf;
using Spectre.Console;
using static TorchSharp.torch;

// A learned image codec (Ballé et al. 2018's factorized prior) built on SoftRound.Tf:
//   train       trains a model on the photographs in data/train and writes its weights
//   compress    in.png out.srz
//   decompress  in.srz out.png
// Errors in the input (a missing file, a file that is not an image or not an .srz made by these weights, a damaged
// file) print one line and exit with code 2.
var weightsOption = new Option<FileInfo>("--weights") { Description = "The trained weights.", DefaultValueFactory = _ => new FileInfo(Path.Combine(AppContext.BaseDirectory, "weights", "default.srzw")) };
var input = new Argument<FileInfo>("input");
var output = new Argument<FileInfo>("output");
var compress = new Command("compress", "Compress a PNG or JPEG image to an .srz file.") { input, output, weightsOption };
var decompress = new Command("decompress", "Decompress an .srz file to a PNG image.") { input, output, weightsOption };

var data = new Option<DirectoryInfo>("--data") { Description = "Folder of training images.", DefaultValueFactory = _ => new DirectoryInfo(Path.Combine(AppContext.BaseDirectory, "data", "train")) };
var outputWeights = new Option<FileInfo>("--output") { Description = "Where to write the weights.", DefaultValueFactory = _ => new FileInfo("codec.srzw") };
var steps = new Option<int>("--steps") { Description = "Training steps (1 to 10⁶).", DefaultValueFactory = _ => 2000 };
var lambda = new Option<double>("--lambda") { Description = "λ of R + λ·D (D = MSE on [0, 255]²).", DefaultValueFactory = _ => 0.0035 };
var mode = new Option<QuantizationMode>("--mode") { Description = "The training quantizer.", DefaultValueFactory = _ => QuantizationMode.UniformNoise };
var channels = new Option<int>("--n") { Description = "Hidden channels N.", DefaultValueFactory = _ => 32 };
var latents = new Option<int>("--m") { Description = "Latent channels M.", DefaultValueFactory = _ => 48 };
var seed = new Option<int>("--seed") { Description = "Seed (0 or more).", DefaultValueFactory = _ => 1 };
var train = new Command("train", "Train a codec for R + λ·D on random 128×128 crops.") { data, outputWeights, steps, lambda, mode, channels, latents, seed };

var root = new RootCommand("A learned image codec: the factorized prior of Ballé et al. 2018, on SoftRound.Tf.") { compress, decompress, train };
ParseResult parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors) Console.Error.WriteLine($"error: {error.Message}");
    return 2;
}
if (parsed.CommandResult.Command == root || args.Any(a => a is "--help" or "-h" or "-?" or "--version")) return parsed.Invoke();
set_num_threads(Math.Min(2, Environment.ProcessorCount));
try
{
    if (parsed.CommandResult.Command == compress)
    {
        (FactorizedPrior model, _) = ModelFile.Load(parsed.GetValue(weightsOption)!.FullName);
        Tensor image = Images.Decode(File.ReadAllBytes(parsed.GetValue(input)!.FullName));
        byte[] file = Codec.Compress(model, image);
        File.WriteAllBytes(parsed.GetValue(output)!.FullName, file);
        Console.WriteLine($"{file.Length} bytes, {file.Length * 8.0 / (image.shape[2] * image.shape[3]):0.000} bits per pixel");
        return 0;
    }
    if (parsed.CommandResult.Command == decompress)
    {
        (FactorizedPrior model, _) = ModelFile.Load(parsed.GetValue(weightsOption)!.FullName);
        Tensor image = Codec.Decompress(model, File.ReadAllBytes(parsed.GetValue(input)!.FullName));
        File.WriteAllBytes(parsed.GetValue(output)!.FullName, Images.Encode(image));
        return 0;
    }
    int stepCount = parsed.GetValue(steps), seedValue = parsed.GetValue(seed), n = parsed.GetValue(channels), m = parsed.GetValue(latents);
    double lambdaValue = parsed.GetValue(lambda);
    if (stepCount is < 1 or > 1_000_000 || seedValue < 0 || n is < 1 or > 1024 || m is < 1 or > 1024 || !(lambdaValue > 0 && double.IsFinite(lambdaValue)))
    {
        Console.Error.WriteLine("error: --steps must be 1 to 10⁶, --seed 0 or more, --n and --m 1 to 1024, and --lambda finite and > 0.");
        return 2;
    }
    var images = parsed.GetValue(data)!.EnumerateFiles().Where(f => f.Extension is ".png" or ".jpg" or ".jpeg")
        .OrderBy(f => f.Name, StringComparer.Ordinal).Select(f => Images.Decode(File.ReadAllBytes(f.FullName))).ToArray();
    var options = new Training.Options(n, m, parsed.GetValue(mode), 5.0, lambdaValue, stepCount, 8, 128, (ulong)seedValue, 1e-3);
    FactorizedPrior trained = null!;
    var clock = System.Diagnostics.Stopwatch.StartNew();
    AnsiConsole.Progress().Start(context =>
    {
        var task = context.AddTask($"training ({options.Mode}, λ = {lambdaValue})", maxValue: stepCount);
        trained = Training.Run(options, images, (step, loss) =>
        {
            task.Value = step + 1;
            if (step % 50 == 0) task.Description = $"training ({options.Mode}, λ = {lambdaValue}), loss {loss:0.000}";
        });
    });
    FileInfo target = parsed.GetValue(outputWeights)!;
    ModelFile.Save(trained, new ModelFile.Config(n, m, options.Mode, options.Alpha, lambdaValue), target.FullName);
    Console.WriteLine($"trained in {clock.Elapsed.TotalMinutes:0.0} min; weights in {target.FullName}");
    return 0;
}
catch (Exception e) when (e is InvalidDataException or FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException or IOException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}
