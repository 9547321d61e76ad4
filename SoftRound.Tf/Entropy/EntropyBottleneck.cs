using System;
using System.Collections.Generic;
using System.Linq;
using SoftRound.Tf.Internals;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static SoftRound.Tf.Internals.KeptScalars;

namespace SoftRound.Tf.Entropy;

/// <summary>
/// The entropy bottleneck of Ballé et al. (2018), as CompressAI's <c>EntropyBottleneck</c> (tensorflow_compression's
/// <c>ContinuousBatchedEntropyModel</c> with a <c>NoisyDeepFactorized</c> prior; docs/ENTROPY.md §3): a learned density per channel
/// (<see cref="DeepFactorized"/>) prices a latent y of shape (N, C, …). In training, <see cref="forward"/> applies the
/// quantizer's <see cref="QuantizationMode"/> around the channel medians m and returns the likelihood of each output;
/// in eval it rounds, ŷ = round(y − m) + m. Three quantiles per channel (the tails and the median) are parameters
/// learned by <see cref="loss"/>; <see cref="update"/> builds the coding tables from them, and
/// <see cref="compress"/>/<see cref="decompress"/> write and read one stream per batch item, decompress giving the
/// eval forward's ŷ bit for bit.
/// </summary>
/// <remarks>
/// <para>
/// Likelihoods: p(ŷ) = F(ŷ + ½) − F(ŷ − ½) with the sign trick (<see cref="DeepFactorized.interval_mass"/>), floored
/// by <see cref="LowerBound"/> at the likelihood bound (1e−9). With <see cref="QuantizationMode.SoftRoundNoise"/> the
/// training output is soft_round(y − m, α) + m + u, whose density is F(a) − F(b) with a, b = m +
/// soft_round_inverse(ŷ − m ∓ ½, α) (<see cref="SoftRoundAdapter"/>); the other modes output rounded or noisy values
/// priced by the interval mass itself.
/// </para>
/// <para>
/// Differences from CompressAI, all deliberate: the eval output passes the gradient straight through to y (CompressAI's
/// round gives 0); <c>update()</c> rebuilds by default (<c>force: true</c>), and coding with tables older than the
/// parameters throws; the tables are kept outside the state dict (rebuild them with <c>update()</c> after loading); a
/// channel's tail mass is read at its own last value, where CompressAI reads every channel's at the longest channel's;
/// the medians enter the quantizer detached in every mode, so only <see cref="loss"/> trains them, as in CompressAI.
/// </para>
/// </remarks>
public sealed class EntropyBottleneck : DeepFactorized
{
    private const string Name = nameof(EntropyBottleneck);
    private const string QuantilesKey = "quantiles";
    private const string TargetKey = "target";
    private EntropyTables? tables;

    /// <summary>Creates the bottleneck with CompressAI's initialisation.</summary>
    /// <param name="channels">The channels C, ≥ 1.</param>
    /// <param name="mode">What the quantizer does in training (default uniform noise, as CompressAI).</param>
    /// <param name="alpha">The soft-round steepness α of the soft-round modes; finite and ≥ 0.</param>
    /// <param name="filters">The density network's hidden widths; default (3, 3, 3, 3).</param>
    /// <param name="initScale">The initial scale of the density and the quantiles; finite and &gt; 0; default 10.</param>
    /// <param name="tailMass">The mass left outside [lower, upper] quantiles, in (0, 1); default 1e−9.</param>
    /// <param name="likelihoodBound">The floor of the likelihoods; finite and ≥ 0 (0: none); default 1e−9.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of its range (the message names it and the value).</exception>
    public EntropyBottleneck(int channels, QuantizationMode mode = QuantizationMode.UniformNoise, double alpha = 5.0,
        IReadOnlyList<int>? filters = null, double initScale = 10, double tailMass = 1e-9, double likelihoodBound = 1e-9)
        : base(channels, filters, initScale, Name)
    {
        if (!(tailMass > 0 && tailMass < 1)) throw new ArgumentOutOfRangeException(nameof(tailMass), tailMass, $"{Name}: tailMass must be in (0, 1); got {tailMass}.");
        OpGuard.Steepness(Name, nameof(likelihoodBound), likelihoodBound, allowZero: true);
        tail_mass = tailMass;
        likelihood_bound = likelihoodBound;
        quantizer = new QuantizationLayer(mode, alpha);
        quantizer.bind_offset(() => medians_column);
        double target = Math.Log(2 / tailMass - 1);
        register_parameter(QuantilesKey, new Parameter(tensor(new[] { -initScale, 0, initScale }, ScalarType.Float32).repeat(channels, 1, 1)));
        register_buffer(TargetKey, tensor(new[] { -target, 0, target }, ScalarType.Float32));
        register_module(nameof(quantizer), quantizer);
    }

    /// <summary>The most elements <see cref="decompress"/> decodes in one call, 2²⁸; more are refused before anything is allocated.</summary>
    public const long MaxDecodedElements = EntropyTables.MaxElements;

    /// <summary>The quantizer: its <see cref="QuantizationLayer.mode"/> and <see cref="SoftRoundFamilyLayer.alpha"/> (or a schedule) choose the training proxy.</summary>
    public QuantizationLayer quantizer { get; }

    /// <summary>The tail mass the outer quantiles leave out.</summary>
    public double tail_mass { get; }

    /// <summary>The likelihood floor (0: none).</summary>
    public double likelihood_bound { get; }

    /// <summary>The quantiles, (C, 1, 3): lower tail, median, upper tail of each channel.</summary>
    /// <remarks>The private setter is how TorchSharp's <c>to(dtype)</c> and <c>to(device)</c> hand the converted parameter back.</remarks>
    public Parameter quantiles
    {
        get => get_parameter(QuantilesKey)!;
        private set => ConditionallyRegisterParameter(QuantilesKey, value);
    }

    /// <summary>The medians m, (C), detached.</summary>
    public Tensor medians => quantiles.detach()[.., 0, 1];

    /// <summary>The medians as (C, 1, 1), detached: the centre of the quantizer in the (C, 1, M) layout.</summary>
    private Tensor medians_column => quantiles.detach()[.., .., 1..2];

    /// <summary>
    /// (ŷ, likelihoods) for y of shape (N, C, …): the quantizer's output (training: its mode around the medians; eval:
    /// round(y − m) + m) and p(ŷ) floored at the likelihood bound, both of y's shape and dtype.
    /// </summary>
    /// <exception cref="ArgumentException">y is null, not floating point, or not of shape (N, C, …).</exception>
    /// <exception cref="ArgumentOutOfRangeException">An entry of y is NaN or infinite (checked on the CPU).</exception>
    public (Tensor x_hat, Tensor likelihoods) forward(Tensor x)
    {
        CheckInput(nameof(forward), x);
        using var scope = NewDisposeScope();
        long[] shape = x.shape;
        Tensor values = x.transpose(0, 1).reshape(channels, 1, -1);
        Tensor outputs = quantizer.forward(values);
        Tensor m = medians_column.to(x.dtype);
        Tensor mass;
        if (training && quantizer.mode == QuantizationMode.SoftRoundNoise)
        {
            Tensor centred = outputs - m;
            mass = Likelihood(SoftRoundOps.soft_round_inverse(centred - S(0.5), quantizer.alpha).add(m, One),
                SoftRoundOps.soft_round_inverse(centred.add(S(0.5), One), quantizer.alpha).add(m, One), false).mass;
        }
        else
        {
            mass = Likelihood(outputs - S(0.5), outputs.add(S(0.5), One), false).mass;
        }
        if (likelihood_bound > 0) mass = LowerBound.lower_bound(mass, likelihood_bound);
        // In eval the rounded values and the density's masses are float32 for a float16 or bfloat16 input: both go back to its dtype.
        Tensor Back(Tensor t) => t.reshape(Transposed(shape)).transpose(0, 1).to(x.dtype).contiguous();
        return (Back(outputs).MoveToOuterDisposeScope(), Back(mass).MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The auxiliary loss Σ|l(q) − t| over the quantiles q (with the density's parameters detached), t = (−T, 0, T),
    /// T = log(2/tail_mass − 1): minimising it moves the outer quantiles to F = tail_mass/2 and 1 − tail_mass/2 and the
    /// middle one to the median (CompressAI's <c>loss()</c>). Optimise it alongside the main loss, as CompressAI's
    /// auxiliary optimiser does.
    /// </summary>
    public Tensor loss()
    {
        using var scope = NewDisposeScope();
        Tensor logits = logits_cumulative(quantiles, stopGradient: true);
        return (logits - get_buffer(TargetKey)!.to(logits.dtype)).abs().sum().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Builds the coding tables from the quantiles and the density: channel c codes the values
    /// round(y − m_c) ∈ [−⌈m − q_lower⌉, ⌈q_upper − m⌉] with the interval masses of the density (in float64) quantized
    /// to 16 bits, and everything outside through the escape, whose mass is F(lowest − ½) + S(highest + ½)
    /// (CompressAI's <c>update()</c>). Returns whether it built them: always with <paramref name="force"/> (the
    /// default), otherwise only when there were none.
    /// </summary>
    /// <param name="force">Rebuild even when there are tables.</param>
    /// <param name="updateQuantiles">First set the quantiles by <see cref="update_quantiles"/> (newer CompressAI's <c>update_quantiles=True</c>).</param>
    /// <param name="compressaiTables">
    /// Build CompressAI's tables instead: the masses σ(l(v + ½)) − σ(l(v − ½)) in float32 at every channel's values,
    /// each channel's escape read at the longest channel's last value (CompressAI's way), quantized by
    /// <see cref="QuantizedCdf.pmf_to_quantized_cdf_compressai"/>; so that streams written in
    /// <see cref="RansStreamLayout.CompressAI"/> decode in CompressAI with the tables it builds itself.
    /// </param>
    /// <exception cref="InvalidOperationException">A channel's quantiles span more than 65534 values or are not finite (train the auxiliary loss longer).</exception>
    public bool update(bool force = true, bool updateQuantiles = false, bool compressaiTables = false)
    {
        if (tables is not null && !force) return false;
        if (updateQuantiles) update_quantiles();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor q = quantiles.detach().to(ScalarType.Float64)[.., 0, ..];
        double[] lower = q[.., 0].data<double>().ToArray(), middle = q[.., 1].data<double>().ToArray(), upper = q[.., 2].data<double>().ToArray();
        var minima = new int[channels];
        var lengths = new int[channels];
        for (int c = 0; c < channels; c++)
        {
            double below = Math.Max(0, Math.Ceiling(middle[c] - lower[c])), above = Math.Max(0, Math.Ceiling(upper[c] - middle[c]));
            if (!(below + above + 1 < QuantizedCdf.Total - 1))
            {
                throw new InvalidOperationException($"{Name}.update: channel {c}'s quantiles ({lower[c]}, {middle[c]}, {upper[c]}) span {below + above + 1} values; at most {QuantizedCdf.Total - 2} can be tabled. Train the auxiliary loss longer.");
            }
            minima[c] = (int)below;
            lengths[c] = (int)(below + above + 1);
        }
        int maxLength = lengths.Max();
        if (compressaiTables)
        {
            // CompressAI's update(), in the quantiles' float32: samples = arange + (median − minimum), its own likelihood form.
            Tensor q32 = quantiles.detach()[.., 0, ..];
            Tensor low = (q32[.., 1] - q32[.., 0]).ceil().to(ScalarType.Int32).clamp_min(S(0)), high = (q32[.., 2] - q32[.., 1]).ceil().to(ScalarType.Int32).clamp_min(S(0));
            minima = low.data<int>().ToArray();
            lengths = low.add(high, One).add(S(1), One).data<int>().ToArray();
            maxLength = lengths.Max();
            Tensor first = q32[.., 1] - low;
            using Scalar length = maxLength.ToScalar();
            Tensor points = arange(S(0L), length, One, ScalarType.Int64).unsqueeze(0).add(first.unsqueeze(1), One).unsqueeze(1);
            Tensor below = Network(points - S(0.5), true, false).logits, above = Network(points.add(S(0.5), One), true, false).logits;
            Tensor masses = (above.sigmoid() - below.sigmoid())[.., 0, ..];
            Tensor escape = below[.., 0, ..1].sigmoid().add(above[.., 0, ^1..].neg().sigmoid(), One);
            tables = EntropyTables.Build(masses, escape, lengths, minima.Select(v => -v).ToArray(), parameters(), compressai: true);
            return true;
        }
        Tensor start = tensor(middle, ScalarType.Float64) - tensor(minima.Select(v => (double)v).ToArray(), ScalarType.Float64);
        using Scalar sampleCount = maxLength.ToScalar();
        Tensor samples = arange(S(0L), sampleCount, One, ScalarType.Float64).unsqueeze(0).add(start.unsqueeze(1), One);
        samples = samples.unsqueeze(1);
        (Tensor pmf, _, _) = Likelihood(samples - S(0.5), samples.add(S(0.5), One), stopGradient: true);
        Tensor below0 = Network(samples[.., .., 0..1] - S(0.5), true, false).logits.reshape(channels);
        Tensor last = tensor(lengths.Select(l => (long)l - 1).ToArray()).reshape(channels, 1, 1);
        Tensor above0 = Network(samples.gather(2, last).add(S(0.5), One), true, false).logits.reshape(channels);
        Tensor tail = below0.sigmoid().add(above0.neg().sigmoid(), One);
        tables = EntropyTables.Build(pmf.reshape(channels, maxLength), tail, lengths, minima.Select(v => -v).ToArray(), parameters());
        return true;
    }

    /// <summary>
    /// Sets the quantiles without the auxiliary loss: for each target t of (−T, 0, T), the y with l(y) = t found by
    /// bisection in [−<paramref name="searchRadius"/>, <paramref name="searchRadius"/>] until the bracket is within
    /// <paramref name="atol"/> + <paramref name="rtol"/>·|y| (newer CompressAI's <c>_update_quantiles</c>, in float64
    /// here). A target outside the bracket's logits leaves that quantile at the nearer end of the bracket.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An argument is not finite and &gt; 0.</exception>
    public void update_quantiles(double searchRadius = 1e5, double rtol = 1e-4, double atol = 1e-3)
    {
        string member = $"{Name}.{nameof(update_quantiles)}";
        OpGuard.Steepness(member, nameof(searchRadius), searchRadius, allowZero: false);
        OpGuard.Steepness(member, nameof(rtol), rtol, allowZero: false);
        OpGuard.Steepness(member, nameof(atol), atol, allowZero: false);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor targets = get_buffer(TargetKey)!.to(ScalarType.Float64);
        var found = new Tensor[3];
        using Scalar lowEnd = (-searchRadius).ToScalar(), highEnd = searchRadius.ToScalar();
        for (int i = 0; i < 3; i++)
        {
            using Scalar target = targets[i].item<double>().ToScalar();
            Tensor f(Tensor y) => Network(y.to(quantiles.dtype), true, false).logits.to(ScalarType.Float64);
            Tensor low = full(new long[] { channels, 1, 1 }, lowEnd, ScalarType.Float64, quantiles.device);
            Tensor high = full(new long[] { channels, 1, 1 }, highEnd, ScalarType.Float64, quantiles.device);
            low = where(f(high).ge(target), low, high);
            high = where(f(low).le(target), high, low);
            for (int step = 0; step < 200 && !isclose(low, high, rtol, atol).all().item<bool>(); step++)
            {
                Tensor mid = low.add(high, One) / S(2);
                Tensor at = f(mid);
                low = where(at.le(target), mid, low);
                high = where(at.ge(target), mid, high);
            }
            found[i] = (low.add(high, One) / S(2)).reshape(channels, 1, 1);
        }
        quantiles.copy_(cat(found, 2).to(quantiles.dtype));
    }

    /// <summary>The coding tables, one per channel, to hand to <see cref="RansEncoder"/> and <see cref="RansDecoder"/>; null before <see cref="update"/>.</summary>
    public QuantizedCdf? coding_tables => tables?.cdfs;

    /// <summary>The tables as CompressAI's <c>_quantized_cdf</c> buffer: int32 (C, longest length), each row padded with zeros; null before <see cref="update"/>.</summary>
    public Tensor? quantized_cdf => tables?.Padded();

    /// <summary>CompressAI's <c>_offset</c>: int32 (C), the value of each channel's first table entry, −⌈m − q_lower⌉; null before <see cref="update"/>.</summary>
    public Tensor? offset => tables?.Offsets();

    /// <summary>CompressAI's <c>_cdf_length</c>: int32 (C), each table's length with the escape and the final 2¹⁶; null before <see cref="update"/>.</summary>
    public Tensor? cdf_length => tables?.Lengths();

    /// <summary>
    /// One stream per batch item of y (N, C, …): the symbols round(y − m), coded channel by channel with the tables
    /// of <see cref="update"/> (CompressAI's <c>compress</c>).
    /// </summary>
    /// <exception cref="ArgumentException">y is null, not floating point, or not of shape (N, C, …).</exception>
    /// <exception cref="ArgumentOutOfRangeException">An entry of y is NaN or infinite, or its symbol does not fit in int32.</exception>
    /// <exception cref="InvalidOperationException">There are no tables, or the parameters changed since <see cref="update"/>.</exception>
    public byte[][] compress(Tensor x, RansStreamLayout layout = RansStreamLayout.SoftRound)
    {
        CheckInput(nameof(compress), x);
        QuantizedCdf cdfs = EntropyTables.Current(tables, parameters(), $"{Name}.{nameof(compress)}");
        using var scope = NewDisposeScope();
        Tensor symbols = quantizer.symbols(x, Column(x.dim()));
        return EntropyTables.Compress(symbols, Indexes(x.shape), cdfs, layout);
    }

    /// <summary>
    /// ŷ of shape (N, C, size…) from the streams of <see cref="compress"/>: symbols + m in the quantiles' dtype, equal
    /// bit for bit to the eval forward's output for an input of that dtype (CompressAI's <c>decompress(strings, size)</c>).
    /// </summary>
    /// <param name="strings">One stream per batch item.</param>
    /// <param name="size">The dimensions after the channel: (H, W) for images, empty for (N, C).</param>
    /// <exception cref="ArgumentNullException">An argument or a stream is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative.</exception>
    /// <exception cref="InvalidOperationException">There are no tables, or the parameters changed since <see cref="update"/>.</exception>
    /// <param name="layout">The layout the streams were written in (default this library's).</param>
    /// <exception cref="System.IO.InvalidDataException">A stream is truncated, corrupted or not from these tables (where the decoder can tell), too short for the symbols of <paramref name="size"/>, or the request is for more than <see cref="MaxDecodedElements"/> elements (checked before anything is allocated).</exception>
    public Tensor decompress(IReadOnlyList<byte[]> strings, long[] size, RansStreamLayout layout = RansStreamLayout.SoftRound)
    {
        ArgumentNullException.ThrowIfNull(strings, nameof(strings));
        ArgumentNullException.ThrowIfNull(size, nameof(size));
        for (int i = 0; i < strings.Count; i++)
        {
            if (strings[i] is null) throw new ArgumentNullException(nameof(strings), $"{Name}.{nameof(decompress)}: strings[{i}] is null.");
        }
        foreach (long s in size)
        {
            if (s < 0) throw new ArgumentOutOfRangeException(nameof(size), s, $"{Name}.{nameof(decompress)}: size has a negative entry {s}.");
        }
        string member = $"{Name}.{nameof(decompress)}";
        QuantizedCdf cdfs = EntropyTables.Current(tables, parameters(), member);
        long[] shape = new[] { (long)strings.Count, channels }.Concat(size).ToArray();
        // In double, so that no product of sizes can overflow before it is compared.
        double positions = size.Aggregate(1.0, (p, s) => p * s);
        double elements = positions * channels * strings.Count;
        double perPosition = Enumerable.Range(0, channels).Sum(cdfs.LeastBits);
        EntropyTables.CheckRequest(member, strings, elements >= long.MaxValue ? long.MaxValue : (long)elements, _ => perPosition * positions);
        using var scope = NewDisposeScope();
        Tensor symbols = EntropyTables.Decompress(member, strings, Indexes(shape), cdfs, layout);
        return quantizer.dequantize(symbols, Column(shape.Length)).MoveToOuterDisposeScope();
    }

    /// <summary>Installs tables read from a CompressAI checkpoint, fingerprinted with the parameters as they are now; null removes the tables.</summary>
    internal void LoadTables(QuantizedCdf? cdfs) => tables = cdfs is null ? null : EntropyTables.Of(cdfs, parameters());

    /// <summary>The medians shaped (C, 1, …) to broadcast over an input of <paramref name="dims"/> dimensions (N, C, …).</summary>
    private Tensor Column(long dims) => medians.reshape(new[] { (long)channels }.Concat(Enumerable.Repeat(1L, (int)dims - 2)).ToArray());

    /// <summary>The channel of every element of a tensor of <paramref name="shape"/> (N, C, …), as int32.</summary>
    private Tensor Indexes(long[] shape)
    {
        long[] view = Enumerable.Repeat(1L, shape.Length).ToArray();
        view[1] = channels;
        using Scalar count = channels.ToScalar();
        return arange(S(0L), count, One, ScalarType.Int32).reshape(view).expand(shape);
    }

    private static long[] Transposed(long[] shape)
    {
        long[] t = (long[])shape.Clone();
        (t[0], t[1]) = (t[1], t[0]);
        return t;
    }

    private void CheckInput(string member, Tensor x)
    {
        string name = $"{Name}.{member}";
        OpGuard.FloatingPoint(name, nameof(x), x);
        if (x.dim() < 2 || x.shape[1] != channels)
        {
            throw new ArgumentException($"{name}: x has shape ({string.Join(", ", x.shape)}); expected (N, {channels}, …).", nameof(x));
        }
        OpGuard.Finite(name, nameof(x), x, x);
    }
}
