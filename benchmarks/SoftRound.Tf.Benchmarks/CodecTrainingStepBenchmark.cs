using BenchmarkDotNet.Attributes;
using ImageCodec;
using SoftRound.Tf;
using static TorchSharp.torch;

namespace SoftRound.Tf.Benchmarks;

/// <summary>
/// One training step of the image codec example (<see cref="Training.Trainer.Step"/>, with oneDNN off, or on with its
/// kernels limited to AVX2 after <see cref="Training.Trainer.CheckOneDnn"/> has passed, as the example trains): the
/// factorized prior or the mean-scale hyperprior with N = 32, M = 48 on a batch of 8 crops of 128×128, forward,
/// R + λ·D, backward, gradient clipping, Adam, and the entropy bottleneck's auxiliary step. The same steps in PyTorch
/// are benchmarks/pytorch/training_step.py (the mean-scale one is CompressAI's own model).
/// </summary>
public class CodecTrainingStepBenchmark : TrainingStepBenchmark
{
    private Training.Trainer trainer = null!;
    private Tensor batch = null!;

    /// <summary>The training quantizer: the example's default (soft round + noise) and uniform noise.</summary>
    [Params(QuantizationMode.SoftRoundNoise, QuantizationMode.UniformNoise)]
    public QuantizationMode Quantizer { get; set; }

    /// <summary>The model: the factorized prior (the example's first) and the mean-scale hyperprior (its quality levels).</summary>
    [Params(Architecture.FactorizedPrior, Architecture.MeanScaleHyperprior)]
    public Architecture Model { get; set; }

    /// <summary>Whether the step uses oneDNN (its AVX2 kernels, checked on the model first).</summary>
    [Params(false, true)]
    public bool OneDnn { get; set; }

    /// <summary>A seeded model, its optimisers and one fixed batch of uniform noise in [0, 1).</summary>
    /// <exception cref="System.InvalidOperationException">oneDNN is asked for and its check fails on this machine.</exception>
    [GlobalSetup]
    public void Setup()
    {
        // Before the process's first convolution, which is when oneDNN reads its limit.
        if (OneDnn) SoftRound.Tf.Performance.MkldnnBackend.set_max_cpu_isa("AVX2");
        Prepare();
        manual_seed(1);
        trainer = new Training.Trainer(Training.Defaults(Quantizer, 0.0067, 1_000_000, 1) with { Architecture = Model });
        batch = rand(8, 3, 128, 128);
        if (OneDnn && !trainer.CheckOneDnn().passed) throw new System.InvalidOperationException("oneDNN's AVX2 convolutions fail the check on this machine: " + trainer.CheckOneDnn());
    }

    /// <summary>One step.</summary>
    [Benchmark]
    public double Step() => trainer.Step(batch);

    /// <summary>Disposes the model and the batch.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        trainer.Model.Dispose();
        batch.Dispose();
    }
}
