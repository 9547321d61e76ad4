using SoftRound.Tf.Entropy;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Compression;

/// <summary>
/// CompressAI's <c>GaussianConditionalLatentCodec</c> as the ported models use it: a <see cref="GaussianConditional"/>
/// (its key <c>gaussian_conditional</c>) whose entropy parameters come in as 2C channels, the scales then the means
/// (CompressAI's default <c>chunks</c>) or the means then the scales.
/// </summary>
internal sealed class GaussianConditionalLatentCodec : nn.Module
{
    internal readonly GaussianConditional gaussian_conditional;
    private readonly bool meansFirst;

    public GaussianConditionalLatentCodec(GaussianConditional conditional, bool meansFirst = false) : base(nameof(GaussianConditionalLatentCodec))
    {
        gaussian_conditional = conditional;
        this.meansFirst = meansFirst;
        RegisterComponents();
    }

    /// <summary>The scales and the means in 2C entropy parameters.</summary>
    public (Tensor scales, Tensor means) Chunk(Tensor parameters)
    {
        Tensor[] halves = parameters.chunk(2, 1);
        return meansFirst ? (halves[1], halves[0]) : (halves[0], halves[1]);
    }
}
