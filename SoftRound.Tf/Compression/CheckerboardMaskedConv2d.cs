using System;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Compression;

/// <summary>
/// A 2-D convolution that sees only the other colour of a checkerboard (He et al. 2021; CompressAI's
/// <c>CheckerboardMaskedConv2d</c>): y = conv2d(x, W ⊙ mask, b) with the mask 1 where the kernel offset (i, j) has
/// i + j odd (for an odd kernel, the positions of the other colour than the centre's) and at the centre for mask type
/// "B". With type "A", the context model of a checkerboard coder: the non-anchors' parameters depend only on the
/// anchors around them.
/// </summary>
/// <remarks>Weight, bias and mask are named as in <see cref="MaskedConv2d"/> and CompressAI.</remarks>
public sealed class CheckerboardMaskedConv2d : MaskedConv2d
{
    /// <summary>Creates the layer.</summary>
    /// <param name="inChannels">Input channels, ≥ 1.</param>
    /// <param name="outChannels">Output channels, ≥ 1.</param>
    /// <param name="kernelSize">The square kernel's side: odd and ≥ 1.</param>
    /// <param name="stride">The stride, ≥ 1.</param>
    /// <param name="padding">The zero padding on each side, ≥ 0.</param>
    /// <param name="maskType">"A" (the centre masked) or "B" (the centre seen).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of its range (the message names it and the value).</exception>
    public CheckerboardMaskedConv2d(int inChannels, int outChannels, int kernelSize = 5, int stride = 1, int padding = 2, string maskType = "A")
        : base(nameof(CheckerboardMaskedConv2d), inChannels, outChannels, kernelSize, stride, padding, maskType, CheckerboardMask)
    {
    }

    /// <summary>0 at the offsets (i, j) with i + j even, then the centre 1 for type B.</summary>
    private static void CheckerboardMask(Tensor m, string maskType)
    {
        int k = (int)m.shape[2], c = k / 2;
        for (int i = 0; i < k; i++)
        {
            for (int j = i % 2; j < k; j += 2) m[.., .., i, j] = zeros(1);
        }
        if (maskType == "B") m[.., .., c, c] = ones(1);
    }
}
