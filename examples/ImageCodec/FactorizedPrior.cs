using System;
using SoftRound.Tf;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Entropy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ImageCodec;

/// <summary>
/// The factorized-prior image codec of Ballé et al. 2018 (CompressAI's <c>bmshj2018-factorized</c>): an analysis
/// transform g_a of four 5×5 stride-2 convolutions with GDN between them, y = g_a(x) with M channels at 1/16 of the
/// resolution; an <see cref="EntropyBottleneck"/> that quantizes and prices y; and the mirrored synthesis transform
/// g_s of transposed convolutions with IGDN. Images are (N, 3, H, W) in [0, 1] with H and W multiples of 16.
/// </summary>
public sealed class FactorizedPrior : Module<Tensor, (Tensor xHat, Tensor likelihoods)>
{
    private readonly Sequential g_a, g_s;
    private readonly EntropyBottleneck entropy_bottleneck;

    /// <summary>Creates the codec with N hidden and M latent channels and the bottleneck's training quantizer.</summary>
    public FactorizedPrior(int n, int m, QuantizationMode mode, double alpha = 5.0) : base(nameof(FactorizedPrior))
    {
        if (n < 1 || m < 1) throw new ArgumentOutOfRangeException(n < 1 ? nameof(n) : nameof(m), $"{nameof(FactorizedPrior)}: channel counts must be at least 1; got N = {n}, M = {m}.");
        N = n;
        M = m;
        g_a = Sequential(
            Conv(3, n), new GDN(n),
            Conv(n, n), new GDN(n),
            Conv(n, n), new GDN(n),
            Conv(n, m));
        g_s = Sequential(
            Deconv(m, n), new GDN(n, inverse: true),
            Deconv(n, n), new GDN(n, inverse: true),
            Deconv(n, n), new GDN(n, inverse: true),
            Deconv(n, 3));
        entropy_bottleneck = new EntropyBottleneck(m, mode, alpha);
        RegisterComponents();
    }

    /// <summary>Hidden channels.</summary>
    public int N { get; }

    /// <summary>Latent channels.</summary>
    public int M { get; }

    /// <summary>The entropy bottleneck (its quantizer, aux loss, tables and coding).</summary>
    public EntropyBottleneck Bottleneck => entropy_bottleneck;

    /// <summary>The downsampling factor of g_a: 16.</summary>
    public const int Stride = 16;

    /// <summary>(x̂, likelihoods of ŷ): x̂ = g_s(ŷ), (ŷ, p) = bottleneck(g_a(x)).</summary>
    public override (Tensor xHat, Tensor likelihoods) forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor y = g_a.call(x);
        (Tensor yHat, Tensor likelihoods) = entropy_bottleneck.forward(y);
        Tensor xHat = g_s.call(yHat);
        return (xHat.MoveToOuterDisposeScope(), likelihoods.MoveToOuterDisposeScope());
    }

    /// <summary>The latent y = g_a(x).</summary>
    public Tensor Analysis(Tensor x) => g_a.call(x);

    /// <summary>The reconstruction g_s(ŷ).</summary>
    public Tensor Synthesis(Tensor yHat) => g_s.call(yHat);

    private static Conv2d Conv(int input, int output) => Conv2d(input, output, 5, stride: 2, padding: 2);

    private static ConvTranspose2d Deconv(int input, int output) => ConvTranspose2d(input, output, 5, stride: 2, padding: 2, output_padding: 1);
}
