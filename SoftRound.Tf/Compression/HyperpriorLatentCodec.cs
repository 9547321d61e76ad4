using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Compression;

/// <summary>
/// CompressAI's <c>HyperpriorLatentCodec</c>: a latent codec for y (key <c>y</c>) given the side parameters of a
/// <see cref="HyperLatentCodec"/> (key <c>hyper</c>); its streams are y's, then ẑ's.
/// </summary>
internal sealed class HyperpriorLatentCodec : nn.Module
{
    internal readonly ISpatialLatentCodec y;
    internal readonly HyperLatentCodec hyper;

    public HyperpriorLatentCodec(ISpatialLatentCodec y, HyperLatentCodec hyper) : base(nameof(HyperpriorLatentCodec))
    {
        (this.y, this.hyper) = (y, hyper);
        RegisterComponents();
    }
}
