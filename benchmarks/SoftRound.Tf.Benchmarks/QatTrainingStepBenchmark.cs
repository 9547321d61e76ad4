using BenchmarkDotNet.Attributes;
using QuantizationAwareTraining;
using SoftRound.Tf.Quantization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf.Benchmarks;

/// <summary>
/// One training step of the QAT example (<see cref="Experiment.Step"/>) on a batch of 128 images of 28×28: the float
/// CNN (the baseline), and its 4-bit quantized copy with learned step sizes (LSQ) and a straight-through or soft-round
/// (α = 2) rounding gradient. The same steps in PyTorch are benchmarks/pytorch/training_step.py.
/// </summary>
public class QatTrainingStepBenchmark : TrainingStepBenchmark
{
    private Sequential floatModel = null!, straightThrough = null!, softRound = null!;
    private optim.Optimizer floatAdam = null!, straightThroughAdam = null!, softRoundAdam = null!;
    private Tensor images = null!, labels = null!;

    /// <summary>Seeded models, their Adam optimisers and one fixed batch (the scales initialised on it).</summary>
    [GlobalSetup]
    public void Setup()
    {
        Prepare();
        manual_seed(1);
        images = rand(128, 1, 28, 28);
        labels = randint(0, 10, new long[] { 128 });
        floatModel = Cnn.Float();
        straightThrough = Cnn.Quantized(floatModel, 4, RoundingGradient.StraightThrough, null, learnScales: true);
        softRound = Cnn.Quantized(floatModel, 4, RoundingGradient.SoftRound, 2, learnScales: true);
        foreach (Sequential m in new[] { floatModel, straightThrough, softRound })
        {
            m.train();
            using (no_grad()) m.forward(images).Dispose();
        }
        floatAdam = optim.Adam(floatModel.parameters(), 5e-4);
        straightThroughAdam = optim.Adam(straightThrough.parameters(), 5e-4);
        softRoundAdam = optim.Adam(softRound.parameters(), 5e-4);
    }

    /// <summary>The float CNN.</summary>
    [Benchmark(Baseline = true)]
    public void Float() => Experiment.Step(floatModel, floatAdam, images, labels);

    /// <summary>4 bits, straight through.</summary>
    [Benchmark]
    public void Lsq4BitStraightThrough() => Experiment.Step(straightThrough, straightThroughAdam, images, labels);

    /// <summary>4 bits, soft round α = 2.</summary>
    [Benchmark]
    public void Lsq4BitSoftRound() => Experiment.Step(softRound, softRoundAdam, images, labels);

    /// <summary>Disposes the models and the batch.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var d in new System.IDisposable[] { floatModel, straightThrough, softRound, images, labels }) d.Dispose();
    }
}
