using System;
using System.Collections.Generic;
using TorchSharp;
using TorchSharp.Modules;
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
        : base(AdamMoments.Checked(nameof(Adam), parameters, nameof(parameters), lr, beta1, beta2, eps, weight_decay), lr, beta1, beta2, eps, weight_decay, amsgrad, maximize) => constructed = true;

    /// <summary>
    /// Adam over parameter <paramref name="groups"/> (each with its own options, the others taken from these), as
    /// <c>torch.optim.Adam(groups, …)</c>. A group's own options are checked when a step uses them.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="groups"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">As the other constructor.</exception>
    public Adam(IEnumerable<ParamGroup> groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weight_decay = 0, bool amsgrad = false, bool maximize = false)
        : base(AdamMoments.Checked(nameof(Adam), groups, nameof(groups), lr, beta1, beta2, eps, weight_decay), lr, beta1, beta2, eps, weight_decay, amsgrad, maximize) => constructed = true;

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
            AdamMoments.Check($"{nameof(Adam)}.{nameof(step)}", $"parameter group {i}", options.LearningRate!.Value, options.beta1!.Value, options.beta2!.Value, options.eps!.Value, options.weight_decay!.Value);
        }
        return _step<ParamGroup>(Step, closure);
    }

    private void Step(ParamGroup group)
    {
        var options = (Options)group.Options;
        double decay = options.weight_decay!.Value;
        using var moments = new AdamMoments(options.LearningRate!.Value, options.beta1!.Value, options.beta2!.Value, options.eps!.Value, options.amsgrad!.Value);
        using Scalar weightDecay = decay.ToScalar();
        foreach (Parameter param in group.Parameters)
        {
            var state = (State)_state[param.Handle];
            Tensor? grad = param.grad;
            if (grad is null) continue;
            if (options.maximize!.Value) grad = grad.neg();
            state.step += 1;
            if (decay != 0) grad = grad.add(param, weightDecay);
            moments.Step(param, grad, state.step, state.exp_avg, state.exp_avg_sq, ref state.max_exp_avg_sq);
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
}
