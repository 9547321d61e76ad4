using System;
using System.Linq;
using SoftRound.Tf.Entropy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf.Compression;

/// <summary>
/// CompressAI's <c>SimpleVAECompressionModel</c> with a hyperprior latent codec: y = g_a(x), ẑ and the side
/// parameters from the hyper branch (<c>latent_codec.hyper</c>: h_a, the entropy bottleneck, h_s), ŷ from y's latent
/// codec (<c>latent_codec.y</c>) given them, x̂ = g_s(ŷ). The base of <see cref="Cheng2020AnchorCheckerboard"/>,
/// <see cref="Elic2022Official"/> and <see cref="Elic2022Chandelier"/>; the state-dict keys are CompressAI's.
/// </summary>
/// <remarks>
/// As CompressAI's latent codecs with their "ste" quantizers: in the forward pass h_s gets ẑ = round_st(z − m) + m
/// around the bottleneck's medians and g_s gets ŷ rounded straight through around its means, while the likelihoods use
/// the entropy models' training quantizer (uniform noise by default). The streams are y's codec's (in its order), then
/// ẑ's; the shape given is ẑ's, as for the other hyperprior models (CompressAI's compress gives its latent codecs'
/// shapes by name). Coding computes the side parameters, the contexts and the entropy parameters in float64 (see
/// <see cref="CompressionModel.compress"/>). The latent codecs are internal for now, so the class is not open to
/// subclasses outside the library; docs/ENTROPY.md describes the streams.
/// </remarks>
public abstract class SimpleVAECompressionModel : CompressionModel
{
    private readonly Sequential g_a, g_s;
    private readonly HyperpriorLatentCodec latent_codec;

    private protected SimpleVAECompressionModel(string name, int N, int M, Func<(Sequential g_a, Sequential g_s, HyperpriorLatentCodec latentCodec)> build)
        : base(name, N, M)
    {
        (g_a, g_s, latent_codec) = build();
        RegisterComponents();
    }

    /// <summary>The entropy bottleneck of z (<c>latent_codec.hyper.entropy_bottleneck</c>).</summary>
    public EntropyBottleneck EntropyBottleneck => latent_codec.hyper.entropy_bottleneck;

    /// <inheritdoc/>
    public override int downsampling_factor => 64;

    /// <summary>y's latent codec.</summary>
    private protected ISpatialLatentCodec LatentCodecY => latent_codec.y;

    /// <summary>x̂ = g_s(ŷ) and the likelihoods {"y", "z"}, as the class describes.</summary>
    public override CompressionOutput forward(Tensor x)
    {
        CheckImages(nameof(forward), x);
        using var scope = NewDisposeScope();
        Tensor y = g_a.call(x);
        (Tensor side, Tensor zLikelihoods) = latent_codec.hyper.Forward(y);
        (Tensor yHat, Tensor yLikelihoods) = latent_codec.y.Forward(y, side);
        return Output(g_s.call(yHat), yHat, yLikelihoods, zLikelihoods);
    }

    /// <summary>The streams of ŷ (its latent codec's, in their order) and of ẑ, and ẑ's spatial size.</summary>
    public override CompressedData compress(Tensor x, RansStreamLayout layout = RansStreamLayout.SoftRound)
    {
        CheckImages(nameof(compress), x);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        string owner = $"{GetName()}.{nameof(compress)}";
        Tensor y = g_a.call(x);
        (byte[][] zStrings, long[] shape, Tensor side) = latent_codec.hyper.Compress(owner, y, layout);
        (byte[][][] yStrings, _) = latent_codec.y.Compress(owner, y, side, layout);
        return new CompressedData(yStrings.Append(zStrings).ToArray(), shape);
    }

    /// <summary>ŷ from its streams: ẑ first, then y's latent codec from the side parameters h_s(ẑ).</summary>
    public override Tensor decompress_latents(CompressedData data, RansStreamLayout layout = RansStreamLayout.SoftRound)
    {
        const string Member = nameof(decompress_latents);
        int streams = latent_codec.y.Streams;
        CheckData(Member, data, streams + 1);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        string owner = $"{GetName()}.{Member}";
        (Tensor side, ScalarType dtype) = latent_codec.hyper.Decompress(owner, data.strings[streams], data.shape, layout);
        return latent_codec.y.Decompress(owner, data.strings.Take(streams).ToArray(), side, layout).to(dtype).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public override Tensor synthesis(Tensor yHat) => g_s.call(yHat);
}
