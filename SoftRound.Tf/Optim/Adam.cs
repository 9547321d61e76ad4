using System;
using System.Collections.Generic;
using TorchSharp;
using TorchSharp.Modules;
using static SoftRound.Tf.Internals.KeptScalars;
using static TorchSharp.torch;

namespace SoftRound.Tf.Optim;

/// <summary>
/// TorchSharp's Adam (<c>torch.optim.Adam</c>: Kingma &amp; Ba 2015, PyTorch's form) computing the same steps operation
/// for operation, with every number it passes to libtorch held in a <see cref="Scalar"/> for the call. Per parameter
/// with a gradient g (−g with <c>maximize</c>; g + weight_decay·θ with a weight decay), at step t:
/// m ← β₁·m + (1 − β₁)·g, v ← β₂·v + (1 − β₂)·g², (with <c>amsgrad</c> v̂ ← max(v̂, v), used for v below)
/// θ ← θ − (lr / (1 − β₁ᵗ))·m / (√v / √(1 − β₂ᵗ) + ε).
/// <para>
/// Why: TorchSharp 0.107's own <c>step</c> converts β₁, 1 − β₁, β₂, 1 − β₂, ε and the step size to temporary Scalars
/// that nothing keeps alive during the native call; a garbage collection then can free one that libtorch still reads,
/// and a long training run stops ("Expected false to be true" from <c>c10::Scalar</c>). The build's rule SRTF001 refuses
/// <c>optim.Adam</c> for that reason and accepts this class.
/// </para>
/// <para>
/// Its options, parameter groups, state, state dictionary and learning-rate schedulers are TorchSharp's Adam's, and so is
/// its name: TorchSharp writes an optimizer's type name into a saved state and checks it on load, so a state saved by
/// either loads into the other.
/// </para>
/// </summary>
public sealed class Adam : TorchSharp.Modules.Adam
{
    /// <summary>
    /// Adam over <paramref name="parameters"/>, as <c>torch.optim.Adam(parameters, lr, beta1, beta2, eps, weight_decay,
    /// amsgrad, maximize)</c>.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="parameters"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="lr"/>, <paramref name="eps"/> or <paramref name="weight_decay"/> is negative or not finite, or
    /// <paramref name="beta1"/> or <paramref name="beta2"/> is outside [0, 1).
    /// </exception>
    public Adam(IEnumerable<Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weight_decay = 0, bool amsgrad = false, bool maximize = false)
        : base(Checked(parameters, nameof(parameters), lr, beta1, beta2, eps, weight_decay), lr, beta1, beta2, eps, weight_decay, amsgrad, maximize) => constructed = true;

    /// <summary>
    /// Adam over parameter <paramref name="groups"/> (each with its own options, the others taken from these), as
    /// <c>torch.optim.Adam(groups, …)</c>. A group's own options are checked when a step uses them.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="groups"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">As the other constructor.</exception>
    public Adam(IEnumerable<ParamGroup> groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weight_decay = 0, bool amsgrad = false, bool maximize = false)
        : base(Checked(groups, nameof(groups), lr, beta1, beta2, eps, weight_decay), lr, beta1, beta2, eps, weight_decay, amsgrad, maximize) => constructed = true;

    /// <summary>One step of every parameter with a gradient, as <c>torch.optim.Adam.step</c>; the closure's loss, if given.</summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// A parameter group's options (its own, or loaded with a state) hold a value the constructors refuse; no parameter
    /// has moved.
    /// </exception>
    public override Tensor step(Func<Tensor>? closure = null)
    {
        for (int i = 0; i < _parameter_groups.Count; i++)
        {
            var options = (Options)_parameter_groups[i].Options;
            Check($"{nameof(Adam)}.{nameof(step)}", $"parameter group {i}", options.LearningRate!.Value, options.beta1!.Value, options.beta2!.Value, options.eps!.Value, options.weight_decay!.Value);
        }
        return _step<ParamGroup>(Step, closure);
    }

    private void Step(ParamGroup group)
    {
        var options = (Options)group.Options;
        double beta1 = options.beta1!.Value, beta2 = options.beta2!.Value, decay = options.weight_decay!.Value, lr = options.LearningRate!.Value;
        bool amsgrad = options.amsgrad!.Value, maximize = options.maximize!.Value;
        using Scalar b1 = beta1.ToScalar(), b2 = beta2.ToScalar(), rest1 = (1 - beta1).ToScalar(), rest2 = (1 - beta2).ToScalar(),
            eps = options.eps!.Value.ToScalar(), weightDecay = decay.ToScalar();
        foreach (Parameter param in group.Parameters)
        {
            var state = (State)_state[param.Handle];
            Tensor? grad = param.grad;
            if (grad is null) continue;
            if (maximize) grad = grad.neg();
            state.step += 1;
            double correction1 = 1 - Math.Pow(beta1, state.step), correction2 = 1 - Math.Pow(beta2, state.step);
            if (decay != 0) grad = grad.add(param, weightDecay);
            state.exp_avg.mul_(b1).add_(grad, rest1);
            state.exp_avg_sq.mul_(b2).addcmul_(grad, grad.conj(), rest2);
            if (amsgrad)
            {
                Tensor old = state.max_exp_avg_sq;
                state.max_exp_avg_sq = maximum(old, state.exp_avg_sq).DetachFromDisposeScope();
                old.Dispose();
            }
            using Scalar root = Math.Sqrt(correction2).ToScalar(), size = (-(lr / correction1)).ToScalar();
            Tensor denominator = (amsgrad ? state.max_exp_avg_sq : state.exp_avg_sq).sqrt().div(root).add_(eps, One);
            param.addcdiv_(state.exp_avg, denominator, size);
        }
    }

    // An optimizer whose constructor threw is still finalized, and TorchSharp's Dispose then reads the state it never made
    // (a NullReferenceException on the finalizer thread ends the process): only a constructed one is disposed.
    private readonly bool constructed;

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (constructed) base.Dispose(disposing);
    }

    private static T Checked<T>(T items, string parameter, double lr, double beta1, double beta2, double eps, double weightDecay) where T : class
    {
        if (items is null) throw new ArgumentNullException(parameter, $"{nameof(Adam)}: {parameter} is null.");
        Check(nameof(Adam), null, lr, beta1, beta2, eps, weightDecay);
        return items;
    }

    private static void Check(string member, string? where, double lr, double beta1, double beta2, double eps, double weightDecay)
    {
        string At(string name) => where is null ? name : $"{name} ({where})";
        foreach ((string name, double value) in new[] { ("lr", lr), ("eps", eps), ("weight_decay", weightDecay) })
            if (!double.IsFinite(value) || value < 0) throw new ArgumentOutOfRangeException(name, value, $"{member}: {At(name)} must be finite and at least 0; it is {value}.");
        foreach ((string name, double value) in new[] { ("beta1", beta1), ("beta2", beta2) })
            if (!(value >= 0 && value < 1)) throw new ArgumentOutOfRangeException(name, value, $"{member}: {At(name)} must be in [0, 1); it is {value}.");
    }
}
