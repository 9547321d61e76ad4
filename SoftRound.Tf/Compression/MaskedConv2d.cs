using System;
using SoftRound.Tf.Internals;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf.Compression;

/// <summary>
/// A 2-D convolution that sees only the positions before the centre in raster order (PixelCNN's mask; CompressAI's
/// <c>MaskedConv2d</c>): y = conv2d(x, W ⊙ mask, b), the mask 1 on the rows above the centre and on the centre row left
/// of the centre, and on the centre itself for mask type "B". The context model of mbt2018 uses type "A", so that a
/// latent's parameters depend only on latents already decoded.
/// </summary>
/// <remarks>
/// The weight and bias are named <c>weight</c> and <c>bias</c> and the mask is the buffer <c>mask</c>, as in
/// CompressAI. CompressAI multiplies the stored weight by the mask in place at every forward; here the stored weight is
/// left as it is and the product is formed per call, so the weight's masked entries never matter.
/// </remarks>
public class MaskedConv2d : nn.Module<Tensor, Tensor>
{
    private readonly long[] strides, paddings;

    /// <summary>Creates the layer.</summary>
    /// <param name="inChannels">Input channels, ≥ 1.</param>
    /// <param name="outChannels">Output channels, ≥ 1.</param>
    /// <param name="kernelSize">The square kernel's side: odd and ≥ 1.</param>
    /// <param name="stride">The stride, ≥ 1.</param>
    /// <param name="padding">The zero padding on each side, ≥ 0.</param>
    /// <param name="maskType">"A" (the centre masked) or "B" (the centre seen).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of its range (the message names it and the value).</exception>
    public MaskedConv2d(int inChannels, int outChannels, int kernelSize = 5, int stride = 1, int padding = 2, string maskType = "A")
        : this(nameof(MaskedConv2d), inChannels, outChannels, kernelSize, stride, padding, maskType, RasterMask)
    {
    }

    /// <summary>
    /// Creates a layer with another mask (<see cref="CheckerboardMaskedConv2d"/>): <paramref name="fill"/> sets the
    /// entries of the all-ones (out, in, k, k) mask the kernel may not see, given the mask type.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of its range (the message names it, the value and <paramref name="name"/>).</exception>
    protected MaskedConv2d(string name, int inChannels, int outChannels, int kernelSize, int stride, int padding, string maskType, Action<Tensor, string> fill)
        : base(name)
    {
        LayerGuard.CheckChannels(name, inChannels, outChannels);
        if (kernelSize < 1 || kernelSize % 2 == 0) throw new ArgumentOutOfRangeException(nameof(kernelSize), kernelSize, $"{name}: kernelSize must be odd and at least 1; got {kernelSize}.");
        LayerGuard.CheckFactor(name, nameof(stride), stride);
        if (padding < 0) throw new ArgumentOutOfRangeException(nameof(padding), padding, $"{name}: padding must be at least 0; got {padding}.");
        if (maskType is not ("A" or "B")) throw new ArgumentOutOfRangeException(nameof(maskType), maskType, $"{name}: maskType must be \"A\" or \"B\"; got \"{maskType}\".");
        this.maskType = maskType;
        // A Conv2d only for PyTorch's default initialisation of the weight and bias, which CompressAI's layer inherits.
        using Conv2d conv = nn.Conv2d(inChannels, outChannels, kernelSize);
        strides = new long[] { stride, stride };
        paddings = new long[] { padding, padding };
        Tensor m = ones(outChannels, inChannels, kernelSize, kernelSize);
        fill(m, maskType);
        register_parameter("weight", new Parameter(conv.weight!.detach().clone()));
        register_parameter("bias", new Parameter(conv.bias!.detach().clone()));
        register_buffer("mask", m);
    }

    /// <summary>PixelCNN's mask: the rows below the centre and the centre row right of the centre (and the centre for type A) are 0.</summary>
    private static void RasterMask(Tensor m, string maskType)
    {
        int c = (int)m.shape[2] / 2;
        m[.., .., c, (c + (maskType == "B" ? 1 : 0))..] = zeros(1);
        m[.., .., (c + 1).., ..] = zeros(1);
    }

    /// <summary>"A" or "B".</summary>
    public string maskType { get; }

    /// <summary>The stored weight, (out, in, k, k); the convolution uses weight ⊙ mask.</summary>
    public Parameter weight => get_parameter("weight")!;

    /// <summary>The bias, (out).</summary>
    public Parameter bias => get_parameter("bias")!;

    /// <summary>The mask, (out, in, k, k), 1 where the kernel may look.</summary>
    public Tensor mask => get_buffer("mask")!;

    /// <summary>The masked weight W ⊙ mask.</summary>
    public Tensor masked_weight() => weight * mask.to(weight.dtype);

    /// <summary>
    /// y = conv2d(x, W ⊙ mask, b) evaluated in float64 (x, the weight and the bias widened; no gradient): the context a
    /// coder and its decoder must compute alike on any machine (see <see cref="Float64Network"/>).
    /// </summary>
    internal Tensor forward_float64(Tensor x)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return nn.functional.conv2d(x.to(ScalarType.Float64), masked_weight().to(ScalarType.Float64), bias.to(ScalarType.Float64), strides: strides, padding: paddings).MoveToOuterDisposeScope();
    }

    /// <summary>y = conv2d(x, W ⊙ mask, b) with the layer's stride and padding.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return nn.functional.conv2d(x, masked_weight(), bias, strides: strides, padding: paddings).MoveToOuterDisposeScope();
    }
}
