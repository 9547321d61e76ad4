using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using ImageCodec;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Entropy;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Examples.ImageCodec;

/// <summary>Checkpoints: a stopped and resumed run ends where an unstopped one does, and damaged checkpoints are refused.</summary>
[TestClass]
public sealed class TrainingTests : WithoutOneDnn
{
    private static readonly Training.Options Tiny = new(8, 8, QuantizationMode.SoftRoundNoise, 5.0, 0.01, 6, 2, 32, 3, 3e-3, AlphaStart: 1.0);

    /// <summary>Tiny's mean-scale hyperprior on 64×64 crops, without annealing (as a fine-tuning runs).</summary>
    private static readonly Training.Options Hyperprior = Tiny with { Architecture = Architecture.MeanScaleHyperprior, Crop = 64, AlphaStart = null };

    [TestMethod]
    public void Init_FromAMeanScaleFile_StartsAJointAutoregressiveModelAtItsRate_AndTheContextCanLearn()
    {
        using var scope = NewDisposeScope();
        string folder = Directory.CreateTempSubdirectory("srtf-init-").FullName;
        try
        {
            manual_seed(4);
            var config = new ModelFile.Config(8, 12, QuantizationMode.SoftRoundNoise, 5.0, 0.01, 1, 0, Architecture.MeanScaleHyperprior);
            var meanScale = (MeanScaleHyperprior)ModelFile.Create(config);
            // Parameters as a trained model has them: means of either sign, some far from 0.
            using (no_grad()) using (Scalar three = 3.0.ToScalar()) foreach (Tensor p in meanScale.parameters()) p.mul_(three);
            string path = Path.Combine(folder, "mean-scale.srzw");
            ModelFile.Save(meanScale, config, path);
            var trainer = new Training.Trainer(Hyperprior with { N = 8, M = 12, Architecture = Architecture.JointAutoregressiveHierarchicalPriors, Init = path });
            var joint = (JointAutoregressiveHierarchicalPriors)trainer.Model;
            Tensor x = CompressionModelChecks.Images(1, 64, 7);
            meanScale.eval();
            joint.eval();
            using (no_grad())
            {
                CompressionOutput expected = meanScale.forward(x), actual = joint.forward(x);
                foreach (string key in new[] { "y", "z" })
                {
                    Tensor a = actual.likelihoods[key], e = expected.likelihoods[key];
                    Assert.IsTrue(a.allclose(e, rtol: 1e-3, atol: 1e-6), $"{key}: largest difference {(a - e).abs().max().item<float>()}");
                }
            }
            // One training step moves the weights that were set to 0: the context's path to the parameters.
            joint.train();
            Tensor before = joint.state_dict()["entropy_parameters.4.weight"][.., 24..].clone();
            Assert.AreEqual(0f, before.abs().max().item<float>());
            trainer.Step(rand(2, 3, 64, 64, generator: new Generator(5)));
            Assert.IsTrue(joint.state_dict()["entropy_parameters.4.weight"][.., 24..].abs().max().item<float>() > 0f);
            meanScale.Dispose();
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

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

    /// <summary>
    /// The loss is λ·255²·MSE + bits per pixel, computed here from the model's own output in float64: −Σ log₂ p over
    /// both latents' likelihoods, over N·H·W pixels (a batch of two, H ≠ W).
    /// </summary>
    [TestMethod]
    public void Loss_IsLambdaTimesTheMseOn255Squared_PlusTheBitsPerPixel()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        using CompressionModel model = ModelFile.Create(new ModelFile.Config(8, 8, QuantizationMode.SoftRoundNoise, 5.0, 0.01, 1, 1, Architecture.MeanScaleHyperprior));
        model.eval();
        Tensor x = rand(2, 3, 64, 128, generator: new Generator(7));
        CompressionOutput output = model.call(x);
        double bits = output.likelihoods.Values.Sum(l => -l.to_type(ScalarType.Float64).log2().sum().item<double>());
        double expectedBpp = bits / (2 * 64 * 128);
        double expectedMse = (output.x_hat.to_type(ScalarType.Float64) - x.to_type(ScalarType.Float64)).square().mean().item<double>();
        (Tensor loss, double bpp, double mse) = Training.Loss(model, x, 0.0035);
        Assert.AreEqual(expectedBpp, bpp, 1e-5 * expectedBpp);
        Assert.AreEqual(expectedMse, mse, 1e-5 * expectedMse);
        Assert.AreEqual(0.0035 * 255 * 255 * expectedMse + expectedBpp, loss.item<float>(), 1e-5 * loss.item<float>());
    }

    [TestMethod]
    public void DecoderMode_IsTheGaussianConditionalsXHatMode_AndNeedsAHyperpriorModel()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        var trainer = new Training.Trainer(Hyperprior with { DecoderMode = QuantizationMode.RoundSt });
        Assert.AreEqual(QuantizationMode.RoundSt, ((MeanScaleHyperprior)trainer.Model).GaussianConditional.x_hat_mode);
        Assert.IsNull(((MeanScaleHyperprior)new Training.Trainer(Hyperprior).Model).GaussianConditional.x_hat_mode);
        var refused = Assert.ThrowsExactly<ArgumentException>(() => new Training.Trainer(Tiny with { DecoderMode = QuantizationMode.RoundSt }));
        Assert.AreEqual("options", refused.ParamName);
        StringAssert.Contains(refused.Message, "Training.Trainer: options.DecoderMode needs a hyperprior model; FactorizedPrior has no GaussianConditional.");
    }

    /// <summary>
    /// With FreezeAnalysis, steps leave g_a and h_a as the Init file has them and move every other part; with RoundSt as
    /// the training quantizer, the rate a training step prices is the eval forward's, the latents the coder codes (with
    /// soft round and noise it is not: the assertion can tell).
    /// </summary>
    [TestMethod]
    public void FreezeAnalysis_KeepsTheAnalysisTransforms_AndWithRoundStTheRateIsTheCodedLatents()
    {
        using var scope = NewDisposeScope();
        string folder = Directory.CreateTempSubdirectory("srtf-freeze-").FullName;
        try
        {
            manual_seed(4);
            var config = new ModelFile.Config(8, 12, QuantizationMode.SoftRoundNoise, 5.0, 0.01, 1, 0, Architecture.JointAutoregressiveHierarchicalPriors);
            string path = Path.Combine(folder, "joint.srzw");
            using (CompressionModel source = ModelFile.Create(config)) ModelFile.Save(source, config, path);
            var soft = Hyperprior with { N = 8, M = 12, Architecture = Architecture.JointAutoregressiveHierarchicalPriors, Init = path, DecoderMode = QuantizationMode.RoundSt };
            Tensor batch = CompressionModelChecks.Images(2, 64, 5);

            double TrainingAgainstEvalBits(Training.Options options, out Training.Trainer trainer)
            {
                trainer = new Training.Trainer(options);
                CompressionModel model = trainer.Model;
                model.eval();
                double coded;
                using (no_grad()) coded = Bits.per_pixel(2 * 64 * 64, model.forward(batch).likelihoods.Values.ToArray()).item<float>();
                model.train();
                (_, double bpp, _) = Training.Loss(model, batch, 0.01);
                return bpp / coded - 1;
            }
            double proxy = TrainingAgainstEvalBits(soft, out _);
            Assert.IsTrue(Math.Abs(proxy) > 1e-3, $"soft round and noise price other latents than the coded ones ({proxy:E2})");
            double hard = TrainingAgainstEvalBits(soft with { Mode = QuantizationMode.RoundSt, FreezeAnalysis = true }, out Training.Trainer frozen);
            Assert.AreEqual(0, hard, 1e-5, "RoundSt prices the coded latents");

            var before = frozen.Model.state_dict().ToDictionary(e => e.Key, e => e.Value.clone());
            frozen.Step(batch);
            frozen.Step(batch);
            var after = frozen.Model.state_dict();
            foreach (string key in before.Keys.Where(Training.Trainer.IsAnalysis))
                TensorAssert.Identical(before[key], after[key]);
            foreach (string part in new[] { "g_s.", "h_s.", "context_prediction.", "entropy_parameters.", "entropy_bottleneck." })
                Assert.IsTrue(before.Keys.Where(k => k.StartsWith(part, StringComparison.Ordinal)).Any(k => !before[k].eq(after[k]).all().item<bool>()), $"{part} trained");
            Assert.IsTrue(before.Keys.Count(Training.Trainer.IsAnalysis) >= 8, "g_a and h_a were compared");
            Assert.IsTrue(frozen.Model.named_parameters().All(p => p.parameter.requires_grad != Training.Trainer.IsAnalysis(p.name)));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    public void FreezeAnalysis_NeedsWeightsToStartFrom()
    {
        var refused = Assert.ThrowsExactly<ArgumentException>(() => new Training.Trainer(Hyperprior with { FreezeAnalysis = true }));
        Assert.AreEqual("options", refused.ParamName);
        StringAssert.Contains(refused.Message, "Training.Trainer: options.FreezeAnalysis keeps the analysis transforms of options.Init, which is null");
    }

    [TestMethod]
    [DataRow("g_a.0.weight", true)]
    [DataRow("h_a.4.bias", true)]
    [DataRow("model.g_a.2.weight", true)]
    [DataRow("g_s.0.weight", false)]
    [DataRow("h_s.0.weight", false)]
    [DataRow("entropy_bottleneck.quantiles", false)]
    [DataRow("model.log_step_sizes", false)]
    [DataRow("g_a", false)]
    [DataRow("xg_a.0.weight", false)]
    public void IsAnalysis_IsGaAndHa_InsideAVariableRateModelToo(string name, bool expected) =>
        Assert.AreEqual(expected, Training.Trainer.IsAnalysis(name));

    [TestMethod]
    public void AStepWhoseGradientOverflows_IsSkipped_AndCounted()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        var trainer = new Training.Trainer(Hyperprior);
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

    /// <summary>
    /// The gradient a step clips is the main loss's alone: a trainer loaded from a checkpoint clips, on the same batch
    /// and noise, exactly what the trainer that wrote it does. (Until 2026-12-06 the quantiles still held the last
    /// step's auxiliary gradient when the norm was taken: the main gradient was scaled by it, and by nothing in the
    /// first step of a resumed run.)
    /// </summary>
    [TestMethod]
    public void AStepClipsTheMainLossGradientOnly_AsATrainerLoadedFromACheckpointDoes()
    {
        using var scope = NewDisposeScope();
        string folder = Directory.CreateTempSubdirectory("codec-checkpoint-").FullName;
        try
        {
            var options = Hyperprior;
            var generator = new Generator(3);
            Tensor first = rand(2, 3, 64, 64, generator: generator), second = rand(2, 3, 64, 64, generator: generator);
            manual_seed(2);
            var running = new Training.Trainer(options);
            running.Step(first);
            Assert.IsNotNull(running.Model.named_parameters().Single(p => p.name.EndsWith("quantiles", StringComparison.Ordinal)).parameter.grad, "the auxiliary step left a gradient on the quantiles");
            string path = Path.Combine(folder, "t.ckpt");
            running.Save(path);
            manual_seed(2);
            var loaded = new Training.Trainer(options);
            loaded.Load(path);

            Dictionary<string, Tensor> Clipped(Training.Trainer trainer)
            {
                Dictionary<string, Tensor> grads = new();
                Tensor state = TorchSharp.torch.random.get_rng_state();
                trainer.Step(second, phase =>
                {
                    if (phase == "clip")
                        grads = trainer.Model.named_parameters().Where(p => !p.name.EndsWith("quantiles", StringComparison.Ordinal))
                            .ToDictionary(p => p.name, p => p.parameter.grad!.clone().DetachFromDisposeScope());
                });
                TorchSharp.torch.random.set_rng_state(state);
                return grads;
            }
            Dictionary<string, Tensor> expected = Clipped(running), actual = Clipped(loaded);
            double norm = Math.Sqrt(expected.Values.Sum(g => g.square().sum().item<float>()));
            Assert.IsTrue(norm > 0.99, $"the step's gradient is clipped (norm {norm})");
            foreach ((string name, Tensor grad) in expected)
                TensorAssert.Identical(grad, actual[name]);
            foreach (Tensor grad in expected.Values.Concat(actual.Values)) grad.Dispose();
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
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

    /// <summary>
    /// Stopped after 2 steps, and after 5 (past the learning rate's cut after 4 of Tiny's 6 steps: the schedule must not
    /// cut the rate the checkpoint already holds a second time); with a spike guard, which judges no step of this run.
    /// </summary>
    [TestMethod]
    [DataRow(2, false)]
    [DataRow(5, false)]
    [DataRow(2, true)]
    public void AResumedRun_EndsWithTheWeightsOfOneNeverStopped(int stoppedAfter, bool guarded)
    {
        using var scope = NewDisposeScope();
        string folder = Directory.CreateTempSubdirectory("codec-checkpoint-").FullName;
        Training.SpikeGuard? guard = guarded ? new Training.SpikeGuard() : null;
        try
        {
            string path = Path.Combine(folder, "run.ckpt"), stopped = Path.Combine(folder, "stopped.ckpt");
            var losses = new double[Tiny.Steps];
            CompressionModel plain = OneThread(() => Training.Run(Tiny, Images(), (step, loss) => losses[step] = loss, guard: guard));
            // Checkpoints every step; the one after stoppedAfter steps is kept, as if the run had stopped in the next.
            CompressionModel checkpointed = OneThread(() => Training.Run(Tiny, Images(), (step, _) =>
            {
                if (step == stoppedAfter - 1) File.Copy(path, stopped);
            }, new Training.Checkpointing(path, 1, Resume: false), guard: guard));
            AssertSameWeights(plain, checkpointed);
            Assert.IsFalse(File.Exists(path + ".partial"));

            var resumedLosses = new double[Tiny.Steps];
            CompressionModel resumed = OneThread(() => Training.Run(Tiny, Images(), (step, loss) => resumedLosses[step] = loss, new Training.Checkpointing(stopped, 1, Resume: true), guard: guard));
            AssertCloseWeights(plain, resumed);
            CollectionAssert.AreEqual(new double[stoppedAfter], resumedLosses[..stoppedAfter], "the steps done are not run again");
            CollectionAssert.AreEqual(losses[stoppedAfter..], resumedLosses[stoppedAfter..]);
            // The resumed run went on writing its checkpoint: resuming from it now does no step at all.
            var none = new double[Tiny.Steps];
            AssertCloseWeights(plain, OneThread(() => Training.Run(Tiny, Images(), (step, loss) => none[step] = loss, new Training.Checkpointing(stopped, 1, Resume: true), guard: guard)));
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
    [TestMethod]
    public void SpikeGuard_JudgesALossAgainstTheMedianOfTheLastWindowAcceptedOnes()
    {
        var guard = new Training.SpikeGuard(factor: 10, window: 4, warmup: 3);
        Assert.IsTrue(guard.IsSpike(double.NaN, Array.Empty<double>()), "not finite: a spike, even before the warm-up");
        Assert.IsTrue(guard.IsSpike(double.PositiveInfinity, Array.Empty<double>()));
        Assert.IsFalse(guard.IsSpike(1e30, new[] { 1.0, 1.0 }), "two accepted losses: still warming up");
        Assert.IsFalse(guard.IsSpike(20, new[] { 1.0, 2.0, 3.0 }), "median 2 (odd count): 20 is 10 times it, not above");
        Assert.IsTrue(guard.IsSpike(20.000001, new[] { 1.0, 2.0, 3.0 }));
        // Even count: the mean of the middle two, 2.5.
        Assert.IsFalse(guard.IsSpike(25, new[] { 4.0, 1.0, 3.0, 2.0 }));
        Assert.IsTrue(guard.IsSpike(25.00001, new[] { 4.0, 1.0, 3.0, 2.0 }));
        // Only the last four count: the median of 1, 1, 1, 1 is 1, not the 100s before them.
        Assert.IsTrue(guard.IsSpike(11, new[] { 100.0, 100.0, 100.0, 1.0, 1.0, 1.0, 1.0 }));
        Assert.IsFalse(guard.IsSpike(0.0, new[] { 1.0, 1.0, 1.0 }), "a loss far below is no spike");
    }

    /// <summary>
    /// The guard keeps the last window's accepted losses, and a checkpoint keeps them: a trainer loaded from it judges
    /// the next loss as the one that wrote it does, and goes back to the loaded state at a spike.
    /// </summary>
    [TestMethod]
    public void TheGuardsWindow_IsTheLastAcceptedLosses_AndSurvivesACheckpoint()
    {
        using var scope = NewDisposeScope();
        string folder = Directory.CreateTempSubdirectory("codec-checkpoint-").FullName;
        try
        {
            var options = Hyperprior;
            var guard = new Training.SpikeGuard(10, 3, 3);
            Tensor batch = rand(2, 3, 64, 64, generator: new Generator(3));
            manual_seed(2);
            var running = new Training.Trainer(options, guard, snapshotEvery: 100);
            double[] losses = Enumerable.Range(0, 5).Select(_ => running.Step(batch)).ToArray();
            CollectionAssert.AreEqual(losses[2..], running.AcceptedLosses.ToArray());
            string path = Path.Combine(folder, "t.ckpt");
            running.Save(path);
            var loadedState = running.Model.state_dict().ToDictionary(e => e.Key, e => e.Value.clone());
            manual_seed(2);
            var loaded = new Training.Trainer(options, guard, snapshotEvery: 100);
            loaded.Load(path);
            CollectionAssert.AreEqual(losses[2..], loaded.AcceptedLosses.ToArray());
            // A step trains on from the state loaded; with the window restored the guard judges at once (warm-up 3), and
            // the spike sends the weights back to the state loaded, the snapshot until the next (step 100).
            loaded.Step(batch);
            Assert.IsFalse(loaded.Model.state_dict()["g_s.0.weight"].eq(loadedState["g_s.0.weight"]).all().item<bool>());
            loaded.Step(batch * 100);
            Assert.AreEqual(1, loaded.RolledBack);
            foreach ((string key, Tensor value) in loaded.Model.state_dict())
                TensorAssert.Identical(loadedState[key], value);
            Assert.AreEqual(0, new Training.Trainer(options).AcceptedLosses.Count, "none without a guard");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    public void SpikeGuard_TakesAWindowOfOne_AndAWarmupAsLongAsTheWindow()
    {
        var guard = new Training.SpikeGuard(1.5, 1, 1);
        Assert.AreEqual(1, guard.Window);
        Assert.AreEqual(1, guard.Warmup);
        Assert.IsTrue(guard.IsSpike(3.1, new[] { 9.0, 2.0 }), "only the last loss counts: 3.1 is over 1.5 times 2");
    }

    [TestMethod]
    [DataRow(1.0, 200, 20, "factor")]
    [DataRow(double.PositiveInfinity, 200, 20, "factor")]
    [DataRow(double.NaN, 200, 20, "factor")]
    [DataRow(10.0, 0, 1, "window")]
    [DataRow(10.0, 200, 0, "warmup")]
    [DataRow(10.0, 200, 201, "warmup")]
    public void SpikeGuard_RefusesSettingsOutOfRange_NamingThem(double factor, int window, int warmup, string name)
    {
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new Training.SpikeGuard(factor, window, warmup));
        Assert.AreEqual(name, e.ParamName);
        StringAssert.Contains(e.Message, "Training.SpikeGuard");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new Training.Trainer(Tiny, new Training.SpikeGuard(), snapshotEvery: 0));
    }

    /// <summary>
    /// A spike (a batch whose pixels are 100 times too large) at step 4, after the learning rate's cut: the weights go
    /// back bit for bit to the state at the start of step 3 (the snapshot, every 3 steps), the step is counted, and the
    /// rate stays the cut one rather than the snapshot's. A healthy step after it trains from there.
    /// </summary>
    [TestMethod]
    public void ASpike_SendsTheWeightsBackToTheLastSnapshot_AndKeepsTheSchedulesRate()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        var options = Hyperprior;
        var trainer = new Training.Trainer(options, new Training.SpikeGuard(10, 200, 1), snapshotEvery: 3);
        Tensor batch = rand(2, 3, 64, 64, generator: new Generator(3));
        var losses = new double[4];
        Dictionary<string, Tensor>? atThree = null;
        var phases = new List<string>();
        for (int step = 0; step < 4; step++)
        {
            if (step == 3)
            {
                atThree = trainer.Model.state_dict().ToDictionary(e => e.Key, e => e.Value.clone());
                Assert.AreEqual(3e-3, trainer.LearningRate, 1e-12, "not cut before 4 of 6 steps");
            }
            losses[step] = trainer.Step(batch, step == 0 ? phases.Add : null);
        }
        CollectionAssert.AreEqual(new[] { "forward", "backward", "clip", "step", "aux" }, phases);
        CollectionAssert.AreEqual(losses, trainer.AcceptedLosses.ToArray());
        Assert.AreEqual(3e-4, trainer.LearningRate, 1e-12, "cut tenfold after 4 of 6 steps");
        Assert.IsFalse(trainer.Model.state_dict()["g_s.0.weight"].eq(atThree!["g_s.0.weight"]).all().item<bool>(), "step 3 moved the weights");

        double spike = trainer.Step(batch * 100);
        Assert.IsTrue(spike > 10 * losses.Max(), $"loss {spike} against {string.Join(", ", losses)}");
        Assert.AreEqual(1, trainer.RolledBack);
        Assert.AreEqual(0, trainer.SkippedSteps);
        foreach ((string key, Tensor value) in trainer.Model.state_dict())
            TensorAssert.Identical(atThree[key], value);
        Assert.AreEqual(3e-4, trainer.LearningRate, 1e-12, "the schedule's rate, not the snapshot's 3e-3");

        CollectionAssert.AreEqual(losses, trainer.AcceptedLosses.ToArray(), "a spike is not remembered");
        double after = trainer.Step(batch);
        Assert.AreEqual(1, trainer.RolledBack);
        Assert.AreEqual(after, trainer.AcceptedLosses[^1]);
        Assert.IsFalse(trainer.Model.state_dict()["entropy_bottleneck.quantiles"].eq(atThree["entropy_bottleneck.quantiles"]).all().item<bool>(), "the auxiliary step moved the quantiles");
        Assert.IsTrue(after < 10 * losses.Max(), $"{after}");
        Assert.IsFalse(trainer.Model.state_dict()["g_s.0.weight"].eq(atThree["g_s.0.weight"]).all().item<bool>());
    }

    /// <summary>
    /// A run whose data hold one image 100 times too bright: every step that draws a crop of it (after the first, which
    /// nothing judges) is a spike and goes back, the others train; the run says how many on stderr.
    /// </summary>
    [TestMethod]
    public void ARunWithAGuard_GoesBackAtEverySpike_AndSaysHowManyTimes()
    {
        using var scope = NewDisposeScope();
        var options = Tiny with { Steps = 30, Batch = 1 };
        Tensor[] images = Images().Append(rand(1, 3, 40, 40, generator: new Generator(9)) * 100).ToArray();
        var losses = new double[options.Steps];
        var stderr = new StringWriter();
        TextWriter before = Console.Error;
        Console.SetError(stderr);
        try
        {
            OneThread(() => Training.Run(options, images, (step, loss) => losses[step] = loss, guard: new Training.SpikeGuard(10, 200, 1)));
        }
        finally
        {
            Console.SetError(before);
        }
        double median = losses.Order().ElementAt(losses.Length / 2);
        Assert.IsTrue(losses[0] < 10 * median, "the first crop is not a bright one (it would be accepted)");
        int bright = losses.Count(l => l > 100 * median);
        Assert.IsTrue(bright >= 3 && losses.All(l => l > 100 * median || l < 2 * median), $"bright crops drawn: {bright}; losses {string.Join(", ", losses)}");
        StringAssert.Contains(stderr.ToString(), $"note: {bright} of 30 steps were spikes");
    }
}
