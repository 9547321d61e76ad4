using System;
using System.IO;
using System.Linq;
using ImageCodec;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Tests.Helpers;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Examples.ImageCodec;

/// <summary>Checkpoints: a stopped and resumed run ends where an unstopped one does, and damaged checkpoints are refused.</summary>
[TestClass]
public sealed class TrainingTests : WithoutOneDnn
{
    private static readonly Training.Options Tiny = new(8, 8, QuantizationMode.SoftRoundNoise, 5.0, 0.01, 6, 2, 32, 3, 3e-3, AlphaStart: 1.0);

    private static Tensor[] Images()
    {
        var generator = new Generator(5);
        return new[] { rand(1, 3, 40, 48, generator: generator), rand(1, 3, 36, 33, generator: generator), rand(1, 3, 20, 20, generator: generator) };
    }

    private static void AssertSameWeights(CompressionModel expected, CompressionModel actual)
    {
        var theirs = expected.state_dict();
        foreach ((string key, Tensor value) in actual.state_dict())
            TensorAssert.Identical(theirs[key], value);
    }

    /// <summary>
    /// The weights of a resumed run: the same data, noise and optimiser state give the same losses, but an Adam whose
    /// state was loaded rounds its steps differently in the last bit (measured: a difference of 7e−9 in weights of
    /// order 1e−2 after one step), so the weights agree to float32 rounding rather than bit for bit.
    /// </summary>
    private static void AssertCloseWeights(CompressionModel expected, CompressionModel actual)
    {
        var theirs = expected.state_dict();
        foreach ((string key, Tensor value) in actual.state_dict())
            Assert.IsTrue(value.allclose(theirs[key], rtol: 1e-5, atol: 1e-7), $"{key}: largest difference {(value - theirs[key]).abs().max().item<float>()}");
    }

    private static T OneThread<T>(Func<T> run)
    {
        int threads = get_num_threads();
        set_num_threads(1);
        try
        {
            return run();
        }
        finally
        {
            set_num_threads(threads);
        }
    }

    [TestMethod]
    public void AStepWhoseGradientOverflows_IsSkipped_AndCounted()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        var trainer = new Training.Trainer(Tiny with { Architecture = Architecture.MeanScaleHyperprior, Crop = 64, AlphaStart = null });
        var generator = new Generator(3);
        Tensor batch = rand(2, 3, 64, 64, generator: generator);
        var before = trainer.Model.state_dict().ToDictionary(e => e.Key, e => e.Value.clone());
        // Pixels of 1e18: the loss and its gradient are finite entry by entry, but the gradient's norm overflows float32.
        double loss = trainer.Step(batch * 1e18);
        Assert.AreEqual(1, trainer.SkippedSteps, $"loss {loss}");
        foreach ((string key, Tensor value) in trainer.Model.state_dict().Where(e => !e.Key.EndsWith("quantiles", StringComparison.Ordinal)))
            Assert.IsTrue(before[key].eq(value).all().item<bool>(), key);
        trainer.Step(batch);
        Assert.AreEqual(1, trainer.SkippedSteps);
        Assert.IsFalse(trainer.Model.state_dict()["g_a.0.weight"].eq(before["g_a.0.weight"]).all().item<bool>());
    }

    [TestMethod]
    public void CheckOneDnn_SetsTheTrainersSettingToTheVerdict_AndLeavesTheRandomStreamAsItWas()
    {
        using var scope = NewDisposeScope();
        manual_seed(4);
        var trainer = new Training.Trainer(Tiny with { Architecture = Architecture.MeanScaleHyperprior, Crop = 64 });
        Assert.IsFalse(trainer.OneDnn, "off until checked");
        Tensor state = TorchSharp.torch.random.get_rng_state();
        SoftRound.Tf.Performance.MkldnnCheck verdict = trainer.CheckOneDnn();
        Assert.IsTrue(TorchSharp.torch.random.get_rng_state().equal(state).all().item<bool>());
        Assert.AreEqual(verdict.passed, trainer.OneDnn);
        // g_a and g_s's four convolutions each, h_a's three, h_s's three; all on crops of the run's size, with gradients.
        Assert.AreEqual(14, verdict.layers.Count);
        CollectionAssert.AreEqual(new long[] { 2, 3, 64, 64 }, verdict.layers[0].input_shape);
        Assert.IsTrue(verdict.layers.All(l => !double.IsNaN(l.input_gradient_error) && !double.IsNaN(l.weight_gradient_error)));
    }

    [TestMethod]
    public void ARunThatChecksOneDnn_HasTheLossesOfOneThatDoesNot_ToFloatRounding()
    {
        using var scope = NewDisposeScope();
        var plain = new double[Tiny.Steps];
        var checkedRun = new double[Tiny.Steps];
        OneThread(() => Training.Run(Tiny, Images(), (step, loss) => plain[step] = loss));
        OneThread(() => Training.Run(Tiny, Images(), (step, loss) => checkedRun[step] = loss, checkOneDnn: true));
        for (int step = 0; step < Tiny.Steps; step++)
            Assert.AreEqual(plain[step], checkedRun[step], 1e-4 * Math.Abs(plain[step]), $"step {step}");
    }

    [TestMethod]
    public void AResumedRun_EndsWithTheWeightsOfOneNeverStopped()
    {
        using var scope = NewDisposeScope();
        string folder = Directory.CreateTempSubdirectory("codec-checkpoint-").FullName;
        try
        {
            string path = Path.Combine(folder, "run.ckpt"), stopped = Path.Combine(folder, "stopped.ckpt");
            var losses = new double[Tiny.Steps];
            CompressionModel plain = OneThread(() => Training.Run(Tiny, Images(), (step, loss) => losses[step] = loss));
            // Checkpoints every 2 steps; the one after step 2 is kept, as if the run had stopped during step 3.
            CompressionModel checkpointed = OneThread(() => Training.Run(Tiny, Images(), (step, _) =>
            {
                if (step == 1) File.Copy(path, stopped);
            }, new Training.Checkpointing(path, 2, Resume: false)));
            AssertSameWeights(plain, checkpointed);
            Assert.IsFalse(File.Exists(path + ".partial"));

            var resumedLosses = new double[Tiny.Steps];
            CompressionModel resumed = OneThread(() => Training.Run(Tiny, Images(), (step, loss) => resumedLosses[step] = loss, new Training.Checkpointing(stopped, 2, Resume: true)));
            AssertCloseWeights(plain, resumed);
            CollectionAssert.AreEqual(new double[2], resumedLosses[..2], "steps 1 and 2 are not run again");
            CollectionAssert.AreEqual(losses[2..], resumedLosses[2..]);
            // The resumed run went on writing its checkpoint: resuming from it now does no step at all.
            var none = new double[Tiny.Steps];
            AssertCloseWeights(plain, OneThread(() => Training.Run(Tiny, Images(), (step, loss) => none[step] = loss, new Training.Checkpointing(stopped, 2, Resume: true))));
            Assert.IsTrue(none.All(l => l == 0));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    public void DamagedOrForeignCheckpoints_AreRefused_NamingWhy()
    {
        using var scope = NewDisposeScope();
        string folder = Directory.CreateTempSubdirectory("codec-checkpoint-").FullName;
        try
        {
            string path = Path.Combine(folder, "run.ckpt");
            OneThread(() => Training.Run(Tiny with { Steps = 2 }, Images(), checkpointing: new Training.Checkpointing(path, 1, Resume: false)));
            byte[] good = File.ReadAllBytes(path);
            string Refusal(Training.Options options) =>
                Assert.ThrowsExactly<InvalidDataException>(() => Training.Run(options, Images(), checkpointing: new Training.Checkpointing(path, 1, Resume: true))).Message;

            StringAssert.Contains(Refusal(Tiny with { Lambda = 0.02 }), "was written by a run with other options");
            StringAssert.Contains(Refusal(Tiny with { Steps = 1 }), "was written by a run with other options");
            File.WriteAllBytes(path, good[..^1]);
            StringAssert.Contains(Refusal(Tiny), "truncated or corrupted");
            var random = new Random(7);
            for (int trial = 0; trial < 40; trial++)
            {
                byte[] flipped = (byte[])good.Clone();
                int at = random.Next(flipped.Length);
                flipped[at] ^= (byte)(1 << random.Next(8));
                File.WriteAllBytes(path, flipped);
                string message = Refusal(Tiny);
                Assert.IsTrue(message.Contains("truncated or corrupted") || message.Contains("not a training checkpoint"), message);
            }
            File.WriteAllBytes(path, "SRZW and more bytes than a hash holds, but not a checkpoint"u8.ToArray());
            StringAssert.Contains(Refusal(Tiny), "is not a training checkpoint");
            Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Training.Run(Tiny, Images(), checkpointing: new Training.Checkpointing(path, 0, Resume: false)));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
