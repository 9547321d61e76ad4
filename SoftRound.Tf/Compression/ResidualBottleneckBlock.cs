using System;
using SoftRound.Tf.Internals;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static SoftRound.Tf.Internals.KeptScalars;
using static SoftRound.Tf.Compression.Layers;

namespace SoftRound.Tf.Compression;

/// <summary>
/// CompressAI's <c>ResidualBottleneckBlock</c> (He et al. 2016; ELIC's transforms): y = conv3(relu(conv2(relu(conv1(x)))))
/// + skip(x), conv1 a 1×1 convolution to min(in, out)/2 channels, conv2 a 3×3 one, conv3 a 1×1 one to the output
/// channels, skip a 1×1 convolution when the channel counts differ and the identity otherwise. The size is kept.
/// Children are named <c>conv1</c>, <c>relu1</c>, <c>conv2</c>, <c>relu2</c>, <c>conv3</c> and <c>skip</c>, as in CompressAI.
/// </summary>
public sealed class ResidualBottleneckBlock : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1, conv2, conv3;
    private readonly Conv2d? skip;
    private readonly ReLU relu1 = nn.ReLU(), relu2 = nn.ReLU();

    /// <summary>Creates the block.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A channel count is below 2 (the middle has min(in, out)/2 channels).</exception>
    public ResidualBottleneckBlock(int inChannels, int outChannels) : base(nameof(ResidualBottleneckBlock))
    {
        if (inChannels < 2) throw new ArgumentOutOfRangeException(nameof(inChannels), inChannels, $"{nameof(ResidualBottleneckBlock)}: inChannels must be at least 2; got {inChannels}.");
        if (outChannels < 2) throw new ArgumentOutOfRangeException(nameof(outChannels), outChannels, $"{nameof(ResidualBottleneckBlock)}: outChannels must be at least 2; got {outChannels}.");
        this.inChannels = inChannels;
        int middle = Math.Min(inChannels, outChannels) / 2;
        conv1 = conv1x1(inChannels, middle);
        conv2 = conv3x3(middle, middle);
        conv3 = conv1x1(middle, outChannels);
        skip = inChannels != outChannels ? conv1x1(inChannels, outChannels) : null;
        RegisterComponents();
    }

    /// <summary>The input channels.</summary>
    public int inChannels { get; }

    /// <summary>y = conv3(relu(conv2(relu(conv1(x))))) + skip(x).</summary>
    /// <exception cref="ArgumentException">x is not a floating-point (N, inChannels, H, W) tensor.</exception>
    public override Tensor forward(Tensor x)
    {
        OpGuard.Images($"{nameof(ResidualBottleneckBlock)}.{nameof(forward)}", nameof(x), x, inChannels);
        using var scope = NewDisposeScope();
        Tensor y = conv3.call(relu2.call(conv2.call(relu1.call(conv1.call(x)))));
        return y.add_(skip is null ? x : skip.call(x), One).MoveToOuterDisposeScope();
    }
}
