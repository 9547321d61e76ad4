using SoftRound.Tf.Entropy;
using static TorchSharp.torch;

namespace SoftRound.Tf.Compression;

/// <summary>
/// What a latent codec for y given side parameters does (CompressAI's <c>LatentCodec</c> with <c>forward(y, params)</c>,
/// <c>compress(y, params)</c>, <c>decompress(strings, shape, params)</c>): the checkerboard and the channel groups.
/// </summary>
internal interface ISpatialLatentCodec
{
    /// <summary>How many streams it writes per image.</summary>
    int Streams { get; }

    /// <summary>The forward pass: ŷ for the synthesis (straight-through rounded) and y's likelihoods.</summary>
    (Tensor yHat, Tensor likelihoods) Forward(Tensor y, Tensor side);

    /// <summary>The streams of y given the float64 side parameters, and ŷ as decoded (float64).</summary>
    (byte[][][] strings, Tensor yHat) Compress(string owner, Tensor y, Tensor side, RansStreamLayout layout);

    /// <summary>ŷ (float64) from its streams and the float64 side parameters.</summary>
    Tensor Decompress(string owner, byte[][][] strings, Tensor side, RansStreamLayout layout);
}
