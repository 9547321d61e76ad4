namespace SoftRound.Tf.Quantization;

/// <summary>The derivative the rounding inside <see cref="QuantizationOps.fake_quantize"/> passes back; its forward value is always round(x/s).</summary>
public enum RoundingGradient
{
    /// <summary>1: the straight-through estimator (PyTorch, TF-MOT, Brevitas, LSQ).</summary>
    StraightThrough,

    /// <summary>soft_round's slope at x/s with steepness α (<see cref="SoftRoundOps.ste_soft_round(TorchSharp.torch.Tensor, double)"/>'s backward pass).</summary>
    SoftRound,

    /// <summary>The sigmoid round's slope k·σ(z)·σ(−z) at x/s (<see cref="SoftRoundOps.differentiable_round(TorchSharp.torch.Tensor, double)"/>'s backward pass).</summary>
    DifferentiableRound,
}
