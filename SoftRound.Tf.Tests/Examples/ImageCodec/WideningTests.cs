using System;
using System.IO;
using ImageCodec;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Examples.ImageCodec;

/// <summary>A widened model computes what the narrower one did, codes its new latents for almost nothing, and they can learn.</summary>
[TestClass]
public sealed class WideningTests : WithoutOneDnn
{
    /// <summary>A model of the architecture with its parameters scaled up threefold, as a trained model's are larger than a fresh one's, in eval mode.</summary>
    private static CompressionModel Trained(Architecture architecture, int n, int m, int seed)
    {
        manual_seed(seed);
        CompressionModel model = ModelFile.Create(new ModelFile.Config(n, m, QuantizationMode.SoftRoundNoise, 5.0, 0.01, 1, 0, architecture));
        using (no_grad()) using (Scalar three = 3.0.ToScalar()) foreach (Tensor p in model.parameters()) p.mul_(three);
        model.eval();
        return model;
    }

    [TestMethod]
    [DataRow(Architecture.FactorizedPrior, 7, 12)]
    [DataRow(Architecture.ScaleHyperprior, 7, 12)]
    [DataRow(Architecture.MeanScaleHyperprior, 7, 12)]
    [DataRow(Architecture.JointAutoregressiveHierarchicalPriors, 7, 12)]
    [DataRow(Architecture.JointAutoregressiveHierarchicalPriors, 4, 12)]
    [DataRow(Architecture.MeanScaleHyperprior, 7, 6)]
    public void AWidenedModel_GivesTheNarrowOnesReconstruction_AndLikelihoods_AndNewLatentsOfZero(Architecture architecture, int n, int m)
    {
        using var scope = NewDisposeScope();
        using CompressionModel narrow = Trained(architecture, 4, 6, 1);
        manual_seed(2);
        using CompressionModel wide = ModelFile.Create(new ModelFile.Config(n, m, QuantizationMode.SoftRoundNoise, 5.0, 0.01, 1, 0, architecture));
        Widening.Widen(narrow, wide);
        wide.eval();
        // y's, z's and the entropy parameters' new channels are made by weights and biases of 0.
        var state = wide.state_dict();
        foreach ((string layer, int old, int blocks) in Producers(architecture))
        foreach (string entry in new[] { "weight", "bias" })
        {
            Tensor value = state[$"{layer}.{entry}"];
            long block = value.shape[0] / blocks;
            if (block == old / blocks) continue;
            for (int b = 0; b < blocks; b++)
                Assert.AreEqual(0f, value.narrow(0, b * block + old / blocks, block - old / blocks).abs().max().item<float>(), $"{layer}.{entry}, block {b}");
        }
        Tensor x = CompressionModelChecks.Images(2, 64, 3);
        using (no_grad())
        {
            CompressionOutput expected = narrow.forward(x), actual = wide.forward(x);
            Assert.IsTrue(actual.x_hat.allclose(expected.x_hat, rtol: 1e-4, atol: 1e-5), $"x̂: largest difference {(actual.x_hat - expected.x_hat).abs().max().item<float>()}");
            // The old channels lead: y's first 6 and z's first 4.
            foreach ((string key, int old) in new[] { ("y", 6), ("z", 4) })
            {
                if (!expected.likelihoods.ContainsKey(key)) continue;
                Tensor a = actual.likelihoods[key][.., ..old], e = expected.likelihoods[key];
                Assert.IsTrue(a.allclose(e, rtol: 1e-4, atol: 1e-7), $"{key}: largest difference {(a - e).abs().max().item<float>()}");
            }
            if (m > 6) Assert.AreEqual(0f, actual.y_hat[.., 6..].abs().max().item<float>(), "the new channels of ŷ");
            if (architecture != Architecture.FactorizedPrior && m > 6)
            {
                // ŷ = 0 at the scale's lower bound (0.11) and mean 0: P = erf(0.5 / (0.11·√2)) = 1 − 5.5e−6.
                Tensor fresh = actual.likelihoods["y"][.., 6..];
                Assert.IsTrue(fresh.min().item<float>() > 1 - 1e-5, $"the new channels' smallest likelihood {fresh.min().item<float>()}");
            }
            // Coded and decoded, the image is the narrow model's too.
            narrow.update(Codec.ScaleTable);
            wide.update(Codec.ScaleTable);
            Tensor narrowDecoded = narrow.decompress(narrow.compress(x)), wideDecoded = wide.decompress(wide.compress(x));
            Assert.IsTrue(wideDecoded.allclose(narrowDecoded, rtol: 1e-4, atol: 1e-5), $"decoded: largest difference {(wideDecoded - narrowDecoded).abs().max().item<float>()}");
        }
    }

    // The layers that make y (6 old channels of 12), z (4 of 7) and the entropy parameters (scales, then means where
    // there are means, 6 of 12 each), with their output blocks.
    private static (string layer, int old, int blocks)[] Producers(Architecture architecture) => architecture switch
    {
        Architecture.FactorizedPrior => new[] { ("g_a.6", 6, 1) },
        Architecture.ScaleHyperprior => new[] { ("g_a.6", 6, 1), ("h_a.4", 4, 1), ("h_s.4", 6, 1) },
        Architecture.MeanScaleHyperprior => new[] { ("g_a.6", 6, 1), ("h_a.4", 4, 1), ("h_s.4", 12, 2) },
        _ => new[] { ("g_a.6", 6, 1), ("h_a.4", 4, 1), ("entropy_parameters.4", 12, 2) },
    };

    [TestMethod]
    public void TrainingFromANarrowerFile_WidensIt_AndAStepMovesTheNewLatentsWeights()
    {
        using var scope = NewDisposeScope();
        string folder = Directory.CreateTempSubdirectory("srtf-widen-").FullName;
        try
        {
            var config = new ModelFile.Config(4, 6, QuantizationMode.SoftRoundNoise, 5.0, 0.01, 1, 0, Architecture.JointAutoregressiveHierarchicalPriors);
            using CompressionModel narrow = Trained(config.Architecture, config.N, config.M, 4);
            string path = Path.Combine(folder, "narrow.srzw");
            ModelFile.Save(narrow, config, path);
            var options = new Training.Options(7, 12, QuantizationMode.SoftRoundNoise, 5.0, 0.01, 6, 2, 64, 3, 1e-3,
                Architecture: config.Architecture, Init: path, DecoderMode: QuantizationMode.RoundSt);
            var trainer = new Training.Trainer(options);
            Tensor weights = trainer.Model.state_dict()["g_a.6.weight"];
            Assert.AreEqual(0f, weights[6..].abs().max().item<float>(), "y's new channels start at 0");
            TensorAssert.Identical(narrow.state_dict()["g_a.6.weight"], weights[..6, ..4]);
            Tensor fromNewUnits = trainer.Model.state_dict()["g_a.2.weight"][..4, 4..];
            Assert.AreEqual(0f, fromNewUnits.abs().max().item<float>(), "old units start blind to new ones");
            trainer.Step(rand(2, 3, 64, 64, generator: new Generator(5)));
            // The new units' random input weights make outputs that are not 0, so the weights from them learn ...
            var after = trainer.Model.state_dict();
            Assert.IsTrue(after["g_a.2.weight"][..4, 4..].abs().max().item<float>() > 0f, "old units' weights from new ones after a step");
            // ... and the new latents move (their gradient comes from the rate at first, from the distortion after).
            Assert.IsTrue(after["g_a.6.weight"][6..].abs().max().item<float>() > 0f, "y's new channels after a step");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    public void ANarrowerTarget_AnotherArchitecture_OrAVariableRateModel_IsRefused_NamingWhy()
    {
        using var scope = NewDisposeScope();
        using CompressionModel joint = Trained(Architecture.JointAutoregressiveHierarchicalPriors, 4, 6, 1);
        using CompressionModel narrower = Trained(Architecture.JointAutoregressiveHierarchicalPriors, 4, 3, 1);
        using CompressionModel meanScale = Trained(Architecture.MeanScaleHyperprior, 8, 12, 1);
        using CompressionModel variable = Trained(Architecture.VariableRateHyperprior, 4, 6, 1);
        using CompressionModel variableWide = Trained(Architecture.VariableRateHyperprior, 8, 12, 1);
        Assert.AreEqual("source", Assert.ThrowsExactly<ArgumentNullException>(() => Widening.Widen(null!, joint)).ParamName);
        Assert.AreEqual("target", Assert.ThrowsExactly<ArgumentNullException>(() => Widening.Widen(joint, null!)).ParamName);
        Tensor before = narrower.state_dict()["g_a.6.weight"].clone();
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => Widening.Widen(joint, narrower)).Message,
            "Widening.Widen: the target (N = 4, M = 3) is narrower than the source (N = 4, M = 6)");
        TensorAssert.Identical(before, narrower.state_dict()["g_a.6.weight"]);
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => Widening.Widen(joint, meanScale)).Message,
            "cannot widen a JointAutoregressiveHierarchicalPriors into a MeanScaleHyperprior");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => Widening.Widen(variable, variableWide)).Message,
            "cannot widen a VariableRateHyperprior; only the factorized, scale, mean-scale and joint autoregressive models");
    }
}
