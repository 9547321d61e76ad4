using System;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using CsCheck;
using ImageCodec;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Entropy;
using static TorchSharp.torch;
using SoftRound.Tf.Compression;

namespace SoftRound.Tf.Tests.Examples.ImageCodec;

[TestClass]
public sealed class ModelFileTests
{
    [TestMethod]
    public void Quantizers_AreTheEntropyModelsOwn_BottleneckFirst()
    {
        using var scope = NewDisposeScope();
        using var joint = (JointAutoregressiveHierarchicalPriors)ModelFile.Create(new ModelFile.Config(8, 12, QuantizationMode.RoundSt, 5.0, 0.01, 1, 0, Architecture.JointAutoregressiveHierarchicalPriors));
        CollectionAssert.AreEqual(new[] { joint.EntropyBottleneck.quantizer, joint.GaussianConditional.quantizer }, ModelFile.Quantizers(joint));
        Assert.IsTrue(ModelFile.Quantizers(joint).All(q => q.mode == QuantizationMode.RoundSt));
        using var factorized = (FactorizedPrior)ModelFile.Create(new ModelFile.Config(8, 12, QuantizationMode.SoftRoundNoise, 5.0, 0.01, 1, 0));
        CollectionAssert.AreEqual(new[] { factorized.EntropyBottleneck.quantizer }, ModelFile.Quantizers(factorized));
    }

    private static readonly ModelFile.Config Config = new(4, 6, QuantizationMode.SoftRoundNoise, 3.5, 0.0067, 9, 1234);
    private static FactorizedPrior model = null!;
    private static byte[] file = null!;
    private static string folder = null!;

    [ClassInitialize]
    public static void Create(TestContext context)
    {
        manual_seed(4);
        model = new FactorizedPrior(Config.N, Config.M, Config.Mode, Config.Alpha);
        folder = Directory.CreateTempSubdirectory("model-file-tests-").FullName;
        string path = Path.Combine(folder, "model.srzw");
        ModelFile.Save(model, Config, path);
        file = File.ReadAllBytes(path);
    }

    [ClassCleanup]
    public static void Cleanup() => Directory.Delete(folder, recursive: true);

    private static string Write(byte[] bytes)
    {
        string path = Path.Combine(folder, $"{Guid.NewGuid():N}.srzw");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static string Refused(byte[] bytes)
    {
        string path = Write(bytes);
        try
        {
            return Assert.ThrowsExactly<InvalidDataException>(() => ModelFile.Load(path)).Message;
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>The file with its content replaced by <paramref name="content"/> and a matching checksum.</summary>
    private static byte[] Signed(byte[] content) => content.Concat(SHA256.HashData(content)).ToArray();

    [TestMethod]
    public void RoundTrip_KeepsTheConfigurationAndTheWeights_AndBuildsTheTables()
    {
        CollectionAssert.AreEqual(Encoding("SRZW").Concat(BitConverter.GetBytes(3)).ToArray(), file[..8]);
        CollectionAssert.AreEqual(SHA256.HashData(file.AsSpan(0, file.Length - 32)), file[^32..]);
        (CompressionModel loaded, ModelFile.Config config) = ModelFile.Load(Write(file));
        Assert.AreEqual(Config, config);
        CollectionAssert.AreEqual(Weights.Identifier(model), Weights.Identifier(loaded));
        Assert.IsFalse(loaded.training);
        Assert.IsNotNull(((FactorizedPrior)loaded).EntropyBottleneck.quantized_cdf);
    }

    private static byte[] Encoding(string s) => System.Text.Encoding.ASCII.GetBytes(s);

    [TestMethod]
    public void Refuses_WithWhatIsWrong()
    {
        StringAssert.Contains(Refused(Encoding("SRZ")), "is not a codec weights file.");
        StringAssert.Contains(Refused(Encoding("PNG\0").Concat(file[4..]).ToArray()), "is not a codec weights file.");
        byte[] version1 = (byte[])file.Clone();
        version1[4] = 1;
        StringAssert.Contains(Refused(version1), "is of weights format version 1; this program reads 3.");
        StringAssert.Contains(Refused(file[..^1]), "is truncated or corrupted: its checksum does not match.");
        StringAssert.Contains(Refused(file[..39]), "is truncated or corrupted: its checksum does not match.");
        byte[] content = file[..^32];
        foreach ((int offset, int value) in new[] { (8, 5), (8, -1), (12, 0), (12, ModelFile.MaxChannels + 1), (16, 0), (20, 99) })
        {
            byte[] bad = (byte[])content.Clone();
            BitConverter.GetBytes(value).CopyTo(bad, offset);
            StringAssert.Contains(Refused(Signed(bad)), "has an invalid configuration");
        }
        byte[] negativeAlpha = (byte[])content.Clone();
        BitConverter.GetBytes(-1.0).CopyTo(negativeAlpha, 24);
        StringAssert.Contains(Refused(Signed(negativeAlpha)), "has an invalid configuration");
        byte[] negativeSteps = (byte[])content.Clone();
        BitConverter.GetBytes(-1).CopyTo(negativeSteps, 44);
        StringAssert.Contains(Refused(Signed(negativeSteps)), "has an invalid configuration");
        StringAssert.Contains(Refused(Signed(content.Concat(new byte[] { 0 }).ToArray())), "has 1 bytes after its weights.");
        // A file for a larger model than its weights: the state dict does not fit.
        byte[] larger = (byte[])content.Clone();
        BitConverter.GetBytes(5).CopyTo(larger, 12);
        StringAssert.Contains(Refused(Signed(larger)), "holds weights this program cannot use");
    }

    [TestMethod]
    [DataRow(Architecture.FactorizedPrior)]
    [DataRow(Architecture.ScaleHyperprior)]
    [DataRow(Architecture.MeanScaleHyperprior)]
    [DataRow(Architecture.VariableRateHyperprior)]
    [DataRow(Architecture.JointAutoregressiveHierarchicalPriors)]
    public void EveryArchitecture_RoundTrips_AsItself(Architecture architecture)
    {
        var config = Config with { Architecture = architecture };
        manual_seed(6);
        CompressionModel created = ModelFile.Create(config);
        string path = Path.Combine(folder, $"{architecture}.srzw");
        ModelFile.Save(created, config, path);
        Assert.AreEqual(architecture, (Architecture)BitConverter.ToInt32(File.ReadAllBytes(path), 8));
        (CompressionModel loaded, ModelFile.Config read) = ModelFile.Load(path);
        Assert.AreEqual(config, read);
        Assert.AreEqual(architecture.ToString(), loaded.GetType().Name);
        // The weights are the saved ones; a hyperprior model's scale table (a buffer, so part of the identifier) is the
        // codec's 256 scales, and update() built every table: a second call without force builds none.
        created.update(Codec.ScaleTable);
        CollectionAssert.AreEqual(Weights.Identifier(created), Weights.Identifier(loaded));
        Assert.IsFalse(loaded.update());
        GaussianConditional? conditional = loaded.modules().OfType<GaussianConditional>().SingleOrDefault();
        Assert.AreEqual(architecture != Architecture.FactorizedPrior, conditional is not null);
        if (conditional is not null)
        {
            Assert.AreEqual(256, conditional.scale_table.numel());
            Assert.AreEqual((float)Codec.ScaleTable[255], conditional.scale_table[255].item<float>());
        }
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ModelFile.Create(config with { Architecture = (Architecture)5 })).Message,
            "ModelFile.Create: no architecture 5.");
    }

    [TestMethod]
    public void TheSmallestModel_AndZeroAlphaAndSteps_AreAccepted()
    {
        string path = Path.Combine(folder, "small.srzw");
        var config = new ModelFile.Config(1, 1, QuantizationMode.UniformNoise, 0.0, 0.001, 0, 0);
        ModelFile.Save(new FactorizedPrior(1, 1, config.Mode, config.Alpha), config, path);
        Assert.AreEqual(config, ModelFile.Load(path).config);
        // M at its limit (N at its limit would build a 100 MB model; the value above it is refused in Refuses_WithWhatIsWrong).
        var widest = config with { M = ModelFile.MaxChannels };
        ModelFile.Save(new FactorizedPrior(1, widest.M, widest.Mode, widest.Alpha), widest, path);
        Assert.AreEqual(widest, ModelFile.Load(path).config);
    }

    [TestMethod]
    public void TheShortestFiles_AreRefusedForWhatTheyAre()
    {
        // Magic and version alone fail the checksum; magic and version with a matching checksum have no configuration.
        StringAssert.Contains(Refused(file[..8]), "is truncated or corrupted: its checksum does not match.");
        StringAssert.Contains(Refused(Signed(file[..8])), "holds weights this program cannot use");
    }

    [TestMethod]
    public void Truncations_AndFlippedBits_AreRefused()
    {
        var random = new Random(5);
        foreach (int length in Enumerable.Range(0, 80).Concat(Enumerable.Range(0, 120).Select(_ => random.Next(file.Length)))) Refused(file[..length]);
        for (int i = 0; i < 200; i++)
        {
            byte[] damaged = (byte[])file.Clone();
            int bit = i < 100 ? i : random.Next(file.Length * 8);
            damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            Refused(damaged);
        }
    }

    [TestMethod]
    public void RandomBytes_AreRefused_EvenWithAValidChecksum()
    {
        byte[] header = file[..48];
        Gen.Byte.Array[0, 400].Sample(bytes =>
        {
            Refused(bytes);
            // With the header and a checksum that matches, the weights parser itself meets the random bytes.
            Refused(Signed(header.Concat(bytes).ToArray()));
        }, iter: 300);
    }
}
