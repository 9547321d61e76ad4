using System;
using System.Collections.Generic;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf.Optim;

/// <summary>
/// TorchSharp's AdamW (<c>torch.optim.AdamW</c>: Adam with decoupled weight decay, Loshchilov &amp; Hutter 2019)
/// computing the same steps operation for operation, with every number it passes to libtorch held in a
/// <see cref="Scalar"/> for the call. Per parameter with a gradient g (−g with <c>maximize</c>), at step t:
/// θ ← θ·(1 − lr·weight_decay), then <see cref="Adam"/>'s step without its weight decay (moments, AMSGrad, bias
/// corrections, ε). Why, and what it shares with TorchSharp's class (options, state, schedulers, its name in a saved
/// state): as <see cref="Adam"/>. The weight decay's default is TorchSharp's, 0 (PyTorch's is 0.01).
/// </summary>
public sealed class AdamW : TorchSharp.Modules.AdamW
{
    /// <summary>AdamW over <paramref name="parameters"/>, as <c>torch.optim.AdamW(parameters, lr, beta1, beta2, eps, weight_decay, amsgrad, maximize)</c>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="parameters"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="lr"/>, <paramref name="eps"/> or <paramref name="weight_decay"/> is negative or not finite, or
    /// <paramref name="beta1"/> or <paramref name="beta2"/> is outside [0, 1).
    /// </exception>
    public AdamW(IEnumerable<Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weight_decay = 0, bool amsgrad = false, bool maximize = false)
        : base(AdamMoments.Checked(nameof(AdamW), parameters, nameof(parameters), lr, beta1, beta2, eps, weight_decay), lr, beta1, beta2, eps, weight_decay, amsgrad, maximize) => constructed = true;

    /// <summary>
    /// AdamW over parameter <paramref name="groups"/> (each with its own options, the others taken from these), as
    /// <c>torch.optim.AdamW(groups, …)</c>. A group's own options are checked when a step uses them.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="groups"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">As the other constructor.</exception>
    public AdamW(IEnumerable<ParamGroup> groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weight_decay = 0, bool amsgrad = false, bool maximize = false)
        : base(AdamMoments.Checked(nameof(AdamW), groups, nameof(groups), lr, beta1, beta2, eps, weight_decay), lr, beta1, beta2, eps, weight_decay, amsgrad, maximize) => constructed = true;

    /// <summary>One step of every parameter with a gradient, as <c>torch.optim.AdamW.step</c>; the closure's loss, if given.</summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// A parameter group's options (its own, or loaded with a state) hold a value the constructors refuse; no parameter
    /// has moved.
    /// </exception>
    public override Tensor step(Func<Tensor>? closure = null)
    {
        for (int i = 0; i < _parameter_groups.Count; i++)
        {
            var options = (Options)_parameter_groups[i].Options;
            AdamMoments.Check($"{nameof(AdamW)}.{nameof(step)}", $"parameter group {i}", options.LearningRate!.Value, options.beta1!.Value, options.beta2!.Value, options.eps!.Value, options.weight_decay!.Value);
        }
        return _step<ParamGroup>(Step, closure);
    }

    private void Step(ParamGroup group)
    {
        var options = (Options)group.Options;
        double lr = options.LearningRate!.Value;
        using var moments = new AdamMoments(lr, options.beta1!.Value, options.beta2!.Value, options.eps!.Value, options.amsgrad!.Value);
        using Scalar shrink = (1 - lr * options.weight_decay!.Value).ToScalar();
        foreach (Parameter param in group.Parameters)
        {
            var state = (State)_state[param.Handle];
            Tensor? grad = param.grad;
            if (grad is null) continue;
            if (options.maximize!.Value) grad = grad.neg();
            state.step += 1;
            param.mul_(shrink);
            moments.Step(param, grad, state.step, state.exp_avg, state.exp_avg_sq, ref state.max_exp_avg_sq);
        }
    }

    // As Adam's: a refused optimizer is finalized without disposing the state it never made.
    private readonly bool constructed;

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (constructed) base.Dispose(disposing);
    }
}
