using System;
using TorchSharp;
using TorchSharp.Modules;
using static SoftRound.Tf.Internals.KeptScalars;
using static TorchSharp.torch;

namespace SoftRound.Tf.Optim;

/// <summary>
/// The part of a step <see cref="Adam"/> and <see cref="AdamW"/> share, for one parameter group, with its Scalars kept
/// for the group's step: m ← β₁·m + (1 − β₁)·g, v ← β₂·v + (1 − β₂)·g², with AMSGrad v̂ ← max(v̂, v) used for v below,
/// θ ← θ − (lr / (1 − β₁ᵗ))·m / (√v / √(1 − β₂ᵗ) + ε); TorchSharp's operations in TorchSharp's order.
/// </summary>
internal sealed class AdamMoments : IDisposable
{
    private readonly double beta1, beta2, lr;
    private readonly bool amsgrad;
    private readonly Scalar b1, b2, rest1, rest2, eps;

    public AdamMoments(double lr, double beta1, double beta2, double eps, bool amsgrad)
    {
        (this.lr, this.beta1, this.beta2, this.amsgrad) = (lr, beta1, beta2, amsgrad);
        b1 = beta1.ToScalar();
        b2 = beta2.ToScalar();
        rest1 = (1 - beta1).ToScalar();
        rest2 = (1 - beta2).ToScalar();
        this.eps = eps.ToScalar();
    }

    /// <summary>Updates the moments with <paramref name="grad"/> and moves <paramref name="param"/>, at <paramref name="step"/> (from 1).</summary>
    public void Step(Parameter param, Tensor grad, long step, Tensor expAvg, Tensor expAvgSq, ref Tensor maxExpAvgSq)
    {
        double correction1 = 1 - Math.Pow(beta1, step), correction2 = 1 - Math.Pow(beta2, step);
        expAvg.mul_(b1).add_(grad, rest1);
        expAvgSq.mul_(b2).addcmul_(grad, grad.conj(), rest2);
        if (amsgrad)
        {
            Tensor old = maxExpAvgSq;
            maxExpAvgSq = maximum(old, expAvgSq).DetachFromDisposeScope();
            old.Dispose();
        }
        using Scalar root = Math.Sqrt(correction2).ToScalar(), size = (-(lr / correction1)).ToScalar();
        Tensor denominator = (amsgrad ? maxExpAvgSq : expAvgSq).sqrt().div(root).add_(eps, One);
        param.addcdiv_(expAvg, denominator, size);
    }

    public void Dispose()
    {
        b1.Dispose();
        b2.Dispose();
        rest1.Dispose();
        rest2.Dispose();
        eps.Dispose();
    }

    /// <summary><paramref name="items"/>, once they and the options are checked (<see cref="Check"/>).</summary>
    public static T Checked<T>(string member, T items, string parameter, double lr, double beta1, double beta2, double eps, double weightDecay) where T : class
    {
        if (items is null) throw new ArgumentNullException(parameter, $"{member}: {parameter} is null.");
        Check(member, null, lr, beta1, beta2, eps, weightDecay);
        return items;
    }

    /// <summary>
    /// Refuses, naming the option (and <paramref name="where"/> it was found, if given), an lr, ε or weight decay that is
    /// negative or not finite, and a β outside [0, 1).
    /// </summary>
    public static void Check(string member, string? where, double lr, double beta1, double beta2, double eps, double weightDecay)
    {
        OptionChecks.AtLeastZero(member, where, ("lr", lr), ("eps", eps), ("weight_decay", weightDecay));
        foreach ((string name, double value) in new[] { ("beta1", beta1), ("beta2", beta2) })
            if (!(value >= 0 && value < 1)) throw new ArgumentOutOfRangeException(name, value, $"{member}: {OptionChecks.At(name, where)} must be in [0, 1); it is {value}.");
    }
}
