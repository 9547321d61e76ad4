using System;
using System.Collections.Generic;
using BenchmarkDotNet.Attributes;
using SoftRound.Tf.Quantization;
using static TorchSharp.torch;

namespace SoftRound.Tf.Benchmarks;

/// <summary>
/// <see cref="QuantizationOps.fake_quantize"/> per tensor at 4 bits with a learned scale (LSQ), against the same
/// formula composed from TorchSharp ops with autograd: the straight-through round as (round(u) − u).detach() + u and
/// the gradient scale as s·g + (s − s·g).detach(), as a user would write LSQ. Forward+backward takes the gradients
/// of x and s.
/// </summary>
public class FakeQuantizeBenchmark : SizedBenchmark
{
    private static readonly QuantSpec Spec = new(4);
    private readonly Tensor scale = tensor(new[] { 0.9f }).requires_grad_(true);

    /// <summary>Forward only, or forward and backward.</summary>
    [ParamsAllValues]
    public Mode Mode { get; set; }

    /// <summary>The composite formula.</summary>
    [Benchmark(Baseline = true)]
    public double CompositeFormula() => Run((x, s) =>
    {
        double g = QuantizationOps.lsq_grad_scale(x.numel(), Spec);
        Tensor scaled = s * g + (s - s * g).detach();
        Tensor u = x * scaled.reciprocal();
        Tensor rounded = (u.round() - u).detach() + u;
        return rounded.clamp(Spec.qmin, Spec.qmax) * scaled;
    });

    /// <summary>The SoftRound.Tf op.</summary>
    [Benchmark]
    public double Fused() => Run((x, s) => QuantizationOps.fake_quantize(x, s, null, Spec));

    private double Run(Func<Tensor, Tensor, Tensor> f)
    {
        using var scope = NewDisposeScope();
        if (Mode == Mode.Forward)
        {
            using (no_grad()) return f(x, scale).numel();
        }
        Tensor leaf = x.requires_grad_(true);
        try
        {
            IList<Tensor> grads = autograd.grad(new[] { f(leaf, scale).sum() }, new[] { leaf, scale });
            return grads[0].numel() + grads[1].numel();
        }
        finally
        {
            x.requires_grad_(false);
        }
    }
}
