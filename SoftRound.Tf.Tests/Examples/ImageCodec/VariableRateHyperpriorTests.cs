using System;
using System.IO;
using System.Linq;
using ImageCodec;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Tests.Helpers;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Examples.ImageCodec;

[TestClass]
public sealed class VariableRateHyperpriorTests : WithoutOneDnn
{
    [TestMethod]
    public void Steps_StartAtOneOverTheRootOfLambda_AndTheLevelIsChecked()
    {
        using var scope = NewDisposeScope();
        var model = new VariableRateHyperprior(8, 16);
        Assert.AreEqual(3, model.Level);
        for (int level = 1; level <= 6; level++)
        {
            model.Level = level;
            double expected = Math.Sqrt(0.0067 / VariableRateHyperprior.Lambdas[level - 1]);
            TensorAssert.Close(Enumerable.Repeat(expected, 16).ToArray(), model.StepSize().flatten(), 1e-6);
            CollectionAssert.AreEqual(new long[] { 1, 16, 1, 1 }, model.StepSize().shape);
        }
        CollectionAssert.AreEqual(new[] { 0.0018, 0.0035, 0.0067, 0.0130, 0.0250, 0.0483 }, VariableRateHyperprior.Lambdas.ToArray());
        foreach (int bad in new[] { 0, 7, -1 })
        {
            var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.Level = bad);
            StringAssert.Contains(e.Message, $"VariableRateHyperprior.Level: the level must be 1 to 6; got {bad}.");
        }
        Assert.AreEqual(6, model.Level, "a refused level leaves the last one");
    }

    [TestMethod]
    public void EachLevel_RoundTripsThroughTheCodec_AndHigherLevelsSpendMore()
    {
        using var scope = NewDisposeScope();
        manual_seed(4);
        var model = new VariableRateHyperprior(8, 16);
        model.eval();
        // The untrained model's latents are of order 0.1: steps 50 times smaller than the start make every level code some.
        using (no_grad()) model.state_dict()["log_step_sizes"].add_(Math.Log(0.02));
        model.update(Codec.ScaleTable);
        Tensor image = (rand(1, 3, 70, 90, generator: new Generator(6)) * 0.3 + linspace(0, 0.7, 90).reshape(1, 1, 1, 90)).clamp(0, 1);
        int previous = 0;
        foreach (int level in new[] { 1, 6 })
        {
            model.Level = level;
            byte[] file = Codec.Compress(model, image, level);
            (Tensor forward, _) = Codec.Forward(model, image);
            TensorAssert.Close(forward, Codec.Decompress(model, file), 1e-5, 1e-5);
            Assert.IsTrue(file.Length > previous * 1.3 + 50, $"level {level}: {file.Length} bytes, before {previous}");
            previous = file.Length;
        }
    }

    [TestMethod]
    public void Training_TakesTheLevelsInTurn_AndStartsFromAMeanScaleModelsWeights()
    {
        using var scope = NewDisposeScope();
        string dir = Directory.CreateTempSubdirectory().FullName;
        try
        {
            manual_seed(7);
            var source = new MeanScaleHyperprior(8, 16, QuantizationMode.SoftRoundNoise);
            string path = Path.Combine(dir, "source.srzw");
            ModelFile.Save(source, new ModelFile.Config(8, 16, QuantizationMode.SoftRoundNoise, 5, 0.01, 1, 0, Architecture.MeanScaleHyperprior), path);
            var options = new Training.Options(8, 16, QuantizationMode.SoftRoundNoise, 5.0, 0.01, 12, 2, 64, 3, 1e-3, Architecture: Architecture.VariableRateHyperprior, Init: path);
            var trainer = new Training.Trainer(options);
            var model = (VariableRateHyperprior)trainer.Model;
            var theirs = source.state_dict();
            foreach ((string key, Tensor value) in model.state_dict().Where(e => e.Key != "log_step_sizes"))
                TensorAssert.Identical(theirs[key["model.".Length..]], value);
            Tensor batch = rand(2, 3, 64, 64, generator: new Generator(9));
            Tensor before = model.state_dict()["log_step_sizes"].clone();
            for (int step = 0; step < 6; step++)
            {
                trainer.Step(batch);
                Assert.AreEqual(step + 1, model.Level);
            }
            // Every level's steps moved: each had its turn.
            Tensor moved = (model.state_dict()["log_step_sizes"] - before).abs().amax(1);
            Assert.IsTrue(moved.gt(0).all().item<bool>(), moved.ToString(TorchSharp.TensorStringStyle.Julia));
            // Saved and loaded with its steps.
            string saved = Path.Combine(dir, "vr.srzw");
            ModelFile.Save(model, new ModelFile.Config(8, 16, QuantizationMode.SoftRoundNoise, 5, 0.01, 3, 6, Architecture.VariableRateHyperprior), saved);
            (CompressionModel loaded, ModelFile.Config config) = ModelFile.Load(saved);
            Assert.AreEqual(Architecture.VariableRateHyperprior, config.Architecture);
            TensorAssert.Identical(model.state_dict()["log_step_sizes"], loaded.state_dict()["log_step_sizes"]);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
