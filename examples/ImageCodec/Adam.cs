using System;
using System.Collections.Generic;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ImageCodec;

/// <summary>
/// TorchSharp's Adam (β = (0.9, 0.999), ε = 10⁻⁸, no weight decay unless a loaded state says so) with the same step,
/// operation for operation: m ← β₁·m + (1 − β₁)·g, v ← β₂·v + (1 − β₂)·g², θ ← θ − (lr / (1 − β₁ᵗ))·m / (√v / √(1 − β₂ᵗ) + ε),
/// but with every number it passes to libtorch held in a <see cref="Scalar"/> for the call. TorchSharp's own step
/// converts β₁, 1 − β₁, β₂, 1 − β₂, ε and the step size to temporary Scalars, which a garbage collection during the
/// native call can free (README, "A rare crash in long runs"). Its state, options, state dictionary and learning-rate
/// schedulers are TorchSharp's Adam's, and so is its name (TorchSharp writes the optimizer's type name into a saved
/// state and checks it on load), so checkpoints written by either load into the other.
/// </summary>
public sealed class Adam : TorchSharp.Modules.Adam
{
    /// <summary>Adam over <paramref name="parameters"/> with step size <paramref name="lr"/>.</summary>
    public Adam(IEnumerable<Parameter> parameters, double lr) : base(parameters, lr, 0.9, 0.999, 1e-8, 0, false, false) { }

    /// <summary>One step of every parameter with a gradient, as <see cref="TorchSharp.Modules.Adam.step"/>.</summary>
    /// <exception cref="NotSupportedException">A loaded state asks for AMSGrad or maximizing, which this step does not do.</exception>
    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
    {
        Options options = group.Options;
        double beta1 = options.beta1!.Value, beta2 = options.beta2!.Value, decay = options.weight_decay!.Value, lr = options.LearningRate!.Value;
        if (options.amsgrad!.Value || options.maximize!.Value) throw new NotSupportedException($"{nameof(Adam)}.{nameof(step)}: amsgrad and maximize are not supported (the options say {options.amsgrad}, {options.maximize}).");
        using Scalar one = 1L.ToScalar(), b1 = beta1.ToScalar(), b2 = beta2.ToScalar(), rest1 = (1 - beta1).ToScalar(), rest2 = (1 - beta2).ToScalar(),
            eps = options.eps!.Value.ToScalar(), weightDecay = decay.ToScalar();
        foreach (Parameter param in group.Parameters)
        {
            var state = (State)_state[param.Handle];
            Tensor? grad = param.grad;
            if (grad is null) continue;
            state.step += 1;
            double correction1 = 1 - Math.Pow(beta1, state.step), correction2 = 1 - Math.Pow(beta2, state.step);
            if (decay != 0) grad = grad.add(param, weightDecay);
            state.exp_avg.mul_(b1).add_(grad, rest1);
            state.exp_avg_sq.mul_(b2).addcmul_(grad, grad.conj(), rest2);
            using Scalar root = Math.Sqrt(correction2).ToScalar(), size = (-(lr / correction1)).ToScalar();
            Tensor denominator = state.exp_avg_sq.sqrt().div(root).add_(eps, one);
            param.addcdiv_(state.exp_avg, denominator, size);
        }
    }, closure);
}
