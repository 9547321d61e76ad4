using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Internals;

/// <summary>
/// The autograd function behind <see cref="SoftRoundOps.differentiable_round(Tensor, Tensor)"/>, and the one place
/// that owns its formula (../shared/MATH.md §1).
/// </summary>
/// <remarks>
/// Called with <c>apply(x, k)</c>: x and k share a floating dtype and device, and k broadcasts to x. Saves x and k;
/// the backward pass recomputes z from them and is itself differentiable, so <c>create_graph</c> works.
/// </remarks>
internal sealed class DifferentiableRoundFunction : autograd.SingleTensorFunction<DifferentiableRoundFunction>
{
    private const string NeedsX = "needs_x", NeedsK = "needs_k";

    /// <inheritdoc />
    public override string Name => "DifferentiableRound";

    /// <inheritdoc />
    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var x = (Tensor)vars[0];
        var k = (Tensor)vars[1];
        ctx.save_for_backward(new List<Tensor> { x, k });
        ctx.save_data(NeedsX, x.requires_grad);
        ctx.save_data(NeedsK, k.requires_grad);
        return Value(x, k);
    }

    /// <inheritdoc />
    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        using var scope = NewDisposeScope();
        List<Tensor> saved = ctx.get_saved_variables();
        Tensor x = saved[0], k = saved[1];
        Tensor infinite = x.isinf();
        Tensor f = x.floor();
        Tensor r = (x - f - 0.5).masked_fill(infinite, 0.0);
        Tensor weighted = grad_output * SigmoidProduct(k * r).masked_fill(infinite, 0.0);
        Tensor? dx = (bool)ctx.get_data(NeedsX) ? (weighted * k).MoveToOuterDisposeScope() : null;
        Tensor? dk = (bool)ctx.get_data(NeedsK) ? Broadcast.SumToShape(weighted * r, k.shape).MoveToOuterDisposeScope() : null;
        return new List<Tensor> { dx!, dk! };
    }

    /// <summary>y = ⌊x⌋ + σ(k·(x − ⌊x⌋ − ½)), and y = x where x is ±∞.</summary>
    public static Tensor Value(Tensor x, Tensor k)
    {
        using var scope = NewDisposeScope();
        Tensor f = x.floor();
        Tensor y = f + (k * (x - f - 0.5)).sigmoid();
        return where(x.isinf(), x, y).MoveToOuterDisposeScope();
    }

    /// <summary>σ(z)·σ(−z) in the stable form e^(−|z|) / (1 + e^(−|z|))², accurate where σ(z) rounds to 1.</summary>
    private static Tensor SigmoidProduct(Tensor z)
    {
        using var scope = NewDisposeScope();
        Tensor e = z.abs().neg().exp();
        return (e / (e + 1).square()).MoveToOuterDisposeScope();
    }
}
