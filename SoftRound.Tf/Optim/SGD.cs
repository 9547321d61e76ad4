using System;
using System.Collections.Generic;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf.Optim;

/// <summary>
/// TorchSharp's SGD (<c>torch.optim.SGD</c>) computing the same steps operation for operation, with every number it
/// passes to libtorch held in a <see cref="Scalar"/> for the call. Per parameter with a gradient g
/// (g + weight_decay·θ with a weight decay): with a momentum μ, b ← g at the first step and b ← μ·b + (1 − dampening)·g
/// after, and g ← g + μ·b (Nesterov) or b; then θ ← θ − lr·g (θ + lr·g with <c>maximize</c>). Why, and what it shares
/// with TorchSharp's class (options, state, schedulers, its name in a saved state): as <see cref="Adam"/>.
/// </summary>
public sealed class SGD : TorchSharp.Modules.SGD
{
    /// <summary>SGD over <paramref name="parameters"/>, as <c>torch.optim.SGD(parameters, lr, momentum, dampening, weight_decay, nesterov, maximize)</c>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="parameters"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="lr"/>, <paramref name="momentum"/> or <paramref name="weight_decay"/> is negative or not finite,
    /// or <paramref name="dampening"/> is not finite.
    /// </exception>
    /// <exception cref="ArgumentException"><paramref name="nesterov"/> without a momentum above 0 and a dampening of 0.</exception>
    public SGD(IEnumerable<Parameter> parameters, double lr, double momentum = 0, double dampening = 0, double weight_decay = 0,
        bool nesterov = false, bool maximize = false)
        : base(Checked(parameters, nameof(parameters), lr, momentum, dampening, weight_decay, nesterov), lr, momentum, dampening, weight_decay, nesterov, maximize) => constructed = true;

    /// <summary>
    /// SGD over parameter <paramref name="groups"/> (each with its own options, the others taken from these), as
    /// <c>torch.optim.SGD(groups, …)</c>. A group's own options are checked when a step uses them.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="groups"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">As the other constructor.</exception>
    /// <exception cref="ArgumentException">As the other constructor.</exception>
    public SGD(IEnumerable<ParamGroup> groups, double lr, double momentum = 0, double dampening = 0, double weight_decay = 0,
        bool nesterov = false, bool maximize = false)
        : base(Checked(groups, nameof(groups), lr, momentum, dampening, weight_decay, nesterov), lr, momentum, dampening, weight_decay, nesterov, maximize) => constructed = true;

    /// <summary>One step of every parameter with a gradient, as <c>torch.optim.SGD.step</c>; the closure's loss, if given.</summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// A parameter group's options (its own, or loaded with a state) hold a value the constructors refuse; no parameter
    /// has moved.
    /// </exception>
    /// <exception cref="ArgumentException">As the constructors, for a group's options; no parameter has moved.</exception>
    public override Tensor step(Func<Tensor>? closure = null)
    {
        for (int i = 0; i < _parameter_groups.Count; i++)
        {
            var options = (Options)_parameter_groups[i].Options;
            Check($"{nameof(SGD)}.{nameof(step)}", $"parameter group {i}", options.LearningRate!.Value, options.momentum!.Value, options.dampening!.Value, options.weight_decay!.Value, options.nesterov!.Value);
        }
        return _step<ParamGroup>(Step, closure);
    }

    private void Step(ParamGroup group)
    {
        var options = (Options)group.Options;
        double momentum = options.momentum!.Value, decay = options.weight_decay!.Value, lr = options.LearningRate!.Value;
        using Scalar weightDecay = decay.ToScalar(), mu = momentum.ToScalar(), rest = (1 - options.dampening!.Value).ToScalar(),
            size = (options.maximize!.Value ? lr : -lr).ToScalar();
        foreach (Parameter param in group.Parameters)
        {
            var state = (State)_state[param.Handle];
            Tensor? grad = param.grad;
            if (grad is null) continue;
            if (decay != 0) grad = grad.add(param, weightDecay);
            if (momentum != 0)
            {
                Tensor? buffer = state.momentum_buffer;
                if (buffer is null) state.momentum_buffer = buffer = grad.clone().detach().DetachFromDisposeScope();
                else buffer.mul_(mu).add_(grad, rest);
                grad = options.nesterov!.Value ? grad.add(buffer, mu) : buffer;
            }
            param.add_(grad, size);
        }
    }

    private static T Checked<T>(T items, string parameter, double lr, double momentum, double dampening, double weightDecay, bool nesterov) where T : class
    {
        if (items is null) throw new ArgumentNullException(parameter, $"{nameof(SGD)}: {parameter} is null.");
        Check(nameof(SGD), null, lr, momentum, dampening, weightDecay, nesterov);
        return items;
    }

    private static void Check(string member, string? where, double lr, double momentum, double dampening, double weightDecay, bool nesterov)
    {
        OptionChecks.AtLeastZero(member, where, ("lr", lr), ("momentum", momentum), ("weight_decay", weightDecay));
        if (!double.IsFinite(dampening)) throw new ArgumentOutOfRangeException(nameof(dampening), dampening, $"{member}: {OptionChecks.At(nameof(dampening), where)} must be finite; it is {dampening}.");
        if (nesterov && (momentum <= 0 || dampening != 0))
            throw new ArgumentException($"{member}: {OptionChecks.At(nameof(nesterov), where)} needs a momentum above 0 and a dampening of 0; they are {momentum} and {dampening}.", nameof(nesterov));
    }

    // As Adam's: a refused optimizer is finalized without disposing the state it never made.
    private readonly bool constructed;

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (constructed) base.Dispose(disposing);
    }
}
