using SoftRound.Tf.Entropy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf.Compression;

/// <summary>
/// CompressAI's <c>HyperLatentCodec</c> with its "ste" quantizer: z = h_a(y), priced by the entropy bottleneck, and the
/// side parameters h_s(ẑ) with ẑ = round_st(z − m) + m around the bottleneck's medians m. Keys <c>entropy_bottleneck</c>,
/// <c>h_a</c>, <c>h_s</c>.
/// </summary>
internal sealed class HyperLatentCodec : nn.Module
{
    internal readonly EntropyBottleneck entropy_bottleneck;
    internal readonly Sequential h_a, h_s;

    public HyperLatentCodec(EntropyBottleneck bottleneck, Sequential hA, Sequential hS) : base(nameof(HyperLatentCodec))
    {
        (entropy_bottleneck, h_a, h_s) = (bottleneck, hA, hS);
        RegisterComponents();
    }

    /// <summary>The forward pass: the side parameters h_s(ẑ) and z's likelihoods (the bottleneck's training quantizer).</summary>
    public (Tensor side, Tensor likelihoods) Forward(Tensor y)
    {
        Tensor z = h_a.call(y);
        (_, Tensor likelihoods) = entropy_bottleneck.forward(z);
        return (h_s.call(SoftRoundOps.round_st(z, entropy_bottleneck.medians.reshape(1, -1, 1, 1))), likelihoods);
    }

    /// <summary>ẑ's streams and spatial size, and the side parameters h_s(ẑ) of the decoded ẑ, in float64 (as a decoder computes them).</summary>
    public (byte[][] strings, long[] shape, Tensor side) Compress(string owner, Tensor y, RansStreamLayout layout)
    {
        (byte[][] strings, long[] shape, Tensor zHat) = CompressionModel.CodeHyperLatent(entropy_bottleneck, h_a.call(y), layout);
        return (strings, shape, Side(owner, zHat));
    }

    /// <summary>The side parameters, in float64, from ẑ's streams; ẑ's dtype is the model's.</summary>
    public (Tensor side, ScalarType dtype) Decompress(string owner, byte[][] strings, long[] shape, RansStreamLayout layout)
    {
        Tensor zHat = entropy_bottleneck.decompress(strings, shape, layout);
        return (Side(owner, zHat), zHat.dtype);
    }

    private Tensor Side(string owner, Tensor zHat) => new Float64Network(owner, h_s).call(zHat);
}
