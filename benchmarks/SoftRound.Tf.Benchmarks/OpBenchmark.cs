using System;
using System.Collections.Generic;
using BenchmarkDotNet.Attributes;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Benchmarks;

/// <summary>
/// One op against its composite TorchSharp formula (the baseline) and against <c>x.clone()</c>, the memory-bandwidth
/// yardstick, on float32 tensors of <see cref="N"/> elements.
/// </summary>
public abstract class OpBenchmark
{
    private Tensor x = null!;

    /// <summary>Elements per tensor: 1K, 64K, 1M and 16M.</summary>
    [Params(1 << 10, 1 << 16, 1 << 20, 1 << 24)]
    public int N { get; set; }

    /// <summary>Forward only, or forward and backward.</summary>
    [ParamsAllValues]
    public Mode Mode { get; set; }

    /// <summary>The op as the user calls it.</summary>
    protected abstract Tensor Op(Tensor x);

    /// <summary>The same formula written with TorchSharp's composite ops and autograd.</summary>
    protected abstract Tensor Composite(Tensor x);

    /// <summary>Creates x ~ 3·N(0, 1), fixing TorchSharp's thread count.</summary>
    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(Threads.Count);
        manual_seed(1);
        x = (randn(N) * 3).detach();
    }

    /// <summary>Disposes x.</summary>
    [GlobalCleanup]
    public void Cleanup() => x.Dispose();

    /// <summary>The composite formula.</summary>
    [Benchmark(Baseline = true)]
    public double CompositeFormula() => Run(Composite);

    /// <summary>The SoftRound.Tf op.</summary>
    [Benchmark]
    public double Fused() => Run(Op);

    /// <summary>x.clone(): one read and one write of x, whatever the mode.</summary>
    [Benchmark]
    public double Clone()
    {
        using Tensor copy = x.clone();
        return copy.numel();
    }

    /// <summary>Runs f once in the current mode; returns a number so the work is not optimised away.</summary>
    internal double Run(Func<Tensor, Tensor> f)
    {
        using var scope = NewDisposeScope();
        if (Mode == Mode.Forward)
        {
            using (no_grad()) return f(x).numel();
        }
        Tensor leaf = x.requires_grad_(true);
        try
        {
            IList<Tensor> grad = autograd.grad(new[] { f(leaf).sum() }, new[] { leaf });
            return grad[0].numel();
        }
        finally
        {
            x.requires_grad_(false);
        }
    }
}
