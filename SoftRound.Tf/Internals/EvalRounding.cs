using TorchSharp;

namespace SoftRound.Tf.Internals;

/// <summary>The eval-mode rule of the soft quantizer layers (<see cref="EvalBehavior"/>).</summary>
internal static class EvalRounding
{
    /// <summary>Whether <paramref name="layer"/> rounds hard now: it is in eval mode and its behaviour is <see cref="EvalBehavior.HardRound"/>.</summary>
    public static bool Applies(torch.nn.Module layer, EvalBehavior behavior) => !layer.training && behavior == EvalBehavior.HardRound;

    /// <summary><paramref name="value"/>, or an <see cref="System.ArgumentOutOfRangeException"/> naming the layer when it is not defined.</summary>
    public static EvalBehavior Checked(string layer, EvalBehavior value)
    {
        OpGuard.Defined(layer, "eval_behavior", value);
        return value;
    }
}
