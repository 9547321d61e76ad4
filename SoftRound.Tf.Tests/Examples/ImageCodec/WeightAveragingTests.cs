using System;
using System.IO;
using System.Linq;
using ImageCodec;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Examples.ImageCodec;

/// <summary>The mean of trained codecs' weights: each parameter the float64 mean, rounded once, in the file train writes.</summary>
[TestClass]
public sealed class WeightAveragingTests : WithoutOneDnn
{
    private static readonly ModelFile.Config Joint = new(4, 6, QuantizationMode.SoftRoundNoise, 5.0, 0.0483, 28, 8000, Architecture.JointAutoregressiveHierarchicalPriors);
    private static string folder = null!;

    [ClassInitialize]
    public static void Create(TestContext context) => folder = Directory.CreateTempSubdirectory("weight-averaging-tests-").FullName;

    [ClassCleanup]
    public static void Cleanup() => Directory.Delete(folder, recursive: true);

    /// <summary>A model of the configuration drawn with the seed, its parameters spread as a trained model's, saved as <c>train</c> saves it.</summary>
    private static string Saved(ModelFile.Config config, int seed, string name)
    {
        manual_seed(seed);
        using CompressionModel model = ModelFile.Create(config);
        using (no_grad()) using (Scalar three = 3.0.ToScalar()) foreach (Tensor p in model.parameters()) p.mul_(three);
        model.update(force: true);
        string path = Path.Combine(folder, name);
        ModelFile.Save(model, config, path);
        return path;
    }

    /// <summary>
    /// The live tensors that constructing and disposing <paramref name="count"/> models of the configuration leaves
    /// counted (TorchSharp's layer constructors leave temporaries counted: 2 for an nn.Conv2d here), the baseline of
    /// the leak checks.
    /// </summary>
    private static long ConstructionLeaves(ModelFile.Config config, int count)
    {
        long before = LiveTensors.Count();
        for (int i = 0; i < count; i++) ModelFile.Create(config).Dispose();
        return LiveTensors.Count() - before;
    }

    private static (string name, Tensor value)[] Parameters(string path)
    {
        (CompressionModel model, _) = ModelFile.Load(path);
        using (model) return model.named_parameters().Select(p => (p.name, p.parameter.detach().clone())).ToArray();
    }

    [TestMethod]
    public void AFileAveragedWithItself_IsWrittenByteForByteAsItWas()
    {
        string a = Saved(Joint, 1, "self.srzw"), b = Path.Combine(folder, "self-twice.srzw");
        (CompressionModel model, ModelFile.Config config) = WeightAveraging.Average(new[] { a, a });
        using (model) ModelFile.Save(model, config, b);
        // The tables rebuilt as training left them (the default scale table, not the codec's), the configuration kept.
        CollectionAssert.AreEqual(File.ReadAllBytes(a), File.ReadAllBytes(b));
    }

    [TestMethod]
    public void EachParameter_IsTheMeanOfTheFilesParameters_RoundedOnce_AndNothingIsLeftBehind()
    {
        using var scope = NewDisposeScope();
        string a = Saved(Joint, 1, "a.srzw"), b = Saved(Joint with { Seed = 29, Steps = 9000 }, 2, "b.srzw"), c = Saved(Joint with { Seed = 30 }, 3, "c.srzw");
        // The baseline: the same loads (the others' in a dispose scope, which also takes the temporaries of their layers'
        // constructors that TorchSharp leaves counted otherwise), table rebuild and save, without the averaging.
        long before = LiveTensors.Count();
        (CompressionModel plain, ModelFile.Config plainConfig) = ModelFile.Load(a);
        using (NewDisposeScope())
        {
            ModelFile.Load(b).model.Dispose();
            ModelFile.Load(c).model.Dispose();
            plain.update(force: true);
        }
        using (plain) ModelFile.Save(plain, plainConfig, Path.Combine(folder, "plain.srzw"));
        long loading = LiveTensors.Count() - before, live = LiveTensors.Count();
        (CompressionModel soup, ModelFile.Config config) = WeightAveraging.Average(new[] { a, b, c });
        string written = Path.Combine(folder, "soup.srzw");
        using (soup) ModelFile.Save(soup, config, written);
        Assert.AreEqual(live + loading, LiveTensors.Count(), "live tensors after averaging (the model disposed)");
        // The first file's configuration, with the most steps any file records.
        Assert.AreEqual(Joint with { Steps = 9000 }, config);

        var (pa, pb, pc, mean) = (Parameters(a), Parameters(b), Parameters(c), Parameters(written));
        Assert.AreEqual(pa.Length, mean.Length);
        for (int i = 0; i < mean.Length; i++)
        {
            Assert.AreEqual(pa[i].name, mean[i].name);
            // An independent sum: each value in float64, in another order, divided by 3, rounded to float32.
            Tensor expected = ((pc[i].value.to(ScalarType.Float64) + pb[i].value.to(ScalarType.Float64) + pa[i].value.to(ScalarType.Float64)) / 3).to(ScalarType.Float32);
            TensorAssert.Identical(expected, mean[i].value);
        }
        Assert.IsFalse(pa.Zip(mean).All(p => p.First.value.allclose(p.Second.value, 0, 0)), "the mean is not the first model");
    }

    [TestMethod]
    [DataRow("q1.srzw")]
    [DataRow("q6.srzw")]
    public void ACommittedLevelAveragedWithItself_IsWrittenByteForByteAsTrainWroteIt(string weights)
    {
        string path = Path.Combine(Repository.Root, "examples", "ImageCodec", "weights", weights), written = Path.Combine(folder, $"twice-{weights}");
        (CompressionModel model, ModelFile.Config config) = WeightAveraging.Average(new[] { path, path });
        using (model) ModelFile.Save(model, config, written);
        CollectionAssert.AreEqual(File.ReadAllBytes(path), File.ReadAllBytes(written));
    }

    [TestMethod]
    public void FewerThanTwoFiles_AreRefused_NamingTheParameterAndTheCount()
    {
        Assert.AreEqual("paths", Assert.ThrowsExactly<ArgumentNullException>(() => WeightAveraging.Average(null!)).ParamName);
        string a = Saved(Joint, 1, "one.srzw");
        var e = Assert.ThrowsExactly<ArgumentException>(() => WeightAveraging.Average(new[] { a }));
        Assert.AreEqual("paths", e.ParamName);
        StringAssert.Contains(e.Message, "WeightAveraging.Average: paths must name at least two weights files; it names 1.");
    }

    [TestMethod]
    [DataRow("λ", "0.0483", "0.025")]
    [DataRow("N", "4", "5")]
    [DataRow("M", "6", "8")]
    [DataRow("α", "5", "3.5")]
    [DataRow("training quantizer", "SoftRoundNoise", "UniformNoise")]
    [DataRow("architecture", "JointAutoregressiveHierarchicalPriors", "MeanScaleHyperprior")]
    public void FilesOfAnotherConfiguration_AreRefused_NamingTheFileTheFieldAndBothValues(string field, string first, string other)
    {
        ModelFile.Config changed = field switch
        {
            "λ" => Joint with { Lambda = 0.025 },
            "N" => Joint with { N = 5 },
            "M" => Joint with { M = 8 },
            "α" => Joint with { Alpha = 3.5 },
            "training quantizer" => Joint with { Mode = QuantizationMode.UniformNoise },
            _ => Joint with { Architecture = Architecture.MeanScaleHyperprior },
        };
        string a = Saved(Joint, 1, $"first-{field}.srzw"), b = Saved(changed, 2, $"other-{field}.srzw");
        long loading = ConstructionLeaves(Joint, 2) + ConstructionLeaves(changed, 1), live = LiveTensors.Count();
        var e = Assert.ThrowsExactly<InvalidDataException>(() => WeightAveraging.Average(new[] { a, a, b }));
        Assert.AreEqual($"WeightAveraging.Average: {b} has {field} {other} and {a} {first}; only weights of one configuration average.", e.Message);
        Assert.AreEqual(live + loading, LiveTensors.Count(), "live tensors after a refusal (the models disposed)");
    }

    [TestMethod]
    public void CommandLine_WritesTheAverage_AndRefusesOneFileOrMixedFilesWithExitCodeTwo()
    {
        string a = Saved(Joint, 1, "cli-a.srzw"), b = Saved(Joint with { Seed = 29 }, 2, "cli-b.srzw"), soup = Path.Combine(folder, "cli-soup.srzw");
        (int code, string output) = ExampleProcess.Run("ImageCodec", $"average \"{a}\" \"{b}\" --output \"{soup}\"");
        Assert.AreEqual(0, code, output);
        StringAssert.Contains(output, $"2 models averaged (autoregressive, N = 4, M = 6, λ = 0.0483, 8000 steps recorded) into {soup}");
        (CompressionModel model, ModelFile.Config config) = WeightAveraging.Average(new[] { a, b });
        string here = Path.Combine(folder, "cli-soup-here.srzw");
        using (model) ModelFile.Save(model, config, here);
        CollectionAssert.AreEqual(File.ReadAllBytes(here), File.ReadAllBytes(soup), "the command writes what WeightAveraging gives");

        string refused = Path.Combine(folder, "cli-refused.srzw");
        (code, output) = ExampleProcess.Run("ImageCodec", $"average \"{a}\" --output \"{refused}\"");
        Assert.AreEqual(2, code, output);
        StringAssert.Contains(output, "error: average needs two or more weights files; got 1.");
        string other = Saved(Joint with { Lambda = 0.025 }, 3, "cli-other.srzw");
        (code, output) = ExampleProcess.Run("ImageCodec", $"average \"{a}\" \"{other}\" --output \"{refused}\"");
        Assert.AreEqual(2, code, output);
        StringAssert.Contains(output, "has λ 0.025 and");
        Assert.IsFalse(File.Exists(refused), "nothing written for a refusal");
    }
}
