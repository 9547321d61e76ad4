namespace SoftRound.Tf;

/// <summary>What a <see cref="QuantizationLayer"/> does in training mode, where rounding itself would stop the gradient.</summary>
public enum QuantizationMode
{
    /// <summary>y = x + u, u ~ U(−½, ½): the additive-noise proxy of Ballé et al.; the gradient is 1.</summary>
    UniformNoise,

    /// <summary>y = round_st(x, o): rounded values, gradient passed straight through.</summary>
    RoundSt,

    /// <summary>y = soft_round(x − o, α) + o + u, u ~ U(−½, ½): Agustsson &amp; Theis (2020).</summary>
    SoftRoundNoise,

    /// <summary>y = ste_soft_round(x − o, α) + o: rounded values, soft round's gradient.</summary>
    SteSoftRound,

    /// <summary>
    /// y = differentiable_round(x − o, k) + o with k = the layer's α: the sigmoid round, its own gradient (α must be
    /// &gt; 0 in this mode).
    /// </summary>
    DifferentiableRound,
}
