using BenchmarkDotNet.Attributes;
using SoftRound.Tf.Kernels;
using static TorchSharp.torch;

namespace SoftRound.Tf.Benchmarks;

/// <summary>
/// The bytes-moved floor. The baseline copies x into a buffer allocated and touched beforehand: 2N floats moved at
/// the machine's bandwidth, no page faults. differentiable_round's fused forward+backward with a gradient of ones,
/// as autograd runs it for Σy, moves 5N floats (forward: read x, write y; the sum reads y; backward: read x, write dx),
/// so its floor is 2.5 copies: a ratio of r to the baseline is r ÷ 2.5 times the floor. It is measured twice: into
/// pre-faulted outputs (the kernels alone), and through autograd with fresh outputs (what a caller gets).
/// </summary>
public class BandwidthFloorBenchmark
{
    private static readonly DifferentiableRoundKernel Kernel = new(5);
    private Tensor x = null!, y = null!, dx = null!, ones = null!;

    /// <summary>Elements: 1M and 16M.</summary>
    [Params(1 << 20, 1 << 24)]
    public int N { get; set; }

    /// <summary>x and three output buffers, written once so that their pages are mapped.</summary>
    [GlobalSetup]
    public void Setup()
    {
        TorchSharp.torch.set_num_threads(Threads.Count);
        manual_seed(1);
        x = (randn(N) * 3).detach();
        y = zeros(N);
        dx = zeros(N);
        ones = TorchSharp.torch.ones(1).expand(N);
    }

    /// <summary>y.copy_(x).</summary>
    [Benchmark(Baseline = true)]
    public double CopyIntoPrefaulted() => y.copy_(x).numel();

    /// <summary>The fused forward into y, Σy, the fused backward into dx.</summary>
    [Benchmark]
    public double FusedIntoPrefaulted()
    {
        KernelLoop.Forward(Kernel, x, y);
        using Tensor sum = y.sum();
        KernelLoop.Backward(Kernel, x, ones, dx);
        return sum.item<float>();
    }

    /// <summary>differentiable_round(x, 5) and the gradient of its sum through autograd.</summary>
    [Benchmark]
    public double FusedAutograd()
    {
        using var scope = NewDisposeScope();
        Tensor leaf = x.requires_grad_(true);
        try
        {
            return autograd.grad(new[] { SoftRoundOps.differentiable_round(leaf, 5.0).sum() }, new[] { leaf })[0].numel();
        }
        finally
        {
            x.requires_grad_(false);
        }
    }

    /// <summary>Disposes the tensors.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (Tensor t in new[] { x, y, dx, ones }) t.Dispose();
    }
}
