using BenchmarkDotNet.Attributes;
using ImageCodec;
using SoftRound.Tf;
using SoftRound.Tf.Performance;
using static TorchSharp.torch;

namespace SoftRound.Tf.Benchmarks;

/// <summary>
/// One training step of the image codec example (<see cref="Training.Trainer.Step"/>): the factorized prior with
/// N = 32, M = 48 on a batch of 8 crops of 128×128, forward, R + λ·D, backward, gradient clipping, Adam, and the
/// entropy bottleneck's auxiliary step. The same step in PyTorch is benchmarks/pytorch/training_step.py.
/// </summary>
public class CodecTrainingStepBenchmark
{
    private Training.Trainer trainer = null!;
    private Tensor batch = null!;

    /// <summary>The training quantizer: the example's default (soft round + noise) and uniform noise.</summary>
    [Params(QuantizationMode.SoftRoundNoise, QuantizationMode.UniformNoise)]
    public QuantizationMode Quantizer { get; set; }

    /// <summary>
    /// Whether <see cref="NativeAllocator.keep_freed_memory"/> is called first. The setting lasts for the process: each
    /// case runs in its own process in BenchmarkDotNet's default (out-of-process) jobs, not with --quick.
    /// </summary>
    [Params(false, true)]
    public bool KeepFreedMemory { get; set; }

    /// <summary>A seeded model, its optimisers and one fixed batch of uniform noise in [0, 1).</summary>
    [GlobalSetup]
    public void Setup()
    {
        if (KeepFreedMemory) NativeAllocator.keep_freed_memory();
        TorchSharp.torch.set_num_threads(Threads.Count);
        manual_seed(1);
        trainer = new Training.Trainer(Training.Defaults(Quantizer, 0.0067, 1_000_000, 1));
        batch = rand(8, 3, 128, 128);
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
