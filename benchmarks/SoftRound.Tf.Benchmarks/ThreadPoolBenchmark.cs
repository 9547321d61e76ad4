using BenchmarkDotNet.Attributes;
using SoftRound.Tf.Kernels;
using static TorchSharp.torch;

namespace SoftRound.Tf.Benchmarks;

/// <summary>
/// The fused kernels between libtorch operations, as in a training step: h = x·w + ½ (libtorch), y =
/// differentiable_round(h, 5) (the fused kernels), loss = Σ relu(y·w) (libtorch), then the gradient of x. On one
/// thread (the baseline), and on the core count with the kernels' chunks on libtorch's OpenMP team (the library's
/// choice where that team is found) or on .NET's thread pool (the fallback elsewhere).
/// </summary>
public class ThreadPoolBenchmark
{
    private Tensor x = null!, w = null!;

    /// <summary>Elements: 64K, 1M and 16M.</summary>
    [Params(1 << 16, 1 << 20, 1 << 24)]
    public int N { get; set; }

    /// <summary>One thread.</summary>
    [GlobalSetup(Target = nameof(OneThread))]
    public void SetupOneThread() => Setup(1, IntraOpPool.Backend.OpenMp);

    /// <summary>The core count, libtorch's OpenMP team.</summary>
    [GlobalSetup(Target = nameof(OpenMpTeam))]
    public void SetupOpenMp() => Setup(Threads.Count, IntraOpPool.Backend.OpenMp);

    /// <summary>The core count, .NET's pool.</summary>
    [GlobalSetup(Target = nameof(DotNetPool))]
    public void SetupDotNet() => Setup(Threads.Count, IntraOpPool.Backend.DotNet);

    /// <summary>One thread.</summary>
    [Benchmark(Baseline = true)]
    public double OneThread() => Step();

    /// <summary>The core count; the kernels on libtorch's OpenMP team.</summary>
    [Benchmark]
    public double OpenMpTeam() => Step();

    /// <summary>The core count; the kernels on .NET's thread pool.</summary>
    [Benchmark]
    public double DotNetPool() => Step();

    /// <summary>Disposes the inputs and restores the library's backend.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        x.Dispose();
        w.Dispose();
        IntraOpPool.Current = IntraOpPool.HasOpenMp ? IntraOpPool.Backend.OpenMp : IntraOpPool.Backend.DotNet;
    }

    private void Setup(int threads, IntraOpPool.Backend backend)
    {
        TorchSharp.torch.set_num_threads(threads);
        IntraOpPool.Current = backend;
        manual_seed(1);
        x = (randn(N) * 3).detach();
        w = randn(N);
    }

    private double Step()
    {
        using var scope = NewDisposeScope();
        Tensor leaf = x.requires_grad_(true);
        try
        {
            Tensor y = SoftRoundOps.differentiable_round(leaf * w + 0.5, 5.0);
            return autograd.grad(new[] { (y * w).relu().sum() }, new[] { leaf })[0].numel();
        }
        finally
        {
            x.requires_grad_(false);
        }
    }
}
