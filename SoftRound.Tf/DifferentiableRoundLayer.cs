using System;
using SoftRound.Tf.Internals;
using static TorchSharp.torch;

namespace SoftRound.Tf;

/// <summary>
/// A layer that applies <see cref="SoftRoundOps.differentiable_round(Tensor, Tensor)"/>:
/// y = ⌊x⌋ + σ(k·(x − ⌊x⌋ − ½)) in training, with a fixed or learned steepness k (stored as <c>log_k</c>); in eval mode
/// y = round(x) with a straight-through gradient, or the soft op, as <see cref="eval_behavior"/> says.
/// </summary>
/// <remarks>
/// A trainable k tends to drift down during training (a flatter curve passes more gradient), which makes the hard
/// rounding at evaluation a worse match for what was trained; <see cref="SteepnessLayer.min_steepness"/> sets a floor,
/// and a <see cref="SteepnessSchedule"/> raises k instead.
/// </remarks>
public sealed class DifferentiableRoundLayer : SteepnessLayer
{
    /// <summary>Creates the layer with steepness <paramref name="k"/>.</summary>
    /// <param name="k">The steepness; finite and &gt; 0.</param>
    /// <param name="trainable">Whether k is a learned parameter (as log k).</param>
    /// <param name="evalBehavior">What the layer does in eval mode: hard rounding (the default) or the soft op.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is NaN, infinite or ≤ 0, or <paramref name="evalBehavior"/> is not defined.</exception>
    public DifferentiableRoundLayer(double k = 10.0, bool trainable = false, EvalBehavior evalBehavior = EvalBehavior.HardRound)
        : base(nameof(DifferentiableRoundLayer), nameof(k), k, trainable)
    {
        eval_behavior = evalBehavior;
    }

    /// <summary>The steepness k, exp(log_k); the same as <see cref="SteepnessLayer.steepness"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value set is NaN, infinite or ≤ 0; k is then unchanged.</exception>
    public double k
    {
        get => steepness;
        set => steepness = value;
    }

    /// <summary>What the layer does in eval mode.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value set is not a defined <see cref="EvalBehavior"/>; it is then unchanged.</exception>
    public EvalBehavior eval_behavior
    {
        get => evalBehavior;
        set => evalBehavior = EvalRounding.Checked(nameof(DifferentiableRoundLayer), value);
    }

    private EvalBehavior evalBehavior;

    /// <summary>
    /// Training, or eval with <see cref="EvalBehavior.SoftOp"/>: y = differentiable_round(x, max(k, min_steepness));
    /// eval with <see cref="EvalBehavior.HardRound"/>: y = round_st(x).
    /// </summary>
    /// <exception cref="ArgumentException">As <see cref="SoftRoundOps.differentiable_round(Tensor, Tensor)"/>.</exception>
    public override Tensor forward(Tensor x)
    {
        if (EvalRounding.Applies(this, evalBehavior)) return SoftRoundOps.round_st(x);
        using Tensor k = SteepnessTensor();
        return SoftRoundOps.differentiable_round(x, k);
    }
}
