using System;
using System.IO;
using System.Linq;
using ImageCodec;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Tests.Helpers;
using SoftRound.Tf;
using TorchSharp;
using static TorchSharp.torch;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Entropy;
using static SoftRound.Tf.Internals.KeptScalars;

namespace SoftRound.Tf.Tests.Examples.ImageCodec;

/// <summary>
/// The codec with a tiny model (N = M = 8), trained for a few steps on crops of the committed photographs: the loss
/// falls, files decode to the eval forward pass bit for bit at any image size, and the command line refuses bad input.
/// </summary>
[TestClass]
[TestCategory("Training")]
public sealed class CodecTests
{
    private static CompressionModel model = null!;
    private static double firstLoss, lastLoss;
    private static string weightsPath = null!;

    /// <summary>The committed photographs of data/<paramref name="set"/>, in name order.</summary>
    internal static Tensor[] Photos(string set) =>
        Directory.GetFiles(Path.Combine(Repository.Root, "examples", "ImageCodec", "data", set)).Where(f => !f.EndsWith(".md", StringComparison.Ordinal))
            .OrderBy(f => f, StringComparer.Ordinal).Select(f => Images.Decode(File.ReadAllBytes(f))).ToArray();

    [ClassInitialize]
    public static void Train(TestContext context)
    {
        int threads = get_num_threads();
        set_num_threads(1);
        try
        {
            var losses = new System.Collections.Generic.List<double>();
            var options = new Training.Options(8, 8, QuantizationMode.UniformNoise, 5.0, 0.01, 120, 4, 64, 3, 3e-3);
            model = Training.Run(options, Photos("train"), (_, loss) => losses.Add(loss));
            firstLoss = losses.Take(10).Average();
            lastLoss = losses.Skip(losses.Count - 10).Average();
            weightsPath = Path.Combine(Path.GetTempPath(), $"codec-test-{Environment.ProcessId}.srzw");
            ModelFile.Save(model, new ModelFile.Config(8, 8, QuantizationMode.UniformNoise, 5.0, 0.01, 3, 120), weightsPath);
        }
        finally
        {
            set_num_threads(threads);
        }
    }

    [ClassCleanup]
    public static void Cleanup() => File.Delete(weightsPath);

    [TestMethod]
    public void ShortTraining_LowersTheLoss()
    {
        Console.WriteLine($"loss: first 10 steps {firstLoss:0.000}, last 10 {lastLoss:0.000}");
        Assert.IsTrue(lastLoss < 0.7 * firstLoss, $"the loss went from {firstLoss} to {lastLoss}");
    }

    [TestMethod]
    [DataRow(64, 48)]
    [DataRow(37, 21)]
    [DataRow(1, 1)]
    public void CompressDecompress_EqualsTheEvalForward(int width, int height)
    {
        using var scope = NewDisposeScope();
        Tensor photo = Photos("eval")[0];
        Tensor image = photo[.., .., 100..(100 + height), 200..(200 + width)].contiguous();
        byte[] file = Codec.Compress(model, image);
        Tensor decoded = Codec.Decompress(model, file);
        (Tensor forward, _) = Codec.Forward(model, image);
        TensorAssert.Identical(forward, decoded);
        Assert.IsTrue(Images.Psnr(image, decoded) > 10);
    }

    [TestMethod]
    [DataRow(Architecture.ScaleHyperprior, 70, 40)]
    [DataRow(Architecture.MeanScaleHyperprior, 37, 21)]
    [DataRow(Architecture.MeanScaleHyperprior, 1, 1)]
    public void HyperpriorModels_WriteTwoStreams_ThatDecodeToTheEvalForward(Architecture architecture, int width, int height)
    {
        using var scope = NewDisposeScope();
        manual_seed(8);
        CompressionModel untrained = ModelFile.Create(new ModelFile.Config(8, 8, QuantizationMode.UniformNoise, 5.0, 0.01, 0, 0, architecture));
        untrained.eval();
        untrained.update();
        Tensor image = Photos("eval")[1][.., .., 50..(50 + height), 60..(60 + width)].contiguous();
        byte[] file = Codec.Compress(untrained, image, quality: 4);
        (SrzFile.Header header, byte[][] streams) = SrzFile.Read(file, Weights.Identifier(untrained));
        Assert.AreEqual((4, 2), (header.Quality, streams.Length));
        (Tensor forward, Tensor[] likelihoods) = Codec.Forward(untrained, image);
        Assert.AreEqual(2, likelihoods.Length);
        // The decoder's means are h_s's in float64, the forward's in float32: x̂ alike to float32 rounding.
        TensorAssert.Close(forward, Codec.Decompress(untrained, file), 1e-5, 1e-5);
        // One stream where the model writes two: refused for what it is.
        byte[] one = SrzFile.Write(header, new[] { streams[0] });
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => Codec.Decompress(untrained, one)).Message, "the file's streams (1) do not fit");
    }

    [TestMethod]
    [DataRow(37, 21)]
    [DataRow(1, 1)]
    public void JointAutoregressiveModels_WriteTwoStreams_ThatDecodeToTheSynthesisOfTheCodedLatents(int width, int height)
    {
        using var scope = NewDisposeScope();
        manual_seed(8);
        var untrained = (JointAutoregressiveHierarchicalPriors)ModelFile.Create(new ModelFile.Config(8, 12, QuantizationMode.UniformNoise, 5.0, 0.01, 0, 0, Architecture.JointAutoregressiveHierarchicalPriors));
        untrained.eval();
        untrained.update();
        Tensor image = Photos("eval")[1][.., .., 50..(50 + height), 60..(60 + width)].contiguous();
        byte[] file = Codec.Compress(untrained, image, quality: 2);
        (SrzFile.Header header, byte[][] streams) = SrzFile.Read(file, Weights.Identifier(untrained));
        Assert.AreEqual((2, 2), (header.Quality, streams.Length));
        // What was coded: ŷ position by position, each from the ones before it (the eval forward feeds the context round(y)).
        Tensor expected;
        using (no_grad())
        using (SoftRound.Tf.Performance.MkldnnBackend.flags(enabled: false))
        {
            untrained.compress(Images.Pad(image, untrained.downsampling_factor), RansStreamLayout.SoftRound, out Tensor yHat);
            expected = Images.Crop(untrained.synthesis(yHat), width, height).clamp(S(0.0), S(1.0));
        }
        TensorAssert.Identical(expected, Codec.Decompress(untrained, file));
        // A stream cut short is refused for what it is.
        byte[] one = SrzFile.Write(header, new[] { streams[0] });
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => Codec.Decompress(untrained, one)).Message, "the file's streams (1) do not fit");
    }

    [TestMethod]
    public void FilesBelowTheEstimate_AreTheLatentsTheGaussiansTailsPriceAboveTheTables()
    {
        // A committed level on a validation photograph whose file is well below the likelihoods' estimate: the y
        // stream is what the coder's 16-bit tables price, to a few bits, and the gap to −Σ log2 p is, to a tenth of
        // it, the latents the Gaussian prices above 14 bits (up to 30, its likelihood bound 10⁻⁹), where the tables
        // give every value at least 2⁻¹⁶ and code what lies beyond them with the escape and a few bypass bits.
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var oneDnn = SoftRound.Tf.Performance.MkldnnBackend.flags(enabled: false);
        (CompressionModel level, _) = ModelFile.Load(Path.Combine(Repository.Root, "examples", "ImageCodec", "weights", "mean-scale", "q4.srzw"));
        var hyperprior = (MeanScaleHyperprior)level;
        var hs = (nn.Module<Tensor, Tensor>)level.named_children().Single(c => c.name == "h_s").module;
        string photo = Path.Combine(Repository.Root, "examples", "ImageCodec", "data", "photos", "validation", "enlightenment-Spruce-Needles.jpg");
        Tensor padded = Images.Pad(Images.Decode(File.ReadAllBytes(photo)), level.downsampling_factor);

        CompressedData data = hyperprior.compress(padded);
        double stream = data.strings[0].Sum(s => s.Length) * 8.0;
        (Tensor y, _) = hyperprior.latents(padded);
        Tensor[] parameters = hs.call(hyperprior.EntropyBottleneck.decompress(data.strings[1], data.shape)).chunk(2, 1);
        SoftRound.Tf.Entropy.GaussianConditional conditional = hyperprior.GaussianConditional;
        (_, Tensor likelihoods) = conditional.forward(y, parameters[0], parameters[1]);
        double[] modelBits = likelihoods.to(ScalarType.Float64).log2().neg().flatten().data<double>().ToArray();
        int[] symbols = conditional.quantizer.symbols(y, parameters[1]).to(ScalarType.Int32).flatten().data<int>().ToArray();
        int[] indexes = conditional.build_indexes(parameters[0]).to(ScalarType.Int32).flatten().data<int>().ToArray();
        SoftRound.Tf.Entropy.QuantizedCdf tables = conditional.coding_tables!;
        int[][] cdf = Enumerable.Range(0, tables.count).Select(tables.table).ToArray();

        double model = 0, priced = 0, tailGap = 0;
        int tail = 0, escapes = 0;
        for (int i = 0; i < symbols.Length; i++)
        {
            int[] table = cdf[indexes[i]];
            int value = symbols[i] - tables.offset(indexes[i]), regular = table.Length - 2;
            if (value < 0 || value >= regular) (value, escapes) = (regular, escapes + 1);
            double bits = -Math.Log2((table[value + 1] - table[value]) / (double)SoftRound.Tf.Entropy.QuantizedCdf.Total);
            model += modelBits[i];
            priced += bits;
            if (modelBits[i] > 14) (tailGap, tail) = (tailGap + modelBits[i] - bits, tail + 1);
        }
        double gap = model - stream, bypass = stream - priced, body = model - priced - tailGap;
        Console.WriteLine($"y: {model:0} bits estimated, {stream:0} written, {priced:0} priced by the tables and {bypass:0} more for {escapes} escapes; {tail} of {symbols.Length} latents above 14 bits: {tailGap:0} bits over the tables, the others {body:0}");
        Assert.IsTrue(gap > 0.01 * model, "the file is more than 1 % below the estimate here");
        // Written: the tables' price, the escapes' bypass digits (a few bits each) and the stream's final state.
        Assert.IsTrue(bypass >= 0 && bypass <= 16 * escapes + 64, $"written {stream}, priced {priced}");
        // The gap is the tail latents' (less the escapes' bypass digits, all theirs): the others are priced alike.
        Assert.AreEqual(0, body, 0.1 * gap, "the latents below 14 bits are priced as the model prices them");
        Assert.AreEqual(gap, tailGap - bypass, 0.1 * gap);
        Assert.IsTrue(tail < symbols.Length / 50, "a few latents");
    }

    private static (int exitCode, string output) Run(string arguments) => ExampleProcess.Run("ImageCodec", arguments);

    [TestMethod]
    [DataRow("q3.srzw")]
    [DataRow("mean-scale/q2.srzw")]
    public void AFile_DecodesWithAnotherMachinesKernels(string weights)
    {
        // MKL's float32 matrix products round differently with its AVX-512 and AVX2 kernels; a joint level-3 file of
        // the astronaut written with AVX-512 failed to decode with AVX2's (a scale picked another table) until the
        // coding path computed the entropy parameters in float64.
        if (!System.Runtime.Intrinsics.X86.Avx512F.IsSupported) Assert.Inconclusive("no AVX-512 here: MKL's AVX2 kernels are the ones the test process uses already.");
        string folder = Path.Combine(Path.GetTempPath(), $"codec-isa-{Environment.ProcessId}");
        Directory.CreateDirectory(folder);
        try
        {
            using var scope = NewDisposeScope();
            string weightsFile = Path.Combine(Repository.Root, "examples", "ImageCodec", "weights", weights);
            (CompressionModel model, _) = ModelFile.Load(weightsFile);
            Tensor image = Photos("eval")[0];
            string srz = Path.Combine(folder, "a.srz"), back = Path.Combine(folder, "a.png");
            File.WriteAllBytes(srz, Codec.Compress(model, image));
            var avx2 = new System.Collections.Generic.Dictionary<string, string> { ["MKL_ENABLE_INSTRUCTIONS"] = "AVX2" };
            (int code, string output) = ExampleProcess.Run("ImageCodec", $"decompress \"{srz}\" \"{back}\" --weights \"{weightsFile}\"", avx2);
            Assert.AreEqual(0, code, output);
            // The same latents: the images differ only where the synthesis's own rounding moves a pixel's 8 bits.
            Tensor here = Images.Decode(Images.Encode(Codec.Decompress(model, File.ReadAllBytes(srz)))), there = Images.Decode(File.ReadAllBytes(back));
            float levels = (here - there).abs().max().item<float>() * 255;
            Assert.IsTrue(levels < 1.5, $"the decoded images differ by up to {levels} levels");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    public void CommandLine_CompressesAndDecompresses_AndRefusesBadInputWithExitCodeTwo()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"codec-cli-{Environment.ProcessId}");
        Directory.CreateDirectory(folder);
        try
        {
            string png = Path.Combine(folder, "in.png"), srz = Path.Combine(folder, "out.srz"), back = Path.Combine(folder, "back.png");
            File.WriteAllBytes(png, Images.Encode(Photos("eval")[2][.., .., ..40, ..56]));
            (int code, string output) = Run($"compress \"{png}\" \"{srz}\" --weights \"{weightsPath}\"");
            Assert.AreEqual(0, code, output);
            // The process ends at once after its work (QuickExit); what it printed and wrote is all there.
            long length = new FileInfo(srz).Length;
            StringAssert.StartsWith(output, $"{length} bytes, {length * 8.0 / (40 * 56):0.000} bits per pixel");
            (code, output) = Run($"decompress \"{srz}\" \"{back}\" --weights \"{weightsPath}\"");
            Assert.AreEqual(0, code, output);
            Tensor decoded = Images.Decode(File.ReadAllBytes(back));
            CollectionAssert.AreEqual(new long[] { 1, 3, 40, 56 }, decoded.shape);

            // A grey image is coded, with a note on what it became; a transparent one is refused.
            string grey = Path.Combine(folder, "grey.png"), transparent = Path.Combine(folder, "transparent.png");
            File.WriteAllBytes(grey, Gray8Png(24, 20));
            (code, output) = Run($"compress \"{grey}\" \"{srz}.grey\" --weights \"{weightsPath}\"");
            Assert.AreEqual(0, code, output);
            StringAssert.Contains(output, "note: the image is grey, coded as RGB with three equal channels");
            File.WriteAllBytes(transparent, TransparentPng(24, 20));
            (code, output) = Run($"compress \"{transparent}\" \"{srz}.alpha\" --weights \"{weightsPath}\"");
            Assert.AreEqual(2, code, output);
            StringAssert.Contains(output, "error: 480 of 480 pixels are not opaque");
            Assert.IsFalse(File.Exists(srz + ".alpha"));

            (code, output) = Run($"compress \"{srz}\" \"{srz}.2\" --weights \"{weightsPath}\"");
            Assert.AreEqual(2, code, output);
            StringAssert.Contains(output, "not an image");
            File.WriteAllBytes(srz + ".cut", File.ReadAllBytes(srz)[..^3]);
            (code, output) = Run($"decompress \"{srz}.cut\" \"{back}\" --weights \"{weightsPath}\"");
            Assert.AreEqual(2, code, output);
            StringAssert.Contains(output, "checksum");
            (code, output) = Run($"decompress \"{png}\" \"{back}\" --weights \"{weightsPath}\"");
            Assert.AreEqual(2, code, output);
            StringAssert.Contains(output, "not an .srz file");
            (code, output) = Run($"decompress \"{Path.Combine(folder, "missing.srz")}\" \"{back}\" --weights \"{weightsPath}\"");
            Assert.AreEqual(2, code, output);
            // A file made with weights named on the command line records no level: decompress asks for them; other
            // weights are refused, and so is a weights file that is not one, and a level that does not exist.
            (code, output) = Run($"decompress \"{srz}\" \"{back}\"");
            Assert.AreEqual(2, code, output);
            StringAssert.Contains(output, "the file was made with weights named on the command line (quality level 0): give them with --weights.");
            (code, output) = Run($"decompress \"{srz}\" \"{back}\" --weights \"{Path.Combine(Repository.Root, "examples", "ImageCodec", "weights", "default.srzw")}\"");
            Assert.AreEqual(2, code, output);
            StringAssert.Contains(output, "made with other weights");
            // A quality level: the committed weights of that level, recorded in the file, which decompress then uses.
            (code, output) = Run($"compress \"{png}\" \"{srz}.q2\" --quality 2");
            Assert.AreEqual(0, code, output);
            Assert.AreEqual(2, SrzFile.Quality(File.ReadAllBytes(srz + ".q2")));
            (code, output) = Run($"decompress \"{srz}.q2\" \"{back}\"");
            Assert.AreEqual(0, code, output);
            Assert.IsTrue(Images.Psnr(Images.Decode(File.ReadAllBytes(png)), Images.Decode(File.ReadAllBytes(back))) > 20);
            foreach (int level in new[] { 0, 7 })
            {
                (code, output) = Run($"compress \"{png}\" \"{srz}.q\" --quality {level}");
                Assert.AreEqual(2, code, output);
                StringAssert.Contains(output, $"error: --quality must be 1 to 6; got {level}.");
            }
            // --refine: the same decoder reads the refined file; bad step counts and a model that cannot refine are refused.
            (code, output) = Run($"compress \"{png}\" \"{srz}.r\" --quality 2 --refine 5");
            Assert.AreEqual(0, code, output);
            (code, output) = Run($"decompress \"{srz}.r\" \"{back}\"");
            Assert.AreEqual(0, code, output);
            (code, output) = Run($"compress \"{png}\" \"{srz}.r\" --quality 2 --refine -1");
            Assert.AreEqual(2, code, output);
            StringAssert.Contains(output, "error: --refine must be 0 to 10,000; got -1.");
            (code, output) = Run($"compress \"{png}\" \"{srz}.r\" --weights \"{weightsPath}\" --refine 3");
            Assert.AreEqual(2, code, output);
            StringAssert.Contains(output, "error: --refine needs a mean-scale or autoregressive model; these weights are factorized.");
            (code, output) = Run($"compress \"{png}\" \"{srz}\" --weights \"{png}\"");
            Assert.AreEqual(2, code, output);
            StringAssert.Contains(output, "is not a codec weights file");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    public void CommandLine_Train_TakesItsSettings_AndRefusesBadOnesWithExitCodeTwo()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"codec-train-{Environment.ProcessId}");
        Directory.CreateDirectory(folder);
        try
        {
            string weights = Path.Combine(folder, "w.srzw");
            string small = Path.Combine(folder, "small");
            Directory.CreateDirectory(small);
            File.WriteAllBytes(Path.Combine(small, "a.png"), Gray8Png(127, 300));
            (int code, string output) = Run($"train --steps 2 --architecture MeanScaleHyperprior --decoder-mode RoundSt --learning-rate 1e-4 --spike-factor 0 --no-onednn --n 6 --m 10 --crop 512 --batch 1 --output \"{weights}\"");
            Assert.AreEqual(0, code, output);
            // The default photographs are seven, one of them 640×427: too small for 512×512 crops.
            StringAssert.Contains(output, "note: 1 of the 7 training images are smaller than 512×512 and are left out.");
            // The run's options, as its checkpoint records them (a resumed run must match them).
            StringAssert.Contains(System.Text.Encoding.UTF8.GetString(File.ReadAllBytes(weights + ".ckpt")), "Batch = 1, Crop = 512,");
            (CompressionModel model, ModelFile.Config config) = ModelFile.Load(weights);
            using (model) Assert.AreEqual((Architecture.MeanScaleHyperprior, 2, 6, 10), (config.Architecture, config.Steps, config.N, config.M));
            // Started from that file, a wider model is the file's widened (Widening): its old weights lead.
            string wider = Path.Combine(folder, "wider.srzw");
            (code, output) = Run($"train --steps 1 --architecture MeanScaleHyperprior --init \"{weights}\" --learning-rate 1e-9 --no-onednn --n 8 --m 12 --crop 64 --batch 64 --output \"{wider}\"");
            Assert.AreEqual(0, code, output);
            Assert.IsFalse(output.Contains("left out"), output);
            (CompressionModel narrow, _) = ModelFile.Load(weights);
            (CompressionModel wide, config) = ModelFile.Load(wider);
            using (narrow) using (wide)
            {
                Assert.AreEqual((8, 12), (config.N, config.M));
                Tensor old = narrow.state_dict()["g_s.6.weight"], widened = wide.state_dict()["g_s.6.weight"][..6];
                Assert.IsTrue(widened.allclose(old, rtol: 1e-4, atol: 1e-7), $"largest difference {(widened - old).abs().max().item<float>()}");
            }
            foreach ((string arguments, string message) in new[]
            {
                ("--spike-factor 0.5", "error: --spike-factor must be 0 (no guard) or finite and above 1; got 0.5."),
                ("--learning-rate 0", "--learning-rate above 0 and at most 1,"),
                ("--learning-rate 2", "--learning-rate above 0 and at most 1,"),
                ("--n 0", "and --n and --m 1 to 512."),
                ("--m 513", "and --n and --m 1 to 512."),
                ("--decoder-mode RoundSt", "error: Training.Trainer: options.DecoderMode needs a hyperprior model; FactorizedPrior has no GaussianConditional."),
                ("--crop 96", "error: --crop must be a multiple of 64 from 64 to 1024 (the hyperprior halves it six times) and --batch 1 to 64; got 96 and 8."),
                ("--crop 0", "; got 0 and 8."),
                ("--crop 1088", "; got 1088 and 8."),
                ("--batch 0", "; got 128 and 0."),
                ("--batch 65", "; got 128 and 65."),
                ($"--data \"{small}\"", "error: Training.Run: no training image is at least 128×128 (of 1); take a smaller crop."),
                ($"--data \"{small}\" --crop 1024", "error: Training.Run: no training image is at least 1024×1024 (of 1); take a smaller crop."),
            })
            {
                string refused = Path.Combine(folder, "refused.srzw");
                (code, output) = Run($"train --steps 1 --no-onednn {arguments} --output \"{refused}\"");
                Assert.AreEqual(2, code, $"{arguments}: {output}");
                StringAssert.Contains(output, message, arguments);
                Assert.IsFalse(output.Contains("left out"), arguments);
                Assert.IsFalse(File.Exists(refused), arguments);
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static byte[] Gray8Png(int width, int height)
    {
        using var bitmap = new SkiaSharp.SKBitmap(new SkiaSharp.SKImageInfo(width, height, SkiaSharp.SKColorType.Gray8, SkiaSharp.SKAlphaType.Opaque));
        bitmap.Erase(new SkiaSharp.SKColor(90, 90, 90));
        return ImagesTests.Png(bitmap);
    }

    private static byte[] TransparentPng(int width, int height)
    {
        using var bitmap = new SkiaSharp.SKBitmap(new SkiaSharp.SKImageInfo(width, height, SkiaSharp.SKColorType.Rgba8888, SkiaSharp.SKAlphaType.Unpremul));
        bitmap.Erase(new SkiaSharp.SKColor(90, 140, 200, 128));
        return ImagesTests.Png(bitmap);
    }

    [TestMethod]
    public void CommandLine_Eval_WritesTheTableAndThePlot()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"codec-eval-{Environment.ProcessId}");
        string weights = Path.Combine(folder, "weights"), images = Path.Combine(folder, "images"), results = Path.Combine(folder, "results");
        Directory.CreateDirectory(weights);
        Directory.CreateDirectory(images);
        try
        {
            (int code, string output) = Run($"eval --weights-dir \"{weights}\" --images \"{images}\" --output \"{results}\"");
            Assert.AreEqual(2, code, output);
            File.Copy(weightsPath, Path.Combine(weights, "tiny.srzw"));
            File.WriteAllBytes(Path.Combine(images, "crop.png"), Images.Encode(Photos("eval")[1][.., .., ..64, ..80]));
            (code, output) = Run($"eval --weights-dir \"{weights}\" --images \"{images}\" --output \"{results}\"");
            Assert.AreEqual(0, code, output);
            // Readable in a pipe at 80 columns: no line longer (but those naming the output files, and libtorch's own
            // warnings on stderr), no number broken; MS-SSIM is n/a for the 64×80 crop.
            foreach (string line in output.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => !l.Contains(results) && !l.StartsWith("[W", StringComparison.Ordinal)))
                Assert.IsTrue(line.Length <= 80, $"{line.Length} characters: {line}");
            StringAssert.Matches(output, new System.Text.RegularExpressions.Regex(@"\n1 +factorized uniform noise +0\.01 +3 +120 +\d\.\d{3} +\d+\.\d\d +n/a\r?\n"));
            string[] rows = File.ReadAllLines(Path.Combine(results, "rd.csv"));
            Assert.AreEqual(1 + 1 + Evaluation.JpegQualities.Count + Evaluation.WebpQualities.Count, rows.Length, string.Join("\n", rows));
            Assert.AreEqual(17, rows.Count(r => r.StartsWith("WebP,", StringComparison.Ordinal)));
            Assert.AreEqual(14, rows.Count(r => r.StartsWith("JPEG,", StringComparison.Ordinal)));
            StringAssert.StartsWith(rows[1], "factorized uniform noise,0.01,3,");
            Assert.IsTrue(new FileInfo(Path.Combine(results, "rd.png")).Length > 1000);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
