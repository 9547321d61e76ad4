using System;
using System.Collections.Generic;
using BenchmarkDotNet.Attributes;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Benchmarks;

/// <summary>One op against its composite TorchSharp formula (the baseline), on float32 tensors of <see cref="SizedBenchmark.N"/> elements.</summary>
public abstract class OpBenchmark : SizedBenchmark
{

    /// <summary>Forward only, or forward and backward.</summary>
    [ParamsAllValues]
    public Mode Mode { get; set; }

    /// <summary>The op as the user calls it.</summary>
    protected abstract Tensor Op(Tensor x);

    /// <summary>The same formula written with TorchSharp's composite ops and autograd.</summary>
    protected abstract Tensor Composite(Tensor x);

    /// <summary>The composite formula.</summary>
    [Benchmark(Baseline = true)]
    public double CompositeFormula() => Run(Composite);

    /// <summary>The SoftRound.Tf op.</summary>
    [Benchmark]
    public double Fused() => Run(Op);

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
