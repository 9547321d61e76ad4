namespace ImageCodec;

/// <summary>The library's models the codec can use (SoftRound.Tf.Compression), by the number a weights file stores.</summary>
public enum Architecture
{
    /// <summary><c>FactorizedPrior</c> (bmshj2018-factorized): one stream, latents at 1/16 of the image's side.</summary>
    FactorizedPrior = 0,

    /// <summary><c>ScaleHyperprior</c> (bmshj2018-hyperprior): ŷ's and ẑ's streams, ẑ at 1/64.</summary>
    ScaleHyperprior = 1,

    /// <summary><c>MeanScaleHyperprior</c> (mbt2018-mean): as the scale hyperprior, with predicted means.</summary>
    MeanScaleHyperprior = 2,

    /// <summary><see cref="VariableRateHyperprior"/>: one mean-scale model for every quality level, with a learned step per level.</summary>
    VariableRateHyperprior = 3,

    /// <summary>
    /// <c>JointAutoregressiveHierarchicalPriors</c> (mbt2018): the mean-scale hyperprior joined with a context model
    /// over the latents decoded before; ŷ is coded position by position.
    /// </summary>
    JointAutoregressiveHierarchicalPriors = 4,
}
