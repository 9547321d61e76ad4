using System;
using SoftRound.Tf.Internals;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf;

/// <summary>
/// A layer that applies <see cref="SoftRoundOps.differentiable_round(Tensor, Tensor)"/>:
/// y = ⌊x⌋ + σ(k·(x − ⌊x⌋ − ½)), with a fixed or learned steepness k.
/// </summary>
/// <remarks>
/// k is stored as <c>log_k</c> (float64), a parameter when the layer is trainable and a buffer otherwise, so k stays
/// positive whatever an optimizer does to it and round-trips through <c>state_dict</c>, save and load. Reading
/// <see cref="k"/> gives exp(log_k), which may differ from the value set in its last bit.
/// </remarks>
public sealed class DifferentiableRoundLayer : nn.Module<Tensor, Tensor>
{
    private const string Name = nameof(DifferentiableRoundLayer);

    private readonly Tensor log_k;

    /// <summary>Creates the layer with steepness <paramref name="k"/>.</summary>
    /// <param name="k">The steepness; finite and &gt; 0.</param>
    /// <param name="trainable">Whether k is a learned parameter (as log k).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is NaN, infinite or ≤ 0.</exception>
    public DifferentiableRoundLayer(double k = 10.0, bool trainable = false) : base(Name)
    {
        OpGuard.PositiveFinite(Name, nameof(k), k);
        Tensor initial = tensor(Math.Log(k), ScalarType.Float64);
        log_k = trainable ? new Parameter(initial) : initial;
        RegisterComponents();
    }

    /// <summary>Whether k is learned: <c>log_k</c> is a parameter rather than a buffer.</summary>
    public bool trainable => log_k is Parameter;

    /// <summary>The steepness, exp(log_k).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value set is NaN, infinite or ≤ 0; k is then unchanged.</exception>
    public double k
    {
        get
        {
            using var scope = NewDisposeScope();
            return log_k.detach().exp().to(ScalarType.Float64).item<double>();
        }
        set
        {
            OpGuard.PositiveFinite(Name, nameof(k), value);
            using var noGrad = no_grad();
            log_k.fill_(Math.Log(value));
        }
    }

    /// <summary>y = <see cref="SoftRoundOps.differentiable_round(Tensor, Tensor)"/>(x, exp(log_k)).</summary>
    /// <exception cref="ArgumentException">As <see cref="SoftRoundOps.differentiable_round(Tensor, Tensor)"/>.</exception>
    public override Tensor forward(Tensor x)
    {
        using Tensor steepness = log_k.exp();
        return SoftRoundOps.differentiable_round(x, steepness);
    }
}
