namespace SoftRound.Tf;

/// <summary>What a soft quantizer layer (<see cref="DifferentiableRoundLayer"/>, <see cref="SoftRoundLayer"/>) does in eval mode.</summary>
public enum EvalBehavior
{
    /// <summary>
    /// y = round(x), half to even, with the gradient passed straight through (<see cref="SoftRoundOps.round_st"/>):
    /// what a deployed quantizer sends, integers. The default.
    /// </summary>
    HardRound,

    /// <summary>The layer's soft op, as in training (what tensorflow_compression's layers and a Keras sigmoid-round layer do).</summary>
    SoftOp,
}
