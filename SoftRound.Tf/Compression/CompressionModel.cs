using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using SoftRound.Tf.Entropy;
using SoftRound.Tf.Internals;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static SoftRound.Tf.Internals.KeptScalars;

namespace SoftRound.Tf.Compression;

/// <summary>
/// What every learned image codec here shares (CompressAI's <c>CompressionModel</c>): the auxiliary loss of its
/// entropy bottlenecks, <see cref="update"/> of their coding tables, the compress/decompress contract and loading a
/// state dict that CompressAI saved. Images are (N, 3, H, W), H and W multiples of <see cref="downsampling_factor"/>.
/// </summary>
/// <remarks>
/// A subclass reads like its paper's figure: it builds <c>g_a</c>, <c>g_s</c> (and <c>h_a</c>, <c>h_s</c>, …) with
/// CompressAI's names, so that the state dict's keys are CompressAI's, and implements <see cref="forward"/>,
/// <see cref="compress"/> and <see cref="decompress_latents"/>.
/// </remarks>
public abstract class CompressionModel : nn.Module<Tensor, CompressionOutput>
{
    /// <summary>Creates the model with <paramref name="n"/> hidden and <paramref name="m"/> latent channels.</summary>
    /// <exception cref="ArgumentOutOfRangeException">N or M is below 1.</exception>
    protected CompressionModel(string name, int n, int m) : base(name)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, $"{name}: N must be at least 1; got {n}.");
        if (m < 1) throw new ArgumentOutOfRangeException(nameof(m), m, $"{name}: M must be at least 1; got {m}.");
        N = n;
        M = m;
    }

    /// <summary>The hidden channels N.</summary>
    public int N { get; }

    /// <summary>The latent channels M.</summary>
    public int M { get; }

    /// <summary>The factor by which the innermost latent is smaller than the image: 16 for the factorized model, 64 for the hyperprior models.</summary>
    public abstract int downsampling_factor { get; }

    /// <summary>(x̂, likelihoods) of a batch of images (N, 3, H, W).</summary>
    /// <exception cref="ArgumentException">x is not a floating-point (N, 3, H, W) tensor with H and W multiples of <see cref="downsampling_factor"/>.</exception>
    public abstract override CompressionOutput forward(Tensor x);

    /// <summary>
    /// The streams of a batch of images, in this library's stream layout or CompressAI's (<paramref name="layout"/>).
    /// The hyperprior models compute the entropy parameters the decoder must find again (h_s(ẑ), and the context
    /// model's) in float64, where CompressAI computes them in float32: float32 convolutions round differently with a
    /// machine's kernels, enough that a file written with AVX-512 failed to decode with AVX2 (a scale chose another
    /// table); in float64 they agree to about 10⁻¹⁵.
    /// </summary>
    /// <exception cref="ArgumentException">x is not a floating-point (N, 3, H, W) tensor with H and W multiples of <see cref="downsampling_factor"/>.</exception>
    /// <exception cref="InvalidOperationException">There are no coding tables, or the parameters changed since <see cref="update"/>.</exception>
    public abstract CompressedData compress(Tensor x, RansStreamLayout layout = RansStreamLayout.SoftRound);

    /// <summary>ŷ from the streams of <see cref="compress"/>: equal bit for bit to the ŷ the encoder coded.</summary>
    /// <exception cref="ArgumentException">The data has the wrong number of stream lists or streams, or a shape that is not two sizes ≥ 1.</exception>
    /// <exception cref="InvalidOperationException">There are no coding tables, or the parameters changed since <see cref="update"/>.</exception>
    /// <exception cref="InvalidDataException">A stream is damaged, or the shape asks for more than the entropy models decode in one call.</exception>
    public abstract Tensor decompress_latents(CompressedData data, RansStreamLayout layout = RansStreamLayout.SoftRound);

    /// <summary>x̂ = clamp(g_s(ŷ), 0, 1) from the streams of <see cref="compress"/> (CompressAI's <c>decompress(strings, shape)["x_hat"]</c>).</summary>
    /// <exception cref="ArgumentException">As <see cref="decompress_latents"/>.</exception>
    /// <exception cref="InvalidOperationException">As <see cref="decompress_latents"/>.</exception>
    /// <exception cref="InvalidDataException">As <see cref="decompress_latents"/>.</exception>
    public Tensor decompress(CompressedData data, RansStreamLayout layout = RansStreamLayout.SoftRound)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return synthesis(decompress_latents(data, layout)).clamp(S(0), S(1)).MoveToOuterDisposeScope();
    }

    /// <summary>The synthesis transform x̂ = g_s(ŷ), not clamped.</summary>
    public abstract Tensor synthesis(Tensor yHat);

    /// <summary>The sum of the auxiliary losses of every <see cref="EntropyBottleneck"/> in the model (CompressAI's <c>aux_loss()</c>).</summary>
    public Tensor aux_loss()
    {
        using var scope = NewDisposeScope();
        Tensor total = zeros(Array.Empty<long>());
        foreach (EntropyBottleneck b in modules().OfType<EntropyBottleneck>()) total = total.add(b.loss(), One);
        return total.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Builds the coding tables of every entropy model (CompressAI's <c>update(scale_table, force, update_quantiles)</c>):
    /// each <see cref="EntropyBottleneck"/>'s, first searching its quantiles with <paramref name="updateQuantiles"/>, and
    /// each <see cref="GaussianConditional"/>'s for <paramref name="scaleTable"/> (default
    /// <see cref="GaussianConditional.get_scale_table(double, double, int)"/>()). Without <paramref name="force"/> a module with tables keeps
    /// them. Returns whether any module built tables.
    /// </summary>
    /// <param name="scaleTable">The Gaussian conditionals' scale table.</param>
    /// <param name="force">Rebuild the tables of modules that have them.</param>
    /// <param name="updateQuantiles">Search the bottlenecks' quantiles first.</param>
    /// <param name="compressaiTables">
    /// Build the tables as CompressAI does (float32 masses, its quantization), so that streams written in
    /// <see cref="RansStreamLayout.CompressAI"/> decode in CompressAI after its own <c>update()</c>; the library's own
    /// tables (the default) code the same values a little shorter.
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException">The scale table is empty or not finite, &gt; 0 and increasing.</exception>
    /// <exception cref="InvalidOperationException">A table would be too large (see the entropy models).</exception>
    public bool update(IReadOnlyList<double>? scaleTable = null, bool force = false, bool updateQuantiles = false, bool compressaiTables = false)
    {
        IReadOnlyList<double> table = scaleTable ?? GaussianConditional.get_scale_table();
        bool updated = false;
        foreach (nn.Module m in modules())
        {
            if (m is EntropyBottleneck b) updated |= b.update(force, updateQuantiles, compressaiTables);
            if (m is GaussianConditional g) updated |= g.update_scale_table(table, force, compressaiTables);
        }
        return updated;
    }

    /// <summary>
    /// Loads a state dict saved by CompressAI (<c>torch.save(net.state_dict(), path)</c>), as CompressAI's
    /// <c>load_state_dict</c> does: the entropy models' coding tables (<c>_quantized_cdf</c>, <c>_offset</c>,
    /// <c>_cdf_length</c>) and scale tables are taken as saved, so this model codes exactly as CompressAI does with
    /// that checkpoint; older checkpoints' <c>_matrix{k}</c>, <c>_bias{k}</c>, <c>_factor{k}</c> are read as
    /// <c>matrices.k</c>, <c>biases.k</c>, <c>factors.k</c>. See <see cref="load_compressai_state_dict"/>.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">The file is not a PyTorch state dict, or it does not fit this model (see <see cref="load_compressai_state_dict"/>); the model is unchanged then.</exception>
    public void load_compressai(string path)
    {
        Dictionary<string, Tensor> stateDict = CompressAICheckpoint.read(path);
        try
        {
            load_compressai_state_dict(stateDict);
        }
        finally
        {
            foreach (Tensor t in stateDict.Values) t.Dispose();
        }
    }

    /// <summary>
    /// A model of type <typeparamref name="T"/> (one of the ten ported CompressAI models) sized as the CompressAI
    /// checkpoint at <paramref name="path"/> is, with its weights loaded as <see cref="load_compressai"/> loads them:
    /// CompressAI's <c>Model.from_state_dict(torch.load(path))</c>. N and M are read from the transforms' weights
    /// (<c>g_a.0.weight</c> and <c>g_a.6.weight</c>; Cheng's models <c>g_a.0.conv1.weight</c>, M = N); for ELIC also
    /// M, the channel groups and the channel context's widths (CompressAI's <c>from_state_dict</c> reads N alone and
    /// takes the defaults for the rest).
    /// </summary>
    /// <param name="path">A state dict saved by <c>torch.save</c>.</param>
    /// <param name="mode">The entropy models' training quantizer (not in CompressAI's checkpoints).</param>
    /// <param name="alpha">Soft round's α for the soft-round modes.</param>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">The file is not a state dict, lacks the weight a size is read from, or does not fit the model so sized.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not one of the ported CompressAI models.</exception>
    public static T from_compressai<T>(string path, QuantizationMode mode = QuantizationMode.UniformNoise, double alpha = 5.0) where T : CompressionModel
    {
        ArgumentNullException.ThrowIfNull(path, nameof(path));
        Dictionary<string, Tensor> stateDict = CompressAICheckpoint.read(path);
        try
        {
            CompressionModel model;
            try
            {
                model = CompressAICheckpoint.Create(typeof(T), stateDict, mode, alpha);
            }
            catch (ArgumentException e) when (e.ParamName is not (nameof(alpha) or nameof(mode)))
            {
                throw new InvalidDataException($"{nameof(CompressionModel)}.{nameof(from_compressai)}: {path} gives sizes no {typeof(T).Name} has: {e.Message}", e);
            }
            try
            {
                model.load_compressai_state_dict(stateDict);
            }
            catch
            {
                model.Dispose();
                throw;
            }
            return (T)model;
        }
        finally
        {
            foreach (Tensor t in stateDict.Values) t.Dispose();
        }
    }

    /// <summary>
    /// Loads a CompressAI state dict already read (see <see cref="load_compressai"/>): every parameter and buffer of
    /// this model must be there with its shape, and nothing else but CompressAI's constant buffers (the bounds of
    /// <c>LowerBound</c>s and GDN's reparametrisation, <c>scale_bound</c>), which must equal this model's own. With
    /// empty coding tables (a model never updated) the entropy models are left without tables: call
    /// <see cref="update"/>. Nothing is changed when it throws.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="stateDict"/> is null.</exception>
    /// <exception cref="InvalidDataException">A key is missing or unexpected, a shape differs, a constant differs from this model's, or the tables are not valid (the message names the key).</exception>
    public void load_compressai_state_dict(IReadOnlyDictionary<string, Tensor> stateDict)
    {
        ArgumentNullException.ThrowIfNull(stateDict, nameof(stateDict));
        CompressAICheckpoint.load(this, stateDict);
    }

    /// <summary>Throws unless <paramref name="x"/> is a floating-point (N, 3, H, W) batch with H and W multiples of <see cref="downsampling_factor"/>.</summary>
    protected void CheckImages(string member, Tensor x)
    {
        string name = $"{GetName()}.{member}";
        OpGuard.FloatingPoint(name, nameof(x), x);
        if (x.dim() != 4 || x.shape[1] != 3 || x.shape[2] % downsampling_factor != 0 || x.shape[3] % downsampling_factor != 0 || x.shape[2] == 0 || x.shape[3] == 0)
        {
            throw new ArgumentException($"{name}: x has shape ({string.Join(", ", x.shape)}); expected (N, 3, H, W) with H and W positive multiples of {downsampling_factor} (pad the image).", nameof(x));
        }
    }

    /// <summary>Throws unless <paramref name="data"/> has <paramref name="latents"/> lists of equally many non-null streams and a shape of two sizes ≥ 1.</summary>
    protected void CheckData(string member, CompressedData data, int latents)
    {
        string name = $"{GetName()}.{member}";
        ArgumentNullException.ThrowIfNull(data, nameof(data));
        if (data.strings is null || data.strings.Count != latents || data.strings.Any(s => s is null || s.Length != data.strings[0].Length || s.Any(b => b is null)))
        {
            throw new ArgumentException($"{name}: data.strings must hold {latents} lists of equally many non-null streams (one per image).", nameof(data));
        }
        if (data.shape is null || data.shape.Length != 2 || data.shape.Any(s => s < 1))
        {
            throw new ArgumentException($"{name}: data.shape is ({string.Join(", ", data.shape ?? Array.Empty<long>())}); expected two sizes ≥ 1.", nameof(data));
        }
    }

    /// <summary>Throws unless <paramref name="y"/> is a finite floating-point (B, M, h, w) tensor and <paramref name="z"/> a finite (B, N, h/4, w/4) one of the same dtype: a hyperprior model's latents.</summary>
    protected void CheckLatents(string member, Tensor y, Tensor z)
    {
        string op = $"{GetName()}.{member}";
        if (!y.is_floating_point() || y.dim() != 4 || y.shape[1] != M)
        {
            throw new ArgumentException($"{op}: y must be a floating-point (B, {M}, h, w) tensor; got {y.dtype} of shape [{string.Join(", ", y.shape)}].", nameof(y));
        }
        if (z.dtype != y.dtype || z.dim() != 4 || z.shape[0] != y.shape[0] || z.shape[1] != N || z.shape[2] * 4 != y.shape[2] || z.shape[3] * 4 != y.shape[3])
        {
            throw new ArgumentException($"{op}: z must be a {y.dtype} ({y.shape[0]}, {N}, h/4, w/4) tensor for y of shape [{string.Join(", ", y.shape)}]; got {z.dtype} of shape [{string.Join(", ", z.shape)}].", nameof(z));
        }
        OpGuard.Finite(op, nameof(y), y, y);
        OpGuard.Finite(op, nameof(z), z, z);
    }

    /// <summary>The forward pass's output, its tensors moved out of the caller's dispose scope.</summary>
    protected static CompressionOutput Output(Tensor xHat, Tensor yHat, Tensor yLikelihoods, Tensor? zLikelihoods = null)
    {
        var likelihoods = new Dictionary<string, Tensor> { ["y"] = yLikelihoods.MoveToOuterDisposeScope() };
        if (zLikelihoods is not null) likelihoods["z"] = zLikelihoods.MoveToOuterDisposeScope();
        return new CompressionOutput(xHat.MoveToOuterDisposeScope(), likelihoods, yHat.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The hyperprior's side: z's streams, its spatial size and ẑ as the decoder will have it (decoded from those
    /// streams), which the hyper-decoder turns into ŷ's parameters on both sides.
    /// </summary>
    protected internal static (byte[][] strings, long[] shape, Tensor zHat) CodeHyperLatent(EntropyBottleneck bottleneck, Tensor z, RansStreamLayout layout)
    {
        byte[][] strings = bottleneck.compress(z, layout);
        long[] shape = { z.shape[2], z.shape[3] };
        return (strings, shape, bottleneck.decompress(strings, shape, layout));
    }

    /// <summary>CompressAI's <c>conv</c>: a k×k convolution with stride s and padding k/2.</summary>
    protected static Conv2d conv(long inChannels, long outChannels, int kernelSize = 5, int stride = 2) =>
        nn.Conv2d(inChannels, outChannels, kernelSize, stride: stride, padding: kernelSize / 2);

    /// <summary>CompressAI's <c>deconv</c>: a k×k transposed convolution with stride s, padding k/2 and output padding s − 1 (s times larger).</summary>
    protected static ConvTranspose2d deconv(long inChannels, long outChannels, int kernelSize = 5, int stride = 2) =>
        nn.ConvTranspose2d(inChannels, outChannels, kernelSize, stride: stride, padding: kernelSize / 2, output_padding: stride - 1);

    /// <summary>The analysis transform of Ballé et al.: four 5×5 stride-2 convolutions with GDN between them, 3 → N → N → N → M.</summary>
    protected static Sequential Analysis(int n, int m) => nn.Sequential(
        conv(3, n), new GDN(n), conv(n, n), new GDN(n), conv(n, n), new GDN(n), conv(n, m));

    /// <summary>The synthesis transform: the mirror of <see cref="Analysis"/> with transposed convolutions and IGDN, M → N → N → N → 3.</summary>
    protected static Sequential SynthesisTransform(int n, int m) => nn.Sequential(
        deconv(m, n), new GDN(n, inverse: true), deconv(n, n), new GDN(n, inverse: true), deconv(n, n), new GDN(n, inverse: true), deconv(n, 3));
}
