using System;
using SoftRound.Tf.Entropy;
using SoftRound.Tf.Internals;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf.Compression;

/// <summary>
/// The mean-scale hyperprior of Minnen et al. 2018 (CompressAI's <c>MeanScaleHyperprior</c>, <c>mbt2018-mean</c>): as
/// <see cref="ScaleHyperprior"/>, but z = h_a(y) with leaky ReLUs, and h_s ends in a plain 3×3 convolution to 2M
/// channels that give the scales and the means of a <see cref="GaussianConditional"/>: ŷ = round(y − μ) + μ in eval.
/// The scales may come out ≤ 0; the conditional bounds them at 0.11 with CompressAI's gradient rule. Coding computes
/// h_s(ẑ) in float64 (see <see cref="CompressionModel.compress"/>), so the decoded ŷ is the eval forward's to the
/// float32 rounding of the means, with the same symbols but where a latent lies within that rounding of a bin's edge.
/// </summary>
public sealed class MeanScaleHyperprior : CompressionModel
{
    private readonly Sequential g_a, g_s, h_a, h_s;
    private readonly EntropyBottleneck entropy_bottleneck;
    private readonly GaussianConditional gaussian_conditional;

    /// <summary>Creates the model with N hidden and M latent channels and the training quantizer of both entropy models.</summary>
    /// <exception cref="System.ArgumentOutOfRangeException">N or M is below 1, or α is not finite and ≥ 0.</exception>
    public MeanScaleHyperprior(int N, int M, QuantizationMode mode = QuantizationMode.UniformNoise, double alpha = 5.0)
        : base(nameof(MeanScaleHyperprior), N, M)
    {
        entropy_bottleneck = new EntropyBottleneck(N, mode, alpha);
        g_a = Analysis(N, M);
        g_s = SynthesisTransform(N, M);
        h_a = nn.Sequential(conv(M, N, 3, 1), new KeptLeakyReLU(), conv(N, N), new KeptLeakyReLU(), conv(N, N));
        h_s = nn.Sequential(deconv(N, M), new KeptLeakyReLU(), deconv(M, M * 3 / 2), new KeptLeakyReLU(), conv(M * 3 / 2, M * 2, 3, 1));
        gaussian_conditional = new GaussianConditional(mode: mode, alpha: alpha);
        RegisterComponents();
    }

    /// <summary>The entropy bottleneck of z.</summary>
    public EntropyBottleneck EntropyBottleneck => entropy_bottleneck;

    /// <summary>The Gaussian conditional of y.</summary>
    public GaussianConditional GaussianConditional => gaussian_conditional;

    /// <inheritdoc/>
    public override int downsampling_factor => 64;

    /// <summary>x̂ = g_s(ŷ) and the likelihoods {"y", "z"}.</summary>
    public override CompressionOutput forward(Tensor x) => forward(x, null);

    /// <summary>
    /// x̂ = g_s(ŷ) and the likelihoods {"y", "z"}, with ŷ on a grid of step Δ = <paramref name="stepSize"/> per latent
    /// channel (a variable-rate model: a larger Δ, fewer bits): ŷ = Δ·Q((y − μ)/Δ) + μ and p(ŷ) = Φ((ŷ − μ + Δ/2)/σ) −
    /// Φ((ŷ − μ − Δ/2)/σ), computed as the conditional on y/Δ with means μ/Δ and scales σ/Δ (so σ/Δ is what the scale
    /// bound and the scale table see). Δ may carry a gradient (learned steps); null is Δ = 1, exactly <see cref="forward(Tensor)"/>.
    /// </summary>
    /// <exception cref="ArgumentException">x is not a valid image batch, or <paramref name="stepSize"/> is not floating point or does not broadcast to (1, M, 1, 1).</exception>
    /// <exception cref="ArgumentOutOfRangeException">An entry of <paramref name="stepSize"/> is not finite and &gt; 0.</exception>
    public CompressionOutput forward(Tensor x, Tensor? stepSize)
    {
        CheckImages(nameof(forward), x);
        CheckStepSize(nameof(forward), stepSize);
        using var scope = NewDisposeScope();
        (Tensor y, Tensor z) = Latents(x);
        return Forward(y, z, stepSize);
    }

    /// <summary>
    /// The latents of a batch of images before quantization: y = g_a(x) (N, M, H/16, W/16) and z = h_a(y)
    /// (N, N, H/64, W/64). <see cref="forward_latents"/> and <see cref="compress_latents"/> take them, or latents an
    /// encoder has refined from them (<c>ImageCodec</c>'s <c>--refine</c>: the decoder is the same).
    /// </summary>
    /// <exception cref="ArgumentException">As <see cref="forward(Tensor)"/>.</exception>
    public (Tensor y, Tensor z) latents(Tensor x)
    {
        CheckImages(nameof(latents), x);
        return Latents(x);
    }

    /// <summary>
    /// <see cref="forward(Tensor, Tensor?)"/> from given latents: ẑ and ŷ by the entropy models (their training
    /// quantizers in training mode, rounding in eval mode), x̂ = g_s(ŷ), and the likelihoods {"y", "z"}. Gradients reach
    /// <paramref name="y"/> and <paramref name="z"/>: forward_latents(latents(x)) is forward(x).
    /// </summary>
    /// <exception cref="ArgumentException">y is not a floating-point (B, M, h, w) tensor, or z not a (B, N, h/4, w/4) one of the same dtype; <paramref name="stepSize"/> as in <see cref="forward(Tensor, Tensor?)"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An entry of <paramref name="stepSize"/> is not finite and &gt; 0, or of y or z not finite.</exception>
    public CompressionOutput forward_latents(Tensor y, Tensor z, Tensor? stepSize = null)
    {
        CheckLatents(nameof(forward_latents), y, z);
        CheckStepSize(nameof(forward_latents), stepSize);
        using var scope = NewDisposeScope();
        return Forward(y, z, stepSize);
    }

    private (Tensor y, Tensor z) Latents(Tensor x)
    {
        Tensor y = g_a.call(x);
        return (y, h_a.call(y));
    }

    private CompressionOutput Forward(Tensor y, Tensor z, Tensor? stepSize)
    {
        (Tensor zHat, Tensor zLikelihoods) = entropy_bottleneck.forward(z);
        (Tensor scales, Tensor means) = Parameters(h_s.call(zHat), stepSize);
        (Tensor onGrid, Tensor yLikelihoods) = gaussian_conditional.forward(stepSize is null ? y : y / stepSize, scales, means);
        Tensor yHat = stepSize is null ? onGrid : onGrid * stepSize;
        return Output(g_s.call(yHat), yHat, yLikelihoods, zLikelihoods);
    }

    /// <summary>The streams of ŷ and ẑ, and ẑ's spatial size.</summary>
    public override CompressedData compress(Tensor x, RansStreamLayout layout = RansStreamLayout.SoftRound) => compress(x, null, layout);

    /// <summary>The streams of ŷ, coded on the grid of step <paramref name="stepSize"/> (as <see cref="forward(Tensor, Tensor?)"/>), and of ẑ, and ẑ's spatial size.</summary>
    /// <exception cref="ArgumentException">As <see cref="forward(Tensor, Tensor?)"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">As <see cref="forward(Tensor, Tensor?)"/>.</exception>
    /// <exception cref="InvalidOperationException">There are no coding tables, or the parameters changed since <see cref="CompressionModel.update"/>.</exception>
    public CompressedData compress(Tensor x, Tensor? stepSize, RansStreamLayout layout = RansStreamLayout.SoftRound)
    {
        CheckImages(nameof(compress), x);
        CheckStepSize(nameof(compress), stepSize);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        (Tensor y, Tensor z) = Latents(x);
        return Compress(y, z, stepSize, layout);
    }

    /// <summary>
    /// <see cref="compress(Tensor, Tensor?, RansStreamLayout)"/> from given latents (<see cref="latents"/>, refined or
    /// not): ẑ = round(z − median) + median coded, then ŷ = round(y − μ) + μ with the scales and means h_s(ẑ) gives.
    /// compress_latents(latents(x)) writes the bytes compress(x) writes; <see cref="CompressionModel.decompress"/> reads both.
    /// </summary>
    /// <exception cref="ArgumentException">As <see cref="forward_latents"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">As <see cref="forward_latents"/>.</exception>
    /// <exception cref="InvalidOperationException">There are no coding tables, or the parameters changed since <see cref="CompressionModel.update"/>.</exception>
    public CompressedData compress_latents(Tensor y, Tensor z, Tensor? stepSize = null, RansStreamLayout layout = RansStreamLayout.SoftRound)
    {
        CheckLatents(nameof(compress_latents), y, z);
        CheckStepSize(nameof(compress_latents), stepSize);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return Compress(y, z, stepSize, layout);
    }

    private CompressedData Compress(Tensor y, Tensor z, Tensor? stepSize, RansStreamLayout layout)
    {
        (byte[][] zStrings, long[] shape, Tensor zHat) = CodeHyperLatent(entropy_bottleneck, z, layout);
        (Tensor scales, Tensor means) = CodingParameters(zHat, stepSize);
        Tensor indexes = gaussian_conditional.build_indexes(scales);
        Tensor latent = stepSize is null ? y : y / stepSize;
        return new CompressedData(new[] { gaussian_conditional.compress(latent, indexes, means, layout), zStrings }, shape);
    }

    /// <summary>ŷ from its streams: ẑ first, then h_s(ẑ) gives ŷ's tables and means.</summary>
    public override Tensor decompress_latents(CompressedData data, RansStreamLayout layout = RansStreamLayout.SoftRound) => decompress_latents(data, null, layout);

    /// <summary>ŷ from streams that <see cref="compress(Tensor, Tensor?, RansStreamLayout)"/> wrote with the same <paramref name="stepSize"/>.</summary>
    /// <exception cref="ArgumentException">The data does not have two stream lists, or <paramref name="stepSize"/> is not floating point or does not broadcast to (1, M, 1, 1).</exception>
    /// <exception cref="ArgumentOutOfRangeException">An entry of <paramref name="stepSize"/> is not finite and &gt; 0.</exception>
    /// <exception cref="InvalidOperationException">There are no coding tables, or the parameters changed since <see cref="CompressionModel.update"/>.</exception>
    /// <exception cref="System.IO.InvalidDataException">A stream is damaged.</exception>
    public Tensor decompress_latents(CompressedData data, Tensor? stepSize, RansStreamLayout layout = RansStreamLayout.SoftRound)
    {
        CheckData(nameof(decompress_latents), data, 2);
        CheckStepSize(nameof(decompress_latents), stepSize);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor zHat = entropy_bottleneck.decompress(data.strings[1], data.shape, layout);
        (Tensor scales, Tensor means) = CodingParameters(zHat, stepSize);
        Tensor indexes = gaussian_conditional.build_indexes(scales);
        Tensor yHat = gaussian_conditional.decompress(data.strings[0], indexes, means, layout);
        return (stepSize is null ? yHat : yHat * stepSize).to(zHat.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>The scales and means the coder uses: h_s(ẑ) in float64, so that a decoder on another machine picks the same tables.</summary>
    private (Tensor Scales, Tensor Means) CodingParameters(Tensor zHat, Tensor? stepSize) => Parameters(new Float64Network(GetName(), h_s).call(zHat), stepSize);

    /// <summary>The scales and means of h_s's output <paramref name="hs"/>, on the grid of step Δ: σ/Δ and μ/Δ.</summary>
    private static (Tensor Scales, Tensor Means) Parameters(Tensor hs, Tensor? stepSize)
    {
        Tensor[] p = hs.chunk(2, 1);
        return stepSize is null ? (p[0], p[1]) : (p[0] / stepSize, p[1] / stepSize);
    }

    private void CheckStepSize(string member, Tensor? stepSize)
    {
        if (stepSize is null) return;
        string op = $"{GetName()}.{member}";
        using Tensor channels = empty(1, M, 1, 1);
        OpGuard.BroadcastsTo(op, nameof(stepSize), stepSize, channels, "a latent channel vector");
        OpGuard.Positive(op, nameof(stepSize), stepSize, channels);
    }

    /// <inheritdoc/>
    public override Tensor synthesis(Tensor yHat) => g_s.call(yHat);
}
