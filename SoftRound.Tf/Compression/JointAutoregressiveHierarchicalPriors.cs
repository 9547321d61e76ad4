using System;
using SoftRound.Tf.Entropy;
using SoftRound.Tf.Internals;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf.Compression;

/// <summary>
/// The joint autoregressive and hierarchical priors of Minnen et al. 2018 (CompressAI's
/// <c>JointAutoregressiveHierarchicalPriors</c>, <c>mbt2018</c>): the hyperprior of <see cref="MeanScaleHyperprior"/>
/// (h_a with 5×5 stride-2 convolutions) joined with a context model, a <see cref="MaskedConv2d"/> (5×5, type A, M → 2M)
/// over the latents already decoded; 1×1 convolutions (<c>entropy_parameters</c>, 4M → 10M/3 → 8M/3 → 2M) turn both
/// into the scales and means of a <see cref="GaussianConditional"/>. Coding is sequential in raster order: each
/// position's tables depend on the positions before it, so compress and decompress code one position at a time with a
/// <see cref="BufferedRansEncoder"/> and an incremental <see cref="RansDecoder"/>.
/// </summary>
/// <remarks>
/// As in CompressAI, the forward pass feeds the context model with ŷ = quantize(y) without means (noise in training,
/// round(y) in eval) and prices round(y − μ) + μ, while coding uses ŷ = round(y − μ) + μ throughout; so the eval
/// forward's x̂ is not the decoded image's. <see cref="decompress_latents"/> equals, bit for bit, the ŷ that
/// <see cref="compress(Tensor, RansStreamLayout, out Tensor)"/> coded.
/// </remarks>
public class JointAutoregressiveHierarchicalPriors : CompressionModel
{
    private const int KernelSize = 5, Padding = 2;
    private readonly Sequential g_a, g_s, h_a, h_s, entropy_parameters;
    private readonly MaskedConv2d context_prediction;
    private readonly EntropyBottleneck entropy_bottleneck;
    private readonly GaussianConditional gaussian_conditional;

    /// <summary>Creates the model with N hidden and M latent channels (CompressAI's defaults 192, 192) and the training quantizer of both entropy models.</summary>
    /// <exception cref="ArgumentOutOfRangeException">N or M is below 1, or α is not finite and ≥ 0.</exception>
    public JointAutoregressiveHierarchicalPriors(int N = 192, int M = 192, QuantizationMode mode = QuantizationMode.UniformNoise, double alpha = 5.0)
        : this(nameof(JointAutoregressiveHierarchicalPriors), N, M, () => (
            Analysis(N, M),
            SynthesisTransform(N, M),
            nn.Sequential(conv(M, N, 3, 1), new KeptLeakyReLU(), conv(N, N), new KeptLeakyReLU(), conv(N, N)),
            nn.Sequential(deconv(N, M), new KeptLeakyReLU(), deconv(M, M * 3 / 2), new KeptLeakyReLU(), conv(M * 3 / 2, M * 2, 3, 1))), mode, alpha)
    {
    }

    /// <summary>
    /// Creates a variant with other transforms (CompressAI's subclasses, Cheng et al.'s models, replace <c>g_a</c>,
    /// <c>g_s</c>, <c>h_a</c> and <c>h_s</c>): <paramref name="transforms"/> builds them once N and M are checked. They must
    /// keep the shapes: g_a (B, 3, H, W) → (B, M, H/16, W/16), h_a → (B, N, H/64, W/64), h_s back to (B, 2M, H/16, W/16)
    /// (the scales, then the means), g_s to (B, 3, H, W); h_s, which coding evaluates in float64, may hold only
    /// zero-padded convolutions, layers without parameters and <see cref="Sequential"/>s of these. The context model
    /// and the entropy parameters are mbt2018's.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">N or M is below 1, or α is not finite and ≥ 0.</exception>
    protected JointAutoregressiveHierarchicalPriors(string name, int N, int M, Func<(Sequential g_a, Sequential g_s, Sequential h_a, Sequential h_s)> transforms, QuantizationMode mode, double alpha)
        : base(name, N, M)
    {
        entropy_bottleneck = new EntropyBottleneck(N, mode, alpha);
        (g_a, g_s, h_a, h_s) = transforms();
        entropy_parameters = EntropyParameters(M);
        context_prediction = new MaskedConv2d(M, 2 * M, KernelSize, 1, Padding);
        gaussian_conditional = new GaussianConditional(mode: mode, alpha: alpha);
        RegisterComponents();
    }

    /// <summary>
    /// mbt2018's <c>entropy_parameters</c>: 1×1 convolutions 4M → 10M/3 → 8M/3 → 2M with leaky ReLUs between them,
    /// from the hyperprior's 2M channels and the context model's 2M to the scales and the means (Cheng et al.'s models and
    /// the checkerboard model use it too).
    /// </summary>
    internal static Sequential EntropyParameters(int m) => nn.Sequential(
        nn.Conv2d(m * 12 / 3, m * 10 / 3, 1), new KeptLeakyReLU(),
        nn.Conv2d(m * 10 / 3, m * 8 / 3, 1), new KeptLeakyReLU(),
        nn.Conv2d(m * 8 / 3, m * 6 / 3, 1));

    /// <summary>The entropy bottleneck of z.</summary>
    public EntropyBottleneck EntropyBottleneck => entropy_bottleneck;

    /// <summary>The Gaussian conditional of y.</summary>
    public GaussianConditional GaussianConditional => gaussian_conditional;

    /// <summary>The context model.</summary>
    public MaskedConv2d ContextPrediction => context_prediction;

    /// <inheritdoc/>
    public override int downsampling_factor => 64;

    /// <summary>
    /// x̂ = g_s(ŷ) and the likelihoods {"y", "z"}, as the class describes; in training with the conditional's
    /// <see cref="GaussianConditional.x_hat_mode"/> set, g_s gets the conditional's ŷ in that mode (for <c>RoundSt</c>,
    /// round(y − μ) + μ as decoded) while the context model still sees quantize(y).
    /// </summary>
    public override CompressionOutput forward(Tensor x)
    {
        CheckImages(nameof(forward), x);
        using var scope = NewDisposeScope();
        (Tensor y, Tensor z) = Latents(x);
        return Forward(y, z);
    }

    /// <summary>
    /// The latents of a batch of images before quantization: y = g_a(x) (N, M, H/16, W/16) and z = h_a(y)
    /// (N, N, H/64, W/64). <see cref="forward_latents"/> and <see cref="compress_latents"/> take them, or latents an
    /// encoder has refined from them (<c>ImageCodec</c>'s <c>--refine</c>: the decoder is the same).
    /// </summary>
    /// <exception cref="ArgumentException">As <see cref="forward"/>.</exception>
    public (Tensor y, Tensor z) latents(Tensor x)
    {
        CheckImages(nameof(latents), x);
        return Latents(x);
    }

    /// <summary>
    /// <see cref="forward"/> from given latents (its x̂, ŷ and likelihoods {"y", "z"}); gradients reach
    /// <paramref name="y"/> and <paramref name="z"/>: forward_latents(latents(x)) is forward(x).
    /// </summary>
    /// <exception cref="ArgumentException">y is not a floating-point (B, M, h, w) tensor, or z not a (B, N, h/4, w/4) one of the same dtype.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An entry of y or z is not finite.</exception>
    public CompressionOutput forward_latents(Tensor y, Tensor z)
    {
        CheckLatents(nameof(forward_latents), y, z);
        using var scope = NewDisposeScope();
        return Forward(y, z);
    }

    private (Tensor y, Tensor z) Latents(Tensor x)
    {
        Tensor y = g_a.call(x);
        return (y, h_a.call(y));
    }

    private CompressionOutput Forward(Tensor y, Tensor z)
    {
        (Tensor zHat, Tensor zLikelihoods) = entropy_bottleneck.forward(z);
        Tensor parameters = h_s.call(zHat);
        Tensor yHat = gaussian_conditional.quantizer.forward(y);
        Tensor[] p = entropy_parameters.call(cat(new[] { parameters, context_prediction.call(yHat) }, 1)).chunk(2, 1);
        (Tensor decoded, Tensor yLikelihoods) = gaussian_conditional.forward(y, p[0], p[1]);
        // With x_hat_mode (training), the synthesis gets the conditional's ŷ in that mode, around the means.
        if (training && gaussian_conditional.x_hat_mode is not null) yHat = decoded;
        return Output(g_s.call(yHat), yHat, yLikelihoods, zLikelihoods);
    }

    /// <summary>The streams of ŷ (coded position by position) and ẑ, and ẑ's spatial size.</summary>
    public override CompressedData compress(Tensor x, RansStreamLayout layout = RansStreamLayout.SoftRound)
    {
        CompressedData data = compress(x, layout, out Tensor yHat);
        yHat.Dispose();
        return data;
    }

    /// <summary>As <see cref="compress(Tensor, RansStreamLayout)"/>, also giving the ŷ coded (N, M, H/16, W/16).</summary>
    public CompressedData compress(Tensor x, RansStreamLayout layout, out Tensor yHat)
    {
        CheckImages(nameof(compress), x);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        (Tensor y, Tensor z) = Latents(x);
        return Compress(nameof(compress), y, z, layout, out yHat);
    }

    /// <summary>
    /// <see cref="compress(Tensor, RansStreamLayout, out Tensor)"/> from given latents (<see cref="latents"/>, refined
    /// or not), also giving the ŷ coded: compress_latents(latents(x)) writes compress(x)'s bytes. The symbols are
    /// computed in float64 for float64 latents; ŷ, which the context model reads, is kept in the dtype the decoder
    /// keeps it in (ẑ's: the model's), so that float64 latents decode too.
    /// </summary>
    /// <exception cref="ArgumentException">As <see cref="forward_latents"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">As <see cref="forward_latents"/>.</exception>
    /// <exception cref="InvalidOperationException">There are no coding tables, or the parameters changed since <see cref="CompressionModel.update"/>.</exception>
    public CompressedData compress_latents(Tensor y, Tensor z, RansStreamLayout layout, out Tensor yHat)
    {
        CheckLatents(nameof(compress_latents), y, z);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return Compress(nameof(compress_latents), y, z, layout, out yHat);
    }

    private CompressedData Compress(string member, Tensor y, Tensor z, RansStreamLayout layout, out Tensor yHat)
    {
        (byte[][] zStrings, long[] shape, Tensor zHat) = CodeHyperLatent(entropy_bottleneck, z, layout);
        Tensor parameters = new Float64Network(GetName(), h_s).call(zHat);
        QuantizedCdf cdfs = gaussian_conditional.CurrentTables($"{GetName()}.{member}");
        var context = new ContextParameters($"{GetName()}.{member}", context_prediction, entropy_parameters);
        var yStrings = new byte[y.shape[0]][];
        var yHats = new Tensor[yStrings.Length];
        var encoder = new BufferedRansEncoder(layout);
        bool float64 = y.dtype == ScalarType.Float64;
        for (int i = 0; i < yStrings.Length; i++)
        {
            double[] latents = Positions(y[i]);
            yHats[i] = Raster(context, parameters[i], zHat.dtype, (position, indexes, means, symbols) =>
            {
                gaussian_conditional.quantizer.Symbols(latents.AsSpan(position * M, M), means, float64, symbols);
                encoder.encode_with_indexes(symbols, indexes, cdfs);
            });
            yStrings[i] = encoder.flush();
        }
        // Out of the caller's dispose scope: both callers return it.
        yHat = cat(yHats, 0).MoveToOuterDisposeScope();
        return new CompressedData(new[] { yStrings, zStrings }, shape);
    }

    /// <summary>ŷ from its streams: ẑ first, then ŷ position by position, each from the hyperprior and the positions before it.</summary>
    public override Tensor decompress_latents(CompressedData data, RansStreamLayout layout = RansStreamLayout.SoftRound)
    {
        const string Member = nameof(decompress_latents);
        CheckData(Member, data, 2);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor zHat = entropy_bottleneck.decompress(data.strings[1], data.shape, layout);
        Tensor parameters = new Float64Network(GetName(), h_s).call(zHat);
        QuantizedCdf cdfs = gaussian_conditional.CurrentTables($"{GetName()}.{Member}");
        var context = new ContextParameters($"{GetName()}.{Member}", context_prediction, entropy_parameters);
        var decoder = new RansDecoder(layout);
        var yHats = new Tensor[data.strings[0].Length];
        for (int i = 0; i < yHats.Length; i++)
        {
            decoder.set_stream(data.strings[0][i]);
            yHats[i] = Raster(context, parameters[i], zHat.dtype, (_, indexes, _, symbols) => decoder.decode_stream(indexes, cdfs, symbols));
            decoder.finish();
        }
        return cat(yHats, 0).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public override Tensor synthesis(Tensor yHat) => g_s.call(yHat);

    /// <summary>
    /// What <see cref="Raster"/> asks of the coder at position <paramref name="position"/> (raster index): the
    /// <paramref name="symbols"/> there (encoder: computes and codes them; decoder: decodes them), given the table
    /// <paramref name="indexes"/> and the <paramref name="means"/>.
    /// </summary>
    private delegate void Coder(int position, ReadOnlySpan<int> indexes, ReadOnlySpan<double> means, Span<int> symbols);

    /// <summary>
    /// ŷ (1, M, h, w) of one image, coded in raster order: at each position the context of the 5×5 window (positions
    /// coded before; zeros outside the latent), with the hyperprior's <paramref name="parameters"/> (2M, h, w) there,
    /// gives the scales and means (<see cref="ContextParameters"/>, float64 in a fixed order: a decoder on another
    /// machine must find the same); <paramref name="code"/> gives the symbols, and ŷ = symbols + means is kept in
    /// <paramref name="dtype"/> (its value as a tensor cast would round it): ẑ's, which the decoder has too.
    /// </summary>
    private Tensor Raster(ContextParameters context, Tensor parameters, ScalarType dtype, Coder code)
    {
        int height = (int)parameters.shape[1], width = (int)parameters.shape[2], channels = (int)parameters.shape[0];
        int planeWidth = width + 2 * Padding;
        double[] hyper = Positions(parameters);
        var plane = new double[(height + 2 * Padding) * planeWidth * M];
        var gaussian = new double[context.Outputs];
        var indexes = new int[M];
        var symbols = new int[M];
        Span<double> scales = gaussian.AsSpan(0, M), means = gaussian.AsSpan(M, M);
        GaussianConditional.ScaleIndexer index = gaussian_conditional.Float64Indexer();
        Func<double, double> keep = Keep(dtype);
        for (int h = 0; h < height; h++)
        {
            for (int w = 0; w < width; w++)
            {
                int position = h * width + w;
                context.Compute(plane, planeWidth, h, w, hyper.AsSpan(position * channels, channels), gaussian);
                index(scales, indexes);
                code(position, indexes, means, symbols);
                Span<double> centre = plane.AsSpan(((h + Padding) * planeWidth + w + Padding) * M, M);
                gaussian_conditional.quantizer.Dequantize(symbols, means, centre);
                for (int c = 0; c < M; c++) centre[c] = keep(centre[c]);
            }
        }
        using var scope = NewDisposeScope();
        Tensor padded = tensor(plane, new long[] { height + 2 * Padding, planeWidth, M }, ScalarType.Float64);
        return padded[Padding..^Padding, Padding..^Padding].permute(2, 0, 1).unsqueeze(0).to(dtype, parameters.device).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>A (C, h, w) tensor's values position by position: (h, w, C) in float64, read on the host.</summary>
    private static double[] Positions(Tensor t)
    {
        using var scope = NewDisposeScope();
        return t.detach().permute(1, 2, 0).to(ScalarType.Float64, CPU).contiguous().data<double>().ToArray();
    }

    /// <summary>
    /// A float64 value as a tensor of <paramref name="dtype"/> holds it (round to nearest, ties to even; float16 and
    /// bfloat16 through float32, as libtorch converts), widened back: ŷ as a latent of that dtype keeps it.
    /// </summary>
    internal static Func<double, double> Keep(ScalarType dtype) => dtype switch
    {
        ScalarType.Float64 => v => v,
        ScalarType.Float32 => v => (float)v,
        ScalarType.Float16 => v => (double)(Half)(float)v,
        ScalarType.BFloat16 => v => BFloat16((float)v),
        _ => throw new NotSupportedException($"{nameof(JointAutoregressiveHierarchicalPriors)}: latents of {dtype} cannot be coded; use a floating-point dtype."),
    };

    private static double BFloat16(float v)
    {
        uint bits = BitConverter.SingleToUInt32Bits(v);
        if (float.IsNaN(v)) return v;
        bits += 0x7FFFu + ((bits >> 16) & 1);
        return BitConverter.UInt32BitsToSingle(bits & 0xFFFF0000u);
    }

}
