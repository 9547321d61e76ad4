using System;
using SoftRound.Tf.Entropy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf.Compression;

/// <summary>
/// Cheng et al.'s anchor transforms with the checkerboard context model of He et al. 2021, "Checkerboard Context Model
/// for Efficient Learned Image Compression" (CompressAI's <c>Cheng2020AnchorCheckerboard</c>,
/// <c>cheng2020-anchor-checkerboard</c>). The latents are split like a checkerboard: the anchors, where h + w is even,
/// are coded first with the hyperprior alone (a zero context), then the non-anchors with the context a
/// <see cref="CheckerboardMaskedConv2d"/> (5×5, M → 2M) computes from the decoded anchors around them. The entropy
/// parameters (1×1 convolutions, mbt2018's) see [context, h_s(ẑ)]. Both halves are coded with tensor operations, two
/// passes in all, where mbt2018 and Cheng2020Anchor code position by position.
/// </summary>
/// <remarks>
/// <para>
/// As CompressAI (its "twopass" forward and "ste" quantizers): in the forward pass h_s gets ẑ = round_st(z − m) + m
/// around the bottleneck's medians m and g_s gets ŷ = round_st(y − μ) + μ (straight-through rounding), while the
/// likelihoods use the entropy models' training quantizer (uniform noise by default); the anchors' μ come from the
/// first pass, the non-anchors' from the second.
/// </para>
/// <para>
/// The streams are CompressAI's: ŷ's anchors, ŷ's non-anchors, then ẑ; each half is coded as a (M, h, w/2) tensor with
/// the rows of that colour packed left. The shape given is ẑ's, as for the other hyperprior models (CompressAI's
/// compress gives {"y": (M, h, w), "hyper": ẑ's}). Coding computes the context and the entropy parameters in float64
/// (see <see cref="CompressionModel.compress"/>). State-dict keys are CompressAI's, under <c>latent_codec.y</c> (the
/// context model, the entropy parameters and <c>y.gaussian_conditional</c>) and <c>latent_codec.hyper</c> (the
/// bottleneck, h_a, h_s). CompressAI's other choices (anchors on the odd squares, the "onepass" forward) are not ported.
/// </para>
/// </remarks>
public sealed class Cheng2020AnchorCheckerboard : CompressionModel
{
    private const int KernelSize = 5, Padding = 2;
    private readonly Sequential g_a, g_s;
    private readonly HyperpriorLatentCodec latent_codec;

    /// <summary>Creates the model with N channels throughout (CompressAI's default 192; M = N) and the training quantizer of both entropy models.</summary>
    /// <exception cref="ArgumentOutOfRangeException">N is below 1, or α is not finite and ≥ 0.</exception>
    public Cheng2020AnchorCheckerboard(int N = 192, QuantizationMode mode = QuantizationMode.UniformNoise, double alpha = 5.0)
        : base(nameof(Cheng2020AnchorCheckerboard), N, N)
    {
        var bottleneck = new EntropyBottleneck(N, mode, alpha);
        g_a = Cheng2020Anchor.Analysis(N);
        g_s = Cheng2020Anchor.Synthesis(N);
        latent_codec = new HyperpriorLatentCodec(
            new CheckerboardLatentCodec(
                JointAutoregressiveHierarchicalPriors.EntropyParameters(N),
                new CheckerboardMaskedConv2d(N, 2 * N, KernelSize, 1, Padding),
                new GaussianConditionalLatentCodec(new GaussianConditional(mode: mode, alpha: alpha))),
            new HyperLatentCodec(bottleneck, Cheng2020Anchor.HyperAnalysis(N), Cheng2020Anchor.HyperSynthesis(N)));
        RegisterComponents();
    }

    /// <summary>The entropy bottleneck of z (<c>latent_codec.hyper.entropy_bottleneck</c>).</summary>
    public EntropyBottleneck EntropyBottleneck => latent_codec.hyper.entropy_bottleneck;

    /// <summary>The Gaussian conditional of y (<c>latent_codec.y.y.gaussian_conditional</c>).</summary>
    public GaussianConditional GaussianConditional => latent_codec.y.y.gaussian_conditional;

    /// <summary>The context model (<c>latent_codec.y.context_prediction</c>).</summary>
    public CheckerboardMaskedConv2d ContextPrediction => latent_codec.y.context_prediction;

    /// <inheritdoc/>
    public override int downsampling_factor => 64;

    private Sequential h_a => latent_codec.hyper.h_a;

    private Sequential h_s => latent_codec.hyper.h_s;

    private Sequential entropy_parameters => latent_codec.y.entropy_parameters;

    /// <summary>x̂ = g_s(ŷ) and the likelihoods {"y", "z"}, as the class describes.</summary>
    public override CompressionOutput forward(Tensor x)
    {
        CheckImages(nameof(forward), x);
        using var scope = NewDisposeScope();
        Tensor y = g_a.call(x), z = h_a.call(y);
        (_, Tensor zLikelihoods) = EntropyBottleneck.forward(z);
        Tensor side = h_s.call(SoftRoundOps.round_st(z, EntropyBottleneck.medians.reshape(1, -1, 1, 1)));
        Tensor anchor = Anchors(y);
        // First pass: the anchors' parameters from the hyperprior alone; their ŷ is the second pass's context.
        Tensor first = entropy_parameters.call(cat(new[] { zeros_like(side), side }, 1));
        Tensor anchors = where(anchor, SoftRoundOps.round_st(y, first.chunk(2, 1)[1]), zeros_like(y));
        Tensor second = entropy_parameters.call(cat(new[] { ContextPrediction.call(anchors), side }, 1));
        Tensor[] parameters = where(anchor, first, second).chunk(2, 1);
        (_, Tensor yLikelihoods) = GaussianConditional.forward(y, parameters[0], parameters[1]);
        Tensor yHat = SoftRoundOps.round_st(y, parameters[1]);
        return Output(g_s.call(yHat), yHat, yLikelihoods, zLikelihoods);
    }

    /// <summary>The streams of ŷ's anchors, ŷ's non-anchors and ẑ, and ẑ's spatial size.</summary>
    public override CompressedData compress(Tensor x, RansStreamLayout layout = RansStreamLayout.SoftRound)
    {
        CheckImages(nameof(compress), x);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor y = g_a.call(x);
        (byte[][] zStrings, long[] shape, Tensor zHat) = CodeHyperLatent(EntropyBottleneck, h_a.call(y), layout);
        var coder = new CodingPasses(this, zHat);
        (byte[][] anchors, Tensor anchorsHat) = coder.Encode(Unembed(y, 0), coder.AnchorParameters(), layout);
        (byte[][] others, _) = coder.Encode(Unembed(y, 1), coder.NonAnchorParameters(anchorsHat), layout);
        return new CompressedData(new[] { anchors, others, zStrings }, shape);
    }

    /// <summary>ŷ from its streams: ẑ, then the anchors from h_s(ẑ), then the non-anchors from h_s(ẑ) and the anchors' context.</summary>
    public override Tensor decompress_latents(CompressedData data, RansStreamLayout layout = RansStreamLayout.SoftRound)
    {
        const string Member = nameof(decompress_latents);
        CheckData(Member, data, 3);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor zHat = EntropyBottleneck.decompress(data.strings[2], data.shape, layout);
        var coder = new CodingPasses(this, zHat);
        Tensor anchors = coder.Decode(data.strings[0], coder.AnchorParameters(), layout);
        Tensor others = coder.Decode(data.strings[1], coder.NonAnchorParameters(anchors), layout);
        return Embed(anchors, others).to(zHat.dtype).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public override Tensor synthesis(Tensor yHat) => g_s.call(yHat);

    /// <summary>
    /// The coder's two passes for one batch, in float64: the hyperprior's parameters h_s(ẑ) split by colour, the
    /// entropy parameters, and the context of the decoded anchors.
    /// </summary>
    private sealed class CodingPasses
    {
        private readonly Cheng2020AnchorCheckerboard model;
        private readonly Tensor anchorSide, otherSide;
        private readonly Float64Network entropyParameters;

        public CodingPasses(Cheng2020AnchorCheckerboard model, Tensor zHat)
        {
            this.model = model;
            Tensor side = new Float64Network(model.GetName(), model.h_s).call(zHat);
            (anchorSide, otherSide) = (Unembed(side, 0), Unembed(side, 1));
            entropyParameters = new Float64Network(model.GetName(), model.entropy_parameters);
        }

        /// <summary>The anchors' scales and means: the entropy parameters of [0, h_s(ẑ)].</summary>
        public Tensor[] AnchorParameters() => entropyParameters.call(cat(new[] { zeros_like(anchorSide), anchorSide }, 1)).chunk(2, 1);

        /// <summary>The non-anchors' scales and means: the entropy parameters of [context of the decoded anchors, h_s(ẑ)].</summary>
        public Tensor[] NonAnchorParameters(Tensor anchors)
        {
            Tensor context = model.ContextPrediction.forward_float64(Embed(anchors, zeros_like(anchors)));
            return entropyParameters.call(cat(new[] { Unembed(context, 1), otherSide }, 1)).chunk(2, 1);
        }

        /// <summary>The streams of one colour's latents and their ŷ as decoded.</summary>
        public (byte[][] strings, Tensor yHat) Encode(Tensor latents, Tensor[] parameters, RansStreamLayout layout)
        {
            GaussianConditional conditional = model.GaussianConditional;
            Tensor indexes = conditional.build_indexes(parameters[0]);
            byte[][] strings = conditional.compress(latents, indexes, parameters[1], layout);
            return (strings, conditional.decompress(strings, indexes, parameters[1], layout));
        }

        /// <summary>One colour's ŷ from its streams.</summary>
        public Tensor Decode(byte[][] strings, Tensor[] parameters, RansStreamLayout layout)
        {
            GaussianConditional conditional = model.GaussianConditional;
            return conditional.decompress(strings, conditional.build_indexes(parameters[0]), parameters[1], layout);
        }
    }

    /// <summary>The anchors, (1, 1, h, w) true where h + w is even.</summary>
    private static Tensor Anchors(Tensor y)
    {
        long h = y.shape[2], w = y.shape[3];
        var even = new bool[h * w];
        for (long i = 0; i < even.Length; i++) even[i] = (i / w + i % w) % 2 == 0;
        return tensor(even, new long[] { 1, 1, h, w }).to(y.device);
    }

    /// <summary>
    /// One colour of a (B, C, h, w) tensor packed to (B, C, h, w/2): <paramref name="colour"/> 0 the anchors (columns
    /// 0, 2, … of the even rows, 1, 3, … of the odd ones), 1 the others. h and w are even.
    /// </summary>
    private static Tensor Unembed(Tensor t, int colour)
    {
        long b = t.shape[0], c = t.shape[1], h = t.shape[2], w = t.shape[3];
        Tensor blocks = t.reshape(b, c, h / 2, 2, w / 2, 2);
        Tensor even = blocks.select(3, 0).select(4, colour), odd = blocks.select(3, 1).select(4, 1 - colour);
        return stack(new[] { even, odd }, 3).reshape(b, c, h, w / 2);
    }

    /// <summary>The inverse of <see cref="Unembed"/>: the anchors and the others, each (B, C, h, w/2), back to (B, C, h, w).</summary>
    private static Tensor Embed(Tensor anchors, Tensor others)
    {
        long b = anchors.shape[0], c = anchors.shape[1], h = anchors.shape[2], half = anchors.shape[3];
        Tensor a = anchors.reshape(b, c, h / 2, 2, half), o = others.reshape(b, c, h / 2, 2, half);
        Tensor evenRows = stack(new[] { a.select(3, 0), o.select(3, 0) }, 4).reshape(b, c, h / 2, 2 * half);
        Tensor oddRows = stack(new[] { o.select(3, 1), a.select(3, 1) }, 4).reshape(b, c, h / 2, 2 * half);
        return stack(new[] { evenRows, oddRows }, 3).reshape(b, c, h, 2 * half);
    }

    /// <summary>CompressAI's <c>HyperpriorLatentCodec</c> as far as the state dict goes: <c>y</c> and <c>hyper</c>.</summary>
    private sealed class HyperpriorLatentCodec : nn.Module
    {
        internal readonly CheckerboardLatentCodec y;
        internal readonly HyperLatentCodec hyper;

        public HyperpriorLatentCodec(CheckerboardLatentCodec y, HyperLatentCodec hyper) : base(nameof(HyperpriorLatentCodec))
        {
            (this.y, this.hyper) = (y, hyper);
            RegisterComponents();
        }
    }

    /// <summary>CompressAI's <c>CheckerboardLatentCodec</c> as far as the state dict goes.</summary>
    private sealed class CheckerboardLatentCodec : nn.Module
    {
        internal readonly Sequential entropy_parameters;
        internal readonly CheckerboardMaskedConv2d context_prediction;
        internal readonly GaussianConditionalLatentCodec y;

        public CheckerboardLatentCodec(Sequential entropyParameters, CheckerboardMaskedConv2d contextPrediction, GaussianConditionalLatentCodec y) : base(nameof(CheckerboardLatentCodec))
        {
            (entropy_parameters, context_prediction, this.y) = (entropyParameters, contextPrediction, y);
            RegisterComponents();
        }
    }

    /// <summary>CompressAI's <c>GaussianConditionalLatentCodec</c> as far as the state dict goes.</summary>
    private sealed class GaussianConditionalLatentCodec : nn.Module
    {
        internal readonly GaussianConditional gaussian_conditional;

        public GaussianConditionalLatentCodec(GaussianConditional conditional) : base(nameof(GaussianConditionalLatentCodec))
        {
            gaussian_conditional = conditional;
            RegisterComponents();
        }
    }

    /// <summary>CompressAI's <c>HyperLatentCodec</c> as far as the state dict goes.</summary>
    private sealed class HyperLatentCodec : nn.Module
    {
        internal readonly EntropyBottleneck entropy_bottleneck;
        internal readonly Sequential h_a, h_s;

        public HyperLatentCodec(EntropyBottleneck bottleneck, Sequential hA, Sequential hS) : base(nameof(HyperLatentCodec))
        {
            (entropy_bottleneck, h_a, h_s) = (bottleneck, hA, hS);
            RegisterComponents();
        }
    }
}
