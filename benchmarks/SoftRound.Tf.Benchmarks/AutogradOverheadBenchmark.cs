using System.Collections.Generic;
using BenchmarkDotNet.Attributes;
using SoftRound.Tf.Quantization;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Benchmarks;

/// <summary>
/// What one op costs at 1K elements, forward and backward (the gradient of Σy with respect to x), where the autograd
/// engine dominates: a built-in op (sigmoid, the baseline), a do-nothing custom autograd function defined here (y =
/// x.clone(), gradient passed on: the engine's floor for any custom function in TorchSharp), and the library's
/// round_st, differentiable_round and fake_quantize (per tensor, a learned scale).
/// </summary>
public class AutogradOverheadBenchmark
{
    private static readonly QuantSpec Spec = new(4);
    private Tensor x = null!, scale = null!;

    /// <summary>x ~ 3·N(0, 1) of 1K elements and a learned scale.</summary>
    [GlobalSetup]
    public void Setup()
    {
        TorchSharp.torch.set_num_threads(Threads.Count);
        manual_seed(1);
        x = (randn(1024) * 3).detach();
        scale = tensor(new[] { 0.9f }).requires_grad_(true);
    }

    /// <summary>sigmoid.</summary>
    [Benchmark(Baseline = true)]
    public double BuiltinSigmoid() => Run(t => t.sigmoid());

    /// <summary>The do-nothing custom function.</summary>
    [Benchmark]
    public double EmptyCustomFunction() => Run(t => Identity.apply(t));

    /// <summary>round_st.</summary>
    [Benchmark]
    public double RoundSt() => Run(t => SoftRoundOps.round_st(t));

    /// <summary>differentiable_round, k = 5.</summary>
    [Benchmark]
    public double DifferentiableRound() => Run(t => SoftRoundOps.differentiable_round(t, 5.0));

    /// <summary>fake_quantize, 4 bits, per tensor, learned scale.</summary>
    [Benchmark]
    public double FakeQuantize() => Run(t => QuantizationOps.fake_quantize(t, scale, null, Spec));

    /// <summary>Disposes x and the scale.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        x.Dispose();
        scale.Dispose();
    }

    private double Run(System.Func<Tensor, Tensor> f)
    {
        using var scope = NewDisposeScope();
        Tensor leaf = x.requires_grad_(true);
        try
        {
            return autograd.grad(new[] { f(leaf).sum() }, new[] { leaf })[0].numel();
        }
        finally
        {
            x.requires_grad_(false);
        }
    }

    private sealed class Identity : autograd.SingleTensorFunction<Identity>
    {
        public override string Name => nameof(Identity);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars) => ((Tensor)vars[0]).clone();

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output) => new() { grad_output.alias() };
    }
}
