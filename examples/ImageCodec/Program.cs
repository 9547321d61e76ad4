using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using ImageCodec;
using SoftRound.Tf;
using Spectre.Console;
using static TorchSharp.torch;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Performance;

// A learned image codec (Ballé et al. 2018's factorized prior and hyperprior models) built on SoftRound.Tf:
//   eval        the rate–distortion tables and plot of every weights file in a folder against JPEG and WebP, on the held-out photographs
//   compress    in.png out.srz [--quality 1..6 | --weights file]
//   decompress  in.srz out.png (the weights of the level the file records, or --weights)
//   train       trains one model; sweep trains every quantizer at several λ and seeds
//   compare     before.csv after.csv: the BD-rate and BD-PSNR of each method's curve in one eval output against the other's
//   average     a.srzw b.srzw … --output soup.srzw: the mean of trained models' weights (runs from one start)
// Errors in the input (a missing file, a file that is not an image or not an .srz made by these weights, a damaged
// file) print one line and exit with code 2.
string here = AppContext.BaseDirectory;
var weightsOption = new Option<FileInfo?>("--weights") { Description = "Trained weights to use instead of a quality level's." };
var quality = new Option<int>("--quality") { Description = $"Quality level, 1 (about 0.1 bpp) to {SrzFile.MaxQuality} (about 1 bpp): the committed weights weights/q<level>.srzw.", DefaultValueFactory = _ => 3 };
var input = new Argument<FileInfo>("input");
var output = new Argument<FileInfo>("output");
var refine = new Option<int>("--refine") { Description = "Refine the latents for this image with so many steps of gradient descent on R + λ·D (0 to 10,000; 0: none; about 0.1 s a step for 512×512 on 2 cores). Mean-scale and autoregressive models; the decoder is the same.", DefaultValueFactory = _ => 0 };
var compress = new Command("compress", "Compress a PNG or JPEG image to an .srz file.") { input, output, quality, weightsOption, refine };
var decompress = new Command("decompress", "Decompress an .srz file to a PNG image.") { input, output, weightsOption };

var weightsFolder = new Option<DirectoryInfo>("--weights-dir") { Description = "Folder of weights files (*.srzw) to evaluate.", DefaultValueFactory = _ => new DirectoryInfo(Path.Combine(here, "weights")) };
var imagesFolder = new Option<DirectoryInfo>("--images") { Description = "Held-out images.", DefaultValueFactory = _ => new DirectoryInfo(Path.Combine(here, "data", "eval")) };
var results = new Option<DirectoryInfo>("--output") { Description = "Folder for rd.csv and rd.png.", DefaultValueFactory = _ => new DirectoryInfo("output") };
var eval = new Command("eval", "Rate and distortion of every weights file in a folder, and of JPEG, on the held-out photographs.") { weightsFolder, imagesFolder, results, refine };

var data = new Option<DirectoryInfo>("--data") { Description = "Folder of training images.", DefaultValueFactory = _ => new DirectoryInfo(Path.Combine(here, "data", "train")) };
var outputWeights = new Option<FileInfo>("--output") { Description = "Where to write the weights.", DefaultValueFactory = _ => new FileInfo("codec.srzw") };
var steps = new Option<int>("--steps") { Description = "Training steps per model (1 to 10⁶).", DefaultValueFactory = _ => 1000 };
var lambda = new Option<double>("--lambda") { Description = "λ of R + λ·D (D = MSE on [0, 255]²).", DefaultValueFactory = _ => 0.0067 };
var mode = new Option<QuantizationMode>("--mode") { Description = "The training quantizer.", DefaultValueFactory = _ => QuantizationMode.SoftRoundNoise };
var seed = new Option<int>("--seed") { Description = "Seed (0 or more).", DefaultValueFactory = _ => 1 };
var architecture = new Option<Architecture>("--architecture") { Description = "The model.", DefaultValueFactory = _ => Architecture.FactorizedPrior };
var init = new Option<FileInfo?>("--init") { Description = "Start from this weights file's weights where names and shapes match (fine-tuning, or g_a and g_s of a factorized model); a file of the same architecture with smaller N or M, widened to --n and --m with its function kept." };
var threads = new Option<int>("--threads") { Description = "Threads (1 or 2); two runs of one thread each use 2 cores as well.", DefaultValueFactory = _ => 1 };
var noOneDnn = new Option<bool>("--no-onednn") { Description = "Train with libtorch's own convolutions, without checking oneDNN's (which train about 1.5 to 1.9 times faster where they pass the check)." };
var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Write a checkpoint (the output's name + .ckpt) every so many steps.", DefaultValueFactory = _ => 1000 };
var resume = new Option<bool>("--resume") { Description = "Continue from the checkpoint a stopped run of the same command left." };
var spikeFactor = new Option<double>("--spike-factor") { Description = "A step whose loss is not finite or above this many times the median of the last 200 sends the weights back to the last checkpoint's (0: never).", DefaultValueFactory = _ => 10 };
var learningRate = new Option<double>("--learning-rate") { Description = "Adam's step size for the transforms and densities (above 0, at most 1), cut tenfold for the last fifth of the steps.", DefaultValueFactory = _ => 1e-3 };
var hidden = new Option<int>("--n") { Description = $"N, the transforms' channels (1 to {ModelFile.MaxChannels}); with --init from a smaller model, that model widened (its function kept).", DefaultValueFactory = _ => Training.DefaultN };
var latent = new Option<int>("--m") { Description = $"M, the latents' channels (1 to {ModelFile.MaxChannels}); as --n.", DefaultValueFactory = _ => Training.DefaultM };
var crop = new Option<int>("--crop") { Description = $"Side of the square training crops, a multiple of 64 from 64 to {Training.MaxCrop} (photographs smaller than it are left out).", DefaultValueFactory = _ => Training.DefaultCrop };
var batch = new Option<int>("--batch") { Description = $"Crops a step (1 to {Training.MaxBatch}).", DefaultValueFactory = _ => Training.DefaultBatch };
var decoderMode = new Option<QuantizationMode?>("--decoder-mode") { Description = "Hyperprior models: give the synthesis ŷ made in this mode (RoundSt: rounded, as it will decode them) while the rate stays the training quantizer's." };
var freezeAnalysis = new Option<bool>("--freeze-analysis") { Description = "Keep the analysis transforms (g_a, h_a) as --init has them and train the rest; with --mode RoundSt, the synthesis and entropy models learn the rounded latents they will code (\"soft then hard\" fine-tuning)." };
var train = new Command("train", "Train one codec for R + λ·D on random crops (8 of 128×128 a step unless told).") { data, outputWeights, steps, lambda, mode, seed, architecture, init, threads, checkpointEvery, resume, noOneDnn, spikeFactor, learningRate, decoderMode, hidden, latent, crop, batch, freezeAnalysis };

var sweepFolder = new Option<DirectoryInfo>("--output") { Description = "Folder for the weights files.", DefaultValueFactory = _ => new DirectoryInfo("weights") };
var sweepSteps = new Option<int>("--steps") { Description = "Training steps per model (1 to 10⁶).", DefaultValueFactory = _ => 1000 };
var lambdas = new Option<string>("--lambdas") { Description = "Comma-separated λ values.", DefaultValueFactory = _ => "0.0018,0.0035,0.0067" };
var seeds = new Option<string>("--seeds") { Description = "Comma-separated seeds.", DefaultValueFactory = _ => "1" };
var sweep = new Command("sweep", "Train every quantizer (uniform noise, round_st, soft_round + noise, differentiable_round) at each λ and seed.") { data, sweepFolder, sweepSteps, lambdas, seeds, noOneDnn };

var before = new Argument<FileInfo>("before") { Description = "An rd.csv eval wrote (the anchor)." };
var after = new Argument<FileInfo>("after") { Description = "Another rd.csv, of the same images." };
var compare = new Command("compare", "BD-rate and BD-PSNR of each method's curve in one rd.csv against the same method's curve in another (weights before and after a change).") { before, after };

var averaged = new Argument<FileInfo[]>("weights") { Description = "Two or more weights files of one configuration (runs fine-tuned from one start).", Arity = ArgumentArity.OneOrMore };
var average = new Command("average", "Average the weights of trained models (a model soup) into one weights file; the coding tables rebuilt.") { averaged, outputWeights };

var root = new RootCommand("A learned image codec: the factorized prior and hyperprior models of Ballé et al. 2018 and Minnen et al., on SoftRound.Tf.") { eval, compress, decompress, train, sweep, compare, average };
ParseResult parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors) Console.Error.WriteLine($"error: {error.Message}");
    return 2;
}
if (parsed.CommandResult.Command == root || args.Any(a => a is "--help" or "-h" or "-?" or "--version")) return parsed.Invoke();
// Before libtorch loads: its loading and the convolutions' buffers fault in 512 times fewer pages (README, "Quick to call").
NativeAllocator.use_huge_pages();
// oneDNN's AVX-512 convolutions were wrong for this codec's hyper-synthesis on a machine where its AVX2 ones were
// right (README, "CompressAI's models"); training checks whichever it gets (MkldnnBackend.check) before using them.
if (Environment.GetEnvironmentVariable(MkldnnBackend.MaxCpuIsaVariable) is null) MkldnnBackend.set_max_cpu_isa("AVX2");
set_num_threads(Math.Min(2, Environment.ProcessorCount));
try
{
    Command command = parsed.CommandResult.Command;
    if (command == compress)
    {
        FileInfo? chosen = parsed.GetValue(weightsOption);
        int level = parsed.GetValue(quality);
        if (level is < 1 or > SrzFile.MaxQuality)
        {
            Console.Error.WriteLine($"error: --quality must be 1 to {SrzFile.MaxQuality}; got {level}.");
            return 2;
        }
        int refineSteps = parsed.GetValue(refine);
        if (!RefineInRange(refineSteps)) return 2;
        (CompressionModel model, ModelFile.Config config) = ModelFile.Load(chosen?.FullName ?? LevelWeights(here, level));
        if (refineSteps > 0 && !Codec.CanRefine(model))
        {
            Console.Error.WriteLine($"error: --refine needs a mean-scale or autoregressive model; these weights are {Evaluation.Label(config.Architecture)}.");
            return 2;
        }
        Tensor image = Images.Decode(File.ReadAllBytes(parsed.GetValue(input)!.FullName), out string? conversion);
        if (conversion is not null) Console.Error.WriteLine($"note: the image is {conversion}.");
        byte[] file = Codec.Compress(model, image, chosen is null ? level : 0, refineSteps > 0 ? new Codec.Refinement(config.Lambda, refineSteps) : null);
        File.WriteAllBytes(parsed.GetValue(output)!.FullName, file);
        Console.WriteLine($"{file.Length} bytes, {file.Length * 8.0 / (image.shape[2] * image.shape[3]):0.000} bits per pixel");
        return QuickExit.Now(0);
    }
    if (command == decompress)
    {
        byte[] file = File.ReadAllBytes(parsed.GetValue(input)!.FullName);
        FileInfo? chosen = parsed.GetValue(weightsOption);
        int level = chosen is null ? SrzFile.Quality(file) : 0;
        if (chosen is null && level == 0) throw new InvalidDataException("the file was made with weights named on the command line (quality level 0): give them with --weights.");
        (CompressionModel model, _) = ModelFile.Load(chosen?.FullName ?? LevelWeights(here, level));
        Tensor image = Codec.Decompress(model, file);
        File.WriteAllBytes(parsed.GetValue(output)!.FullName, Images.Encode(image));
        return QuickExit.Now(0);
    }
    if (command == compare)
    {
        FileInfo anchorFile = parsed.GetValue(before)!, testFile = parsed.GetValue(after)!;
        IReadOnlyList<Evaluation.Point> anchor = Evaluation.ReadCsv(anchorFile.Name, File.ReadAllText(anchorFile.FullName));
        IReadOnlyList<Evaluation.Point> test = Evaluation.ReadCsv(testFile.Name, File.ReadAllText(testFile.FullName));
        Print(Evaluation.Compare(anchor, test).Select(r => new[] { r.Method, Number(r.Points), Percent(r.BdRatePsnr), Percent(r.BdRateMsSsim), Decibels(r.BdPsnr) })
            .Prepend(new[] { "method", "points", "BD-rate (PSNR)", "(MS-SSIM)", "BD-PSNR" }).ToList());
        Console.WriteLine($"The bits each curve of {testFile} saves (−) against the same method's curve of {anchorFile}");
        Console.WriteLine("at the same quality, and the PSNR it gains (+) at the same rate, over the range both");
        Console.WriteLine("cover (PCHIP); n/a: they do not overlap.");
        return 0;
    }
    if (command == average)
    {
        FileInfo[] files = parsed.GetValue(averaged)!;
        if (files.Length < 2)
        {
            Console.Error.WriteLine($"error: average needs two or more weights files; got {files.Length}.");
            return 2;
        }
        (CompressionModel soup, ModelFile.Config config) = WeightAveraging.Average(files.Select(f => f.FullName).ToArray());
        FileInfo target = parsed.GetValue(outputWeights)!;
        ModelFile.Save(soup, config, target.FullName);
        Console.WriteLine($"{files.Length} models averaged ({Evaluation.Label(config.Architecture)}, N = {config.N}, M = {config.M}, λ = {Number(config.Lambda)}, {Number(config.Steps)} steps recorded) into {target.FullName}");
        return 0;
    }
    if (command == eval)
    {
        int refineSteps = parsed.GetValue(refine);
        if (!RefineInRange(refineSteps)) return 2;
        return Eval(parsed.GetValue(weightsFolder)!, parsed.GetValue(imagesFolder)!, parsed.GetValue(results)!, refineSteps);
    }
    Tensor[] images = LoadImages(parsed.GetValue(data)!);
    if (command == train)
    {
        int stepCount = parsed.GetValue(steps), seedValue = parsed.GetValue(seed);
        double lambdaValue = parsed.GetValue(lambda);
        int every = parsed.GetValue(checkpointEvery);
        double rate = parsed.GetValue(learningRate);
        int n = parsed.GetValue(hidden), m = parsed.GetValue(latent);
        int side = parsed.GetValue(crop), crops = parsed.GetValue(batch);
        if (side is < 64 or > Training.MaxCrop || side % 64 != 0 || crops is < 1 or > Training.MaxBatch)
        {
            Console.Error.WriteLine($"error: --crop must be a multiple of 64 from 64 to {Training.MaxCrop} (the hyperprior halves it six times) and --batch 1 to {Training.MaxBatch}; got {side} and {crops}.");
            return 2;
        }
        if (stepCount is < 1 or > 1_000_000 || seedValue < 0 || !(lambdaValue > 0 && double.IsFinite(lambdaValue)) || every < 1 || !(rate > 0 && rate <= 1)
            || n is < 1 or > ModelFile.MaxChannels || m is < 1 or > ModelFile.MaxChannels)
        {
            Console.Error.WriteLine($"error: --steps must be 1 to 10⁶, --seed 0 or more, --lambda finite and > 0, --checkpoint-every 1 or more, --learning-rate above 0 and at most 1, and --n and --m 1 to {ModelFile.MaxChannels}.");
            return 2;
        }
        double factor = parsed.GetValue(spikeFactor);
        Training.SpikeGuard? guard = null;
        try
        {
            if (factor != 0) guard = new Training.SpikeGuard(factor);
        }
        catch (ArgumentOutOfRangeException)
        {
            Console.Error.WriteLine($"error: --spike-factor must be 0 (no guard) or finite and above 1; got {Number(factor)}.");
            return 2;
        }
        int threadCount = parsed.GetValue(threads);
        if (threadCount is < 1 or > 2)
        {
            Console.Error.WriteLine($"error: --threads must be 1 or 2; got {threadCount}.");
            return 2;
        }
        set_num_threads(Math.Min(threadCount, Environment.ProcessorCount));
        FileInfo target = parsed.GetValue(outputWeights)!;
        var checkpointing = new Training.Checkpointing(target.FullName + ".ckpt", every, parsed.GetValue(resume));
        if (checkpointing.Resume && !File.Exists(checkpointing.Path)) throw new FileNotFoundException($"no checkpoint {checkpointing.Path} to resume from.");
        Training.Options options = Training.Defaults(parsed.GetValue(mode), lambdaValue, stepCount, seedValue) with
        {
            N = n,
            M = m,
            Architecture = parsed.GetValue(architecture),
            Init = parsed.GetValue(init)?.FullName,
            LearningRate = rate,
            DecoderMode = parsed.GetValue(decoderMode),
            FreezeAnalysis = parsed.GetValue(freezeAnalysis),
            Crop = side,
            Batch = crops,
        };
        // Fine-tuning starts where the annealing of the run it continues ended.
        if (options.Init is not null) options = options with { AlphaStart = null };
        int leftOut = images.Length - Training.Usable(images, side).Length;
        if (leftOut > 0 && leftOut < images.Length) Console.Error.WriteLine($"note: {leftOut} of the {images.Length} training images are smaller than {side}×{side} and are left out.");
        try
        {
            TrainOne(options, images, target, !parsed.GetValue(noOneDnn), checkpointing, guard);
        }
        catch (ArgumentException e) when (e.ParamName is "options" or "images")
        {
            Console.Error.WriteLine($"error: {e.Message.Split(" (Parameter")[0]}");
            return 2;
        }
        return 0;
    }
    int sweepStepCount = parsed.GetValue(sweepSteps);
    double[]? lambdaValues = ParseList(parsed.GetValue(lambdas)!, double.Parse);
    int[]? seedValues = ParseList(parsed.GetValue(seeds)!, int.Parse);
    if (sweepStepCount is < 1 or > 1_000_000 || lambdaValues is null || lambdaValues.Any(l => !(l > 0 && double.IsFinite(l))) || seedValues is null || seedValues.Any(s => s < 0))
    {
        Console.Error.WriteLine("error: --steps must be 1 to 10⁶, --lambdas positive numbers and --seeds integers ≥ 0, comma-separated.");
        return 2;
    }
    DirectoryInfo folder = parsed.GetValue(sweepFolder)!;
    folder.Create();
    var all = System.Diagnostics.Stopwatch.StartNew();
    foreach (int s in seedValues)
    foreach (QuantizationMode m in Training.Quantizers)
    foreach (double l in lambdaValues)
    {
        TrainOne(Training.Defaults(m, l, sweepStepCount, s), images, new FileInfo(Path.Combine(folder.FullName, $"{m}-l{l.ToString(CultureInfo.InvariantCulture)}-s{s}.srzw")), !parsed.GetValue(noOneDnn));
    }
    Console.WriteLine($"sweep done in {all.Elapsed.TotalMinutes:0.0} min");
    return 0;
}
catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}

static Tensor[] LoadImages(DirectoryInfo folder) =>
    folder.EnumerateFiles().Where(f => f.Extension is ".png" or ".jpg" or ".jpeg")
        .OrderBy(f => f.Name, StringComparer.Ordinal).Select(f => Images.Decode(File.ReadAllBytes(f.FullName))).ToArray();

// The committed weights of a quality level.
static string LevelWeights(string here, int level) => Path.Combine(here, "weights", $"q{level}.srzw");

static string Number(double value) => value.ToString(CultureInfo.InvariantCulture);

static string Percent(double value) => double.IsNaN(value) ? "n/a" : $"{Evaluation.Signed(value, 1)} %";

static string Decibels(double value) => double.IsNaN(value) ? "n/a" : $"{Evaluation.Signed(value, 2)} dB";

// Whether --refine is in its range (0: none); says so on stderr when it is not.
static bool RefineInRange(int steps)
{
    if (steps is >= 0 and <= Codec.Refinement.MaxSteps) return true;
    Console.Error.WriteLine($"error: --refine must be 0 to {Codec.Refinement.MaxSteps.ToString("N0", CultureInfo.InvariantCulture)}; got {steps}.");
    return false;
}

// Rows of text as columns two spaces apart, the first row a header underlined.
static void Print(List<string[]> rows)
{
    int[] widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
    Console.WriteLine();
    for (int r = 0; r < rows.Count; r++)
    {
        Console.WriteLine(string.Join("  ", rows[r].Select((cell, c) => cell.PadRight(widths[c]))).TrimEnd());
        if (r == 0) Console.WriteLine(string.Join("  ", widths.Select(w => new string('-', w))));
    }
}

static T[]? ParseList<T>(string text, Func<string, IFormatProvider, T> parse)
{
    try
    {
        return text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(t => parse(t, CultureInfo.InvariantCulture)).ToArray();
    }
    catch (FormatException)
    {
        return null;
    }
}

static void TrainOne(Training.Options options, Tensor[] images, FileInfo target, bool checkOneDnn, Training.Checkpointing? checkpointing = null, Training.SpikeGuard? guard = null)
{
    CompressionModel trained = null!;
    var clock = System.Diagnostics.Stopwatch.StartNew();
    string name = $"{Evaluation.Label(options.Mode)}, λ = {options.Lambda.ToString(CultureInfo.InvariantCulture)}, seed {options.Seed}";
    AnsiConsole.Progress().Start(context =>
    {
        var task = context.AddTask(name, maxValue: options.Steps);
        trained = Training.Run(options, images, (step, loss) =>
        {
            task.Value = step + 1;
            if (step % 50 == 0) task.Description = $"{name}: loss {loss:0.000}";
        }, checkpointing, checkOneDnn, guard);
    });
    ModelFile.Save(trained, new ModelFile.Config(options.N, options.M, options.Mode, options.Alpha, options.Lambda, (int)options.Seed, options.Steps, options.Architecture), target.FullName);
    Console.WriteLine($"{name}: {clock.Elapsed.TotalMinutes:0.0} min, weights in {target.FullName}");
}

static int Eval(DirectoryInfo weights, DirectoryInfo imageFolder, DirectoryInfo outputFolder, int refineSteps)
{
    Tensor[] images = LoadImages(imageFolder);
    if (images.Length == 0) throw new FileNotFoundException($"no PNG or JPEG images in {imageFolder.FullName}.");
    FileInfo[] files = weights.Exists ? weights.GetFiles("*.srzw").OrderBy(f => f.Name, StringComparer.Ordinal).ToArray() : Array.Empty<FileInfo>();
    if (files.Length == 0) throw new FileNotFoundException($"no weights files (*.srzw) in {weights.FullName}; train some with `sweep` or `train`.");
    var clock = System.Diagnostics.Stopwatch.StartNew();
    IReadOnlyList<Evaluation.Point> jpeg = Evaluation.Jpeg(images, Evaluation.JpegQualities), webp = Evaluation.Webp(images, Evaluation.WebpQualities);
    var points = new List<Evaluation.Point>();
    foreach (FileInfo file in files)
    {
        (CompressionModel model, ModelFile.Config config) = ModelFile.Load(file.FullName);
        var variable = model as VariableRateHyperprior;
        if (variable is not null)
        {
            // Every level of the one model: one curve.
            for (int level = 1; level <= VariableRateHyperprior.Lambdas.Count; level++)
            {
                variable.Level = level;
                points.Add(Evaluation.Codec(model, config with { Lambda = VariableRateHyperprior.Lambdas[level - 1] }, images));
            }
        }
        else
        {
            points.Add(Evaluation.Codec(model, config, images));
            // The refined curve beside the plain one, for the models that can refine.
            if (refineSteps > 0 && Codec.CanRefine(model)) points.Add(Evaluation.Codec(model, config, images, new Codec.Refinement(config.Lambda, refineSteps)));
        }
    }
    // Narrow tables rather than one wide one: each fits 80 columns, and plain text never wraps a cell, in a terminal or a
    // pipe.
    IReadOnlyList<Evaluation.Point> sorted = Evaluation.TableOrder(points);
    string Dash(double v, string format) => double.IsNaN(v) ? "n/a" : v.ToString(format, CultureInfo.InvariantCulture);
    var rates = new List<string[]> { new[] { "#", "method", "λ / q", "seed", "steps", "bpp", "PSNR", "MS-SSIM" } };
    for (int i = 0; i < sorted.Count; i++)
    {
        Evaluation.Point p = sorted[i];
        rates.Add(new[] { Number(i + 1), p.Method, Number(p.Setting), Number(p.Seed), Number(p.Steps), $"{p.Bpp:0.000}", $"{p.Psnr:0.00}", Dash(p.MsSsimDb, "0.00") });
    }
    foreach (Evaluation.Point p in jpeg.Concat(webp)) rates.Add(new[] { "", p.Method, Number(p.Setting), "", "", $"{p.Bpp:0.000}", $"{p.Psnr:0.00}", Dash(p.MsSsimDb, "0.00") });
    Print(rates);
    Console.WriteLine("bpp: from the bytes written. PSNR and MS-SSIM (dB): means over the images;");
    Console.WriteLine($"MS-SSIM in dB is −10·log10(1 − MS-SSIM); n/a for a side under {Images.MsSsimMinimumSide} pixels.");
    Evaluation.Metric[] metrics = { Evaluation.Metric.Psnr, Evaluation.Metric.MsSsimDb };
    foreach (Evaluation.Metric metric in metrics)
    {
        var against = new List<string[]> { new[] { "#", "JPEG at that bpp", $"Δ {metric.Name}", "WebP at that bpp", $"Δ {metric.Name}" } };
        for (int i = 0; i < sorted.Count; i++)
        {
            Evaluation.Point p = sorted[i];
            double j = Evaluation.QualityAt(jpeg, p.Bpp, metric), w = Evaluation.QualityAt(webp, p.Bpp, metric), own = metric.Of(p);
            against.Add(new[] { Number(i + 1), Dash(j, "0.00"), Evaluation.Signed(own - j, 2), Dash(w, "0.00"), Evaluation.Signed(own - w, 2) });
        }
        Print(against);
        Console.WriteLine($"JPEG's and WebP's {metric.Name} (dB) interpolated at the model's bpp;");
        Console.WriteLine("n/a outside their range.");
    }
    var sizeAndSpeed = new List<string[]> { new[] { "#", "bpp estimate", "file vs estimate", "compress (s)", "decompress (s)" } };
    for (int i = 0; i < sorted.Count; i++)
    {
        Evaluation.Point p = sorted[i];
        // A refined curve has no estimate (its latents are the refinement's): n/a.
        sizeAndSpeed.Add(new[] { Number(i + 1), Dash(p.EstimatedBpp, "0.000"), double.IsNaN(p.EstimatedBpp) ? "n/a" : $"{Evaluation.Signed((p.Bpp / p.EstimatedBpp - 1) * 100, 1)} %", $"{p.CompressSeconds:0.00}", $"{p.DecompressSeconds:0.00}" });
    }
    Print(sizeAndSpeed);
    var curves = Evaluation.Curves(sorted).Where(c => c.Points.Count >= 2).ToList();
    foreach (Evaluation.Metric metric in curves.Count > 0 ? metrics : Array.Empty<Evaluation.Metric>())
    {
        var bd = new List<string[]> { new[] { "method", "seed", "steps", "points", "BD-rate vs JPEG", "vs WebP" } };
        foreach (Evaluation.Curve c in curves)
        {
            Evaluation.Point[] curve = c.Points.ToArray();
            bd.Add(new[] { c.Method, c.SeedLabel, c.StepsLabel, Number(curve.Length),
                Dash(Evaluation.BdRate(jpeg, curve, metric), "+0.0;-0.0;0.0") + " %", Dash(Evaluation.BdRate(webp, curve, metric), "+0.0;-0.0;0.0") + " %" });
        }
        Print(bd);
        Console.WriteLine($"BD-rate on {metric.Name}: the bits saved (−) at the same {metric.Name}");
        Console.WriteLine("over the range both curves cover (PCHIP).");
        var bdQuality = new List<string[]> { new[] { "method", "points", $"BD-{metric.Name} vs JPEG", "vs WebP" } };
        foreach (Evaluation.Curve c in curves)
        {
            Evaluation.Point[] curve = c.Points.ToArray();
            bdQuality.Add(new[] { c.Method, Number(curve.Length), Decibels(Evaluation.BdQuality(jpeg, curve, metric)), Decibels(Evaluation.BdQuality(webp, curve, metric)) });
        }
        Print(bdQuality);
        Console.WriteLine($"BD-{metric.Name}: the {metric.Name} gained (+, dB) at the same rate, on average");
        Console.WriteLine("over the range of ln(bpp) both curves cover (PCHIP).");
    }
    var ranking = new List<string[]> { new[] { "quantizer", "steps", "mean Δ vs JPEG (dB)", "per seed", "spread" } };
    foreach (Evaluation.Standing s in Evaluation.Ranking(points, jpeg))
    {
        ranking.Add(new[] { s.Method, s.Steps, Evaluation.Signed(s.Mean, 2),
            string.Join(", ", s.PerSeed.Select(e => $"{e.Key}: {Evaluation.Signed(e.Value, 2)}")), $"{s.Spread:0.00}" });
    }
    Print(ranking);
    outputFolder.Create();
    string csv = Path.Combine(outputFolder.FullName, "rd.csv"), png = Path.Combine(outputFolder.FullName, "rd.png"), msSsimPng = Path.Combine(outputFolder.FullName, "rd-ms-ssim.png");
    File.WriteAllLines(csv, Evaluation.CsvLines(points, jpeg, webp));
    RdPlot.Save(points.Concat(jpeg).Concat(webp).ToList(), png, Evaluation.Metric.Psnr);
    RdPlot.Save(points.Concat(jpeg).Concat(webp).ToList(), msSsimPng, Evaluation.Metric.MsSsimDb);
    Console.WriteLine($"{images.Length} held-out images, {files.Length} models, in {clock.Elapsed.TotalSeconds:0} s; written:");
    foreach (string written in new[] { csv, png, msSsimPng }) Console.WriteLine($"  {written}");
    return 0;
}
