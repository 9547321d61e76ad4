using System;
using SoftRound.Tf.Internals;
using static TorchSharp.torch;

namespace SoftRound.Tf;

/// <summary>
/// A layer that applies <see cref="SoftRoundOps.soft_round(Tensor, Tensor)"/>, tensorflow_compression's
/// <c>tfc.layers.SoftRound</c>: y = m + tanh(α·(x − m)) / (2·tanh(α/2)), m = ⌊x⌋ + ½, in training, with a fixed or
/// learned α (stored as <c>log_alpha</c>); in eval mode y = round(x) with a straight-through gradient, or the soft op,
/// as <see cref="eval_behavior"/> says.
/// </summary>
/// <remarks>
/// α = 0 and any α below 1e−3 make the soft op the identity, as the op does. tensorflow_compression's layer applies
/// the soft op in eval mode too: pass <see cref="EvalBehavior.SoftOp"/> for that. Its <c>inverse=True</c> form is
/// <see cref="SoftRoundInverseLayer"/>.
/// </remarks>
public sealed class SoftRoundLayer : SoftRoundFamilyLayer
{
    private EvalBehavior evalBehavior;

    /// <summary>Creates the layer with steepness <paramref name="alpha"/>.</summary>
    /// <param name="alpha">The steepness α; finite and ≥ 0 (5 is a common fixed value).</param>
    /// <param name="trainable">Whether α is a learned parameter (as log α).</param>
    /// <param name="evalBehavior">What the layer does in eval mode: hard rounding (the default) or the soft op.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alpha"/> is NaN, infinite or &lt; 0, or <paramref name="evalBehavior"/> is not defined.</exception>
    public SoftRoundLayer(double alpha = 5.0, bool trainable = false, EvalBehavior evalBehavior = EvalBehavior.HardRound)
        : base(nameof(SoftRoundLayer), alpha, trainable)
    {
        eval_behavior = evalBehavior;
    }


    /// <summary>What the layer does in eval mode.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value set is not a defined <see cref="EvalBehavior"/>; it is then unchanged.</exception>
    public EvalBehavior eval_behavior
    {
        get => evalBehavior;
        set => evalBehavior = EvalRounding.Checked(nameof(SoftRoundLayer), value);
    }

    /// <summary>
    /// Training, or eval with <see cref="EvalBehavior.SoftOp"/>: y = soft_round(x, max(α, min_steepness)); eval with
    /// <see cref="EvalBehavior.HardRound"/>: y = round_st(x).
    /// </summary>
    /// <exception cref="ArgumentException">As <see cref="SoftRoundOps.soft_round(Tensor, Tensor)"/>.</exception>
    public override Tensor forward(Tensor x)
    {
        if (EvalRounding.Applies(this, evalBehavior)) return SoftRoundOps.round_st(x);
        using Tensor alpha = SteepnessTensor();
        return SoftRoundOps.soft_round(x, alpha);
    }
}
