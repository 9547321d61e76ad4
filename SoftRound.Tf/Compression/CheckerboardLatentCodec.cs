using SoftRound.Tf.Entropy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf.Compression;

/// <summary>
/// CompressAI's <c>CheckerboardLatentCodec</c> (He et al. 2021) with its "twopass" forward and anchors on the even
/// squares (h + w even): the anchors' parameters come from the entropy parameters of [0, side], the non-anchors' from
/// those of [context of the decoded anchors, side], the context a <see cref="CheckerboardMaskedConv2d"/>. Keys
/// <c>entropy_parameters</c>, <c>context_prediction</c> and <c>y</c> (a <see cref="GaussianConditionalLatentCodec"/>).
/// Coding packs each colour's latents to (C, h, w/2), the rows of that colour shifted left, and codes the anchors'
/// stream first.
/// </summary>
internal sealed class CheckerboardLatentCodec : nn.Module, ISpatialLatentCodec
{
    internal readonly Sequential entropy_parameters;
    internal readonly CheckerboardMaskedConv2d context_prediction;
    internal readonly GaussianConditionalLatentCodec y;

    public CheckerboardLatentCodec(Sequential entropyParameters, CheckerboardMaskedConv2d contextPrediction, GaussianConditionalLatentCodec y)
        : base(nameof(CheckerboardLatentCodec))
    {
        (entropy_parameters, context_prediction, this.y) = (entropyParameters, contextPrediction, y);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public int Streams => 2;

    private GaussianConditional conditional => y.gaussian_conditional;

    /// <summary>
    /// The two passes: the anchors' means from [0, side] give their ŷ = round_st(y − μ) + μ, whose context with
    /// [context, side] gives the non-anchors' parameters; ŷ is round_st(y − μ) + μ with each square's μ, and the
    /// likelihoods are the conditional's (its training quantizer) with each square's scales and means.
    /// </summary>
    public (Tensor yHat, Tensor likelihoods) Forward(Tensor latents, Tensor side)
    {
        Tensor anchor = Anchors(latents);
        Tensor first = entropy_parameters.call(cat(new[] { ZeroContext(side), side }, 1));
        Tensor anchors = where(anchor, SoftRoundOps.round_st(latents, y.Chunk(first).means), zeros_like(latents));
        Tensor second = entropy_parameters.call(cat(new[] { context_prediction.call(anchors), side }, 1));
        (Tensor scales, Tensor means) = y.Chunk(where(anchor, first, second));
        (_, Tensor likelihoods) = conditional.forward(latents, scales, means);
        return (SoftRoundOps.round_st(latents, means), likelihoods);
    }

    /// <inheritdoc/>
    public (byte[][][] strings, Tensor yHat) Compress(string owner, Tensor latents, Tensor side, RansStreamLayout layout)
    {
        var network = new Float64Network(owner, entropy_parameters);
        Tensor anchorSide = Unembed(side, 0);
        (Tensor scales, Tensor means) = AnchorParameters(network, anchorSide);
        Tensor indexes = conditional.build_indexes(scales);
        byte[][] anchorStrings = conditional.compress(Unembed(latents, 0), indexes, means, layout);
        Tensor anchors = conditional.decompress(anchorStrings, indexes, means, layout);
        (scales, means) = OtherParameters(network, Unembed(side, 1), anchors);
        indexes = conditional.build_indexes(scales);
        byte[][] otherStrings = conditional.compress(Unembed(latents, 1), indexes, means, layout);
        Tensor others = conditional.decompress(otherStrings, indexes, means, layout);
        return (new[] { anchorStrings, otherStrings }, Embed(anchors, others));
    }

    /// <inheritdoc/>
    public Tensor Decompress(string owner, byte[][][] strings, Tensor side, RansStreamLayout layout)
    {
        var network = new Float64Network(owner, entropy_parameters);
        (Tensor scales, Tensor means) = AnchorParameters(network, Unembed(side, 0));
        Tensor anchors = conditional.decompress(strings[0], conditional.build_indexes(scales), means, layout);
        (scales, means) = OtherParameters(network, Unembed(side, 1), anchors);
        Tensor others = conditional.decompress(strings[1], conditional.build_indexes(scales), means, layout);
        return Embed(anchors, others);
    }

    /// <summary>The anchors' scales and means in float64: the entropy parameters of [0, side].</summary>
    private (Tensor scales, Tensor means) AnchorParameters(Float64Network network, Tensor anchorSide)
    {
        return y.Chunk(network.call(cat(new[] { ZeroContext(anchorSide), anchorSide }, 1)));
    }

    /// <summary>The anchors' context: zeros of the context model's channels, in the side parameters' size, dtype and device.</summary>
    private Tensor ZeroContext(Tensor side) =>
        zeros(new[] { side.shape[0], context_prediction.weight.shape[0], side.shape[2], side.shape[3] }, side.dtype, side.device);

    /// <summary>The non-anchors' scales and means in float64: the entropy parameters of [context of the decoded anchors, side].</summary>
    private (Tensor scales, Tensor means) OtherParameters(Float64Network network, Tensor otherSide, Tensor anchors)
    {
        Tensor context = context_prediction.forward_float64(Embed(anchors, zeros_like(anchors)));
        return y.Chunk(network.call(cat(new[] { Unembed(context, 1), otherSide }, 1)));
    }

    /// <summary>The anchors, (1, 1, h, w) true where h + w is even.</summary>
    internal static Tensor Anchors(Tensor t)
    {
        long h = t.shape[2], w = t.shape[3];
        var even = new bool[h * w];
        for (long i = 0; i < even.Length; i++) even[i] = (i / w + i % w) % 2 == 0;
        return tensor(even, new long[] { 1, 1, h, w }).to(t.device);
    }

    /// <summary>
    /// One colour of a (B, C, h, w) tensor packed to (B, C, h, w/2): <paramref name="colour"/> 0 the anchors (columns
    /// 0, 2, … of the even rows, 1, 3, … of the odd ones), 1 the others. h and w are even.
    /// </summary>
    internal static Tensor Unembed(Tensor t, int colour)
    {
        long b = t.shape[0], c = t.shape[1], h = t.shape[2], w = t.shape[3];
        Tensor blocks = t.reshape(b, c, h / 2, 2, w / 2, 2);
        Tensor even = blocks.select(3, 0).select(4, colour), odd = blocks.select(3, 1).select(4, 1 - colour);
        return stack(new[] { even, odd }, 3).reshape(b, c, h, w / 2);
    }

    /// <summary>The inverse of <see cref="Unembed"/>: the anchors and the others, each (B, C, h, w/2), back to (B, C, h, w).</summary>
    internal static Tensor Embed(Tensor anchors, Tensor others)
    {
        long b = anchors.shape[0], c = anchors.shape[1], h = anchors.shape[2], half = anchors.shape[3];
        Tensor a = anchors.reshape(b, c, h / 2, 2, half), o = others.reshape(b, c, h / 2, 2, half);
        Tensor evenRows = stack(new[] { a.select(3, 0), o.select(3, 0) }, 4).reshape(b, c, h / 2, 2 * half);
        Tensor oddRows = stack(new[] { o.select(3, 1), a.select(3, 1) }, 4).reshape(b, c, h / 2, 2 * half);
        return stack(new[] { evenRows, oddRows }, 3).reshape(b, c, h, 2 * half);
    }
}
