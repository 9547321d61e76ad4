using System;
using System.Collections.Generic;
using System.Linq;
using SoftRound.Tf.Internals;
using TorchSharp;
using static TorchSharp.torch;
using static SoftRound.Tf.Internals.KeptScalars;

namespace SoftRound.Tf.Entropy;

/// <summary>
/// The conditional Gaussian entropy model of Ballé et al.'s hyperprior (CompressAI's <c>GaussianConditional</c>;
/// tensorflow_compression's <c>LocationScaleIndexedEntropyModel</c> with <c>NoisyNormal</c>; docs/ENTROPY.md §3): every element of y has
/// its own scale σ and mean μ, predicted by another network. <see cref="forward"/> quantizes around μ (the quantizer's
/// mode in training, round(y − μ) + μ in eval) and gives p(ŷ) = Φ((½ − |ŷ − μ|)/σ') − Φ((−½ − |ŷ − μ|)/σ') with
/// σ' = max(σ, scale bound) (<see cref="LowerBound"/>), floored at the likelihood bound. For coding, each σ picks the
/// nearest-above entry of a scale table (<see cref="build_indexes"/>), whose tables <see cref="update"/> builds.
/// </summary>
/// <remarks>
/// As CompressAI, σ may be any finite value: it is floored at the scale bound, whose gradient rule
/// (<see cref="LowerBound"/>) still lets a descent step raise a scale held at the bound, so a hyper-decoder that ends
/// in a plain convolution (mbt2018) trains; the bound is the float32 value of <c>scaleBound</c> (0.11f), as
/// CompressAI's float32 buffer holds it, so that σ at the bound picks table entry 0. Differences from CompressAI: NaN
/// and infinite σ are refused; the eval output passes the gradient straight through; coding with tables older than
/// the scale table throws; with <see cref="QuantizationMode.SoftRoundNoise"/> the likelihood is that of the
/// soft-rounded latent plus noise (<see cref="SoftRoundAdapter"/>).
/// </remarks>
public sealed class GaussianConditional : nn.Module
{
    private const string Name = nameof(GaussianConditional);
    private const string TableKey = "scale_table";
    private EntropyTables? tables;

    /// <summary>Creates the model.</summary>
    /// <param name="scaleTable">The scales the coding tables are built for: finite, &gt; 0, strictly increasing; default <see cref="get_scale_table(double, double, int)"/>().</param>
    /// <param name="mode">What the quantizer does in training (default uniform noise).</param>
    /// <param name="alpha">The soft-round steepness of the soft-round modes; finite and ≥ 0.</param>
    /// <param name="scaleBound">The floor of the scales; finite and &gt; 0; default 0.11.</param>
    /// <param name="tailMass">The mass each table leaves to the escape, in (0, 1); default 1e−9.</param>
    /// <param name="likelihoodBound">The floor of the likelihoods; finite and ≥ 0 (0: none); default 1e−9.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of its range (the message names it and the value).</exception>
    public GaussianConditional(IReadOnlyList<double>? scaleTable = null, QuantizationMode mode = QuantizationMode.UniformNoise, double alpha = 5.0,
        double scaleBound = 0.11, double tailMass = 1e-9, double likelihoodBound = 1e-9)
        : base(Name)
    {
        // Marks the components registered before any field is set: a parent's RegisterComponents() would otherwise
        // register the quantizer a second time, under its property's backing-field name.
        RegisterComponents();
        double[] table = CheckTable(Name, scaleTable ?? get_scale_table());
        OpGuard.Steepness(Name, nameof(scaleBound), scaleBound, allowZero: false);
        if (!(tailMass > 0 && tailMass < 1)) throw new ArgumentOutOfRangeException(nameof(tailMass), tailMass, $"{Name}: tailMass must be in (0, 1); got {tailMass}.");
        OpGuard.Steepness(Name, nameof(likelihoodBound), likelihoodBound, allowZero: true);
        scale_bound = scaleBound;
        tail_mass = tailMass;
        likelihood_bound = likelihoodBound;
        quantizer = new QuantizationLayer(mode, alpha);
        register_buffer(TableKey, tensor(table, ScalarType.Float32));
        register_module(nameof(quantizer), quantizer);
    }

    private static double[] CheckTable(string member, IReadOnlyList<double> scaleTable)
    {
        double[] table = scaleTable.ToArray();
        if (table.Length == 0) throw new ArgumentOutOfRangeException(nameof(scaleTable), table.Length, $"{member}: scaleTable is empty.");
        for (int i = 0; i < table.Length; i++)
        {
            // Compared as the float32 buffer holds them, so that two entries that round to one float are refused.
            if (!(double.IsFinite(table[i]) && (float)table[i] > 0 && (i == 0 || (float)table[i] > (float)table[i - 1])))
            {
                throw new ArgumentOutOfRangeException(nameof(scaleTable), table[i], $"{member}: scaleTable[{i}] is {table[i]}; the entries must be finite, > 0 and strictly increasing in float32.");
            }
        }
        return table;
    }

    /// <summary>
    /// exp of <paramref name="levels"/> points evenly spaced from log <paramref name="min"/> to log
    /// <paramref name="max"/> (CompressAI's <c>get_scale_table</c>; defaults 0.11, 256, 64).
    /// </summary>
    public static double[] get_scale_table(double min = 0.11, double max = 256, int levels = 64) =>
        Enumerable.Range(0, levels).Select(i => Math.Exp(Math.Log(min) + (Math.Log(max) - Math.Log(min)) * i / Math.Max(1, levels - 1))).ToArray();

    /// <summary>The most elements <see cref="decompress"/> decodes in one call, 2²⁸; more are refused before anything is allocated.</summary>
    public const long MaxDecodedElements = EntropyTables.MaxElements;

    /// <summary>The quantizer; its mode and α choose the training proxy.</summary>
    public QuantizationLayer quantizer { get; }

    private QuantizationMode? xHatMode;

    /// <summary>
    /// In training, how the ŷ that <see cref="forward"/> returns (the values a decoder gets) is made, when it is not the
    /// quantizer's own proxy (null, the default): with <see cref="QuantizationMode.RoundSt"/>, ŷ = round_st(y − μ) + μ,
    /// rounded as the decoder will see it after coding with the gradient passed straight through, while the likelihoods
    /// stay those of the quantizer's proxy (CompressAI's latent codecs with <c>quantizer="ste"</c>; the "mixed"
    /// quantization of Minnen &amp; Singh 2020); any other mode makes ŷ as the quantizer would in it, with the quantizer's
    /// α. Eval is unchanged: ŷ = round(y − μ) + μ either way.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a <see cref="QuantizationMode"/>.</exception>
    public QuantizationMode? x_hat_mode
    {
        get => xHatMode;
        set
        {
            if (value is { } mode) OpGuard.Defined($"{Name}.{nameof(x_hat_mode)}", nameof(x_hat_mode), mode);
            xHatMode = value;
        }
    }

    /// <summary>The floor of the scales, as given.</summary>
    public double scale_bound { get; }

    /// <summary>The floor the scales are bounded at: <see cref="scale_bound"/> rounded to float32, as CompressAI's buffer holds it.</summary>
    private double Bound => (float)scale_bound;

    /// <summary>The tail mass of each table.</summary>
    public double tail_mass { get; }

    /// <summary>The likelihood floor (0: none).</summary>
    public double likelihood_bound { get; }

    /// <summary>The scale table (a float32 buffer).</summary>
    /// <remarks>The private setter is how TorchSharp's <c>to(dtype)</c> and <c>to(device)</c> hand the converted buffer back.</remarks>
    public Tensor scale_table
    {
        get => get_buffer(TableKey)!;
        private set => ConditionallyRegisterBuffer(TableKey, value);
    }

    /// <summary>
    /// (ŷ, likelihoods) of y with per-element <paramref name="scales"/> and optional <paramref name="means"/>, as the
    /// class describes; in training, ŷ as <see cref="x_hat_mode"/> says.
    /// </summary>
    /// <exception cref="ArgumentException">A tensor is null or not floating point, or scales or means do not broadcast to y.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An entry of y, the scales or the means is not finite (checked on the CPU).</exception>
    public (Tensor x_hat, Tensor likelihoods) forward(Tensor x, Tensor scales, Tensor? means = null)
    {
        Check(nameof(forward), x, scales, means);
        using var scope = NewDisposeScope();
        Tensor outputs = quantizer.forward(x, means);
        Tensor centred = means is null ? outputs : outputs - means;
        Tensor s = LowerBound.lower_bound(scales.to(x.dtype), Bound);
        // The scales were checked above, and the bound keeps them positive: no second scan.
        IDensity density = NormalDensity.Trusted(zeros(Array.Empty<long>(), x.dtype), s);
        Tensor mass = training && quantizer.mode == QuantizationMode.SoftRoundNoise
            ? new SoftRoundAdapter(density, quantizer.alpha).interval_mass(centred)
            : density.interval_mass(centred);
        if (likelihood_bound > 0) mass = LowerBound.lower_bound(mass, likelihood_bound);
        Tensor xHat = training && x_hat_mode is { } mode ? quantizer.forward(x, means, mode) : outputs;
        return (xHat.MoveToOuterDisposeScope(), mass.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The table of each scale: the first entry of the scale table ≥ max(σ, scale bound), or the last entry for larger
    /// σ (CompressAI's <c>build_indexes</c>); int32, σ's shape. The comparison is made in float32 for float32 and
    /// narrower scales (as CompressAI compares them with its float32 table), in float64 for float64 scales.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="scales"/> is null or not floating point.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An entry of the scales is not finite.</exception>
    public Tensor build_indexes(Tensor scales)
    {
        string member = $"{Name}.{nameof(build_indexes)}";
        OpGuard.Finite(member, nameof(scales), scales, scales);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        ScalarType compute = scales.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;
        Tensor table = scale_table.to(compute, scales.device);
        using Scalar bound = Bound.ToScalar();
        Tensor s = scales.detach().to(compute).clamp_min(bound).contiguous();
        return bucketize(s, table[..^1].contiguous(), outInt32: true).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <see cref="build_indexes"/> of float64 scales one row at a time without a tensor, for a coder that calls it once
    /// per position: index = the number of the scale table's entries but the last below max(σ, bound), in float64. The
    /// same indexes (tested). The table is read when this is called.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">(From the returned indexer) a scale is not finite.</exception>
    internal ScaleIndexer Float64Indexer()
    {
        using var scope = NewDisposeScope();
        double[] bounds = scale_table.to(ScalarType.Float64, CPU).data<double>().ToArray()[..^1];
        double floor = Bound;
        string member = $"{Name}.{nameof(build_indexes)}";
        return (scales, indexes) =>
        {
            for (int i = 0; i < indexes.Length; i++)
            {
                double s = scales[i];
                if (!double.IsFinite(s)) OpGuard.Values(member, nameof(scales), new[] { s }, positive: false);
                s = Math.Max(s, floor);
                int below = 0, above = bounds.Length;
                while (below < above)
                {
                    int middle = (below + above) >> 1;
                    if (bounds[middle] < s) below = middle + 1;
                    else above = middle;
                }
                indexes[i] = below;
            }
        };
    }

    /// <summary>Writes the table index of each scale.</summary>
    internal delegate void ScaleIndexer(ReadOnlySpan<double> scales, Span<int> indexes);

    /// <summary>
    /// Replaces the scale table and rebuilds the coding tables (CompressAI's <c>update_scale_table</c>); without
    /// <paramref name="force"/>, only when there are no tables yet. Returns whether it did.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The table is empty, or an entry is not finite, &gt; 0 and above the one before (in float32).</exception>
    /// <exception cref="InvalidOperationException">A table would hold more than 65534 values (see <see cref="update"/>).</exception>
    /// <param name="scaleTable">The new scale table.</param>
    /// <param name="force">Rebuild even when there are tables.</param>
    /// <param name="compressaiTables">Build CompressAI's tables (see <see cref="update"/>).</param>
    public bool update_scale_table(IReadOnlyList<double> scaleTable, bool force = false, bool compressaiTables = false)
    {
        ArgumentNullException.ThrowIfNull(scaleTable, nameof(scaleTable));
        double[] table = CheckTable($"{Name}.{nameof(update_scale_table)}", scaleTable);
        if (tables is not null && !force) return false;
        Tensor previous = scale_table;
        // The module owns its buffer: a dispose scope open around this call must not take it.
        scale_table = tensor(table, ScalarType.Float32).to(previous.device).DetachFromDisposeScope();
        try
        {
            update(true, compressaiTables);
        }
        catch
        {
            scale_table = previous;
            throw;
        }
        return true;
    }

    /// <summary>
    /// Builds one coding table per scale σ_j: the values |v| ≤ ⌈σ_j·Φ⁻¹(1 − tail_mass/2)⌉ with their masses under
    /// N(0, σ_j) (in float64), and the escape with the rest (CompressAI's <c>update()</c>). Returns whether it built
    /// them: always with <paramref name="force"/> (the default), otherwise only when there were none.
    /// </summary>
    /// <param name="force">Rebuild even when there are tables.</param>
    /// <param name="compressaiTables">
    /// Build CompressAI's tables instead: the masses in float32 by its formula ½·erfc(−(½ − |v|)/(σ√2)) and its
    /// <see cref="QuantizedCdf.pmf_to_quantized_cdf_compressai"/>, so that streams written in
    /// <see cref="RansStreamLayout.CompressAI"/> decode in CompressAI with the tables it builds itself.
    /// </param>
    /// <exception cref="InvalidOperationException">A table would hold more than 65534 values (a scale too large for its tail mass).</exception>
    public bool update(bool force = true, bool compressaiTables = false)
    {
        if (tables is not null && !force) return false;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        double[] table = scale_table.to(ScalarType.Float64).cpu().data<double>().ToArray();
        double multiplier = -special.ndtri(tensor(tail_mass / 2, ScalarType.Float64)).item<double>();
        using Scalar kept = multiplier.ToScalar();
        // CompressAI multiplies its float32 table in float32 before the ceiling.
        int[] centres = compressaiTables
            ? (scale_table.cpu() * kept).ceil().clamp_max(S(int.MaxValue / 4)).to(ScalarType.Int32).data<int>().ToArray()
            : table.Select(s => (int)Math.Min(int.MaxValue / 4, Math.Ceiling(s * multiplier))).ToArray();
        for (int j = 0; j < centres.Length; j++)
        {
            if (2L * centres[j] + 1 > QuantizedCdf.Total - 2)
            {
                throw new InvalidOperationException($"{Name}.update: scale_table[{j}] = {table[j]} needs {2L * centres[j] + 1} values for tail mass {tail_mass}; at most {QuantizedCdf.Total - 2} can be tabled.");
            }
        }
        int[] lengths = centres.Select(c => 2 * c + 1).ToArray();
        int maxLength = lengths.Max();
        if (compressaiTables)
        {
            // CompressAI's update(): |v| for v = 0 … max − 1 about each centre, Φ(t) = ½·erfc(−t/√2), all in float32.
            using Scalar length = maxLength.ToScalar();
            Tensor distance = (arange(S(0L), length, One, ScalarType.Int32).unsqueeze(0) - tensor(centres).unsqueeze(1)).abs().to(ScalarType.Float32);
            Tensor sigma = scale_table.cpu().unsqueeze(1);
            Tensor Phi(Tensor t) => (t * S(-Math.Pow(2, -0.5))).erfc() * S(0.5);
            Tensor upper = Phi(distance.neg().add(S(0.5), One) / sigma), lower = Phi((distance.neg() - S(0.5)) / sigma);
            tables = EntropyTables.Build(upper - lower, lower[.., ..1] * S(2), lengths, centres.Select(c => -c).ToArray(), new[] { scale_table }, compressai: true);
            return true;
        }
        // Each table's values −c … c only, one table after another (a padded rectangle would compute the widest
        // table's length for every scale: 7.6 times the masses for the codec's 256 scales).
        var values = new double[lengths.Sum()];
        var scales = new double[values.Length];
        for (int j = 0, at = 0; j < centres.Length; j++)
            for (int v = -centres[j]; v <= centres[j]; v++, at++)
            {
                values[at] = v;
                scales[at] = table[j];
            }
        Tensor pmf = new NormalDensity(zeros(Array.Empty<long>(), ScalarType.Float64), tensor(scales, ScalarType.Float64)).interval_mass(tensor(values, ScalarType.Float64));
        Tensor centre = tensor(centres.Select(c => (double)c).ToArray(), ScalarType.Float64);
        Tensor tail = new NormalDensity(zeros(Array.Empty<long>(), ScalarType.Float64), tensor(table, ScalarType.Float64)).cdf(-centre - S(0.5)) * S(2);
        tables = EntropyTables.Build(pmf, tail, lengths, centres.Select(c => -c).ToArray(), new[] { scale_table });
        return true;
    }

    /// <summary>The coding tables, one per entry of the scale table, to hand to <see cref="RansEncoder"/> and <see cref="RansDecoder"/>; null before <see cref="update"/>.</summary>
    public QuantizedCdf? coding_tables => tables?.cdfs;

    /// <summary>The tables as CompressAI's <c>_quantized_cdf</c> buffer: int32 (tables, longest length), each row padded with zeros; null before <see cref="update"/>.</summary>
    public Tensor? quantized_cdf => tables?.Padded();

    /// <summary>CompressAI's <c>_offset</c>: int32 (tables), the value of each table's first entry; null before <see cref="update"/>.</summary>
    public Tensor? offset => tables?.Offsets();

    /// <summary>CompressAI's <c>_cdf_length</c>: int32 (tables), each table's length with the escape and the final 2¹⁶; null before <see cref="update"/>.</summary>
    public Tensor? cdf_length => tables?.Lengths();

    /// <summary>
    /// One stream per batch item of y (N, …): the symbols round(y − μ), each coded with the table its index names
    /// (CompressAI's <c>compress(inputs, indexes, means)</c>).
    /// </summary>
    /// <exception cref="ArgumentException">y or the indexes have the wrong dtype or shape (the indexes must have y's shape), or the means do not broadcast to y.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An entry of y or the means is not finite, a symbol does not fit in int32, or an index is outside the scale table.</exception>
    /// <exception cref="InvalidOperationException">There are no tables, or the scale table changed since <see cref="update"/>.</exception>
    public byte[][] compress(Tensor x, Tensor indexes, Tensor? means = null, RansStreamLayout layout = RansStreamLayout.SoftRound)
    {
        string member = $"{Name}.{nameof(compress)}";
        OpGuard.FloatingPoint(member, nameof(x), x);
        if (x.dim() < 1) throw new ArgumentException($"{member}: x is 0-dim; expected a batch dimension first.", nameof(x));
        OpGuard.Finite(member, nameof(x), x, x);
        if (means is not null) OpGuard.Finite(member, nameof(means), means, x);
        CheckIndexes(member, indexes, x.shape);
        QuantizedCdf cdfs = EntropyTables.Current(tables, new[] { scale_table }, member);
        using var scope = NewDisposeScope();
        return EntropyTables.Compress(quantizer.symbols(x, means), indexes, cdfs, layout);
    }

    /// <summary>ŷ = symbols + μ (in the means' dtype, float32 without means) from the streams of <see cref="compress"/>, in the shape of the indexes; equal bit for bit to the eval forward's ŷ.</summary>
    /// <exception cref="ArgumentNullException">An argument or a stream is null.</exception>
    /// <exception cref="ArgumentException">The indexes are not integers of shape (N, …) with N the number of streams, or the means do not broadcast to them.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside the scale table.</exception>
    /// <exception cref="InvalidOperationException">There are no tables, or the scale table changed since <see cref="update"/>.</exception>
    /// <exception cref="System.IO.InvalidDataException">A stream is truncated, corrupted or not from these tables (where the decoder can tell), too short for its symbols, or the indexes ask for more than <see cref="MaxDecodedElements"/> elements.</exception>
    public Tensor decompress(IReadOnlyList<byte[]> strings, Tensor indexes, Tensor? means = null, RansStreamLayout layout = RansStreamLayout.SoftRound)
    {
        string member = $"{Name}.{nameof(decompress)}";
        ArgumentNullException.ThrowIfNull(strings, nameof(strings));
        for (int i = 0; i < strings.Count; i++)
        {
            if (strings[i] is null) throw new ArgumentNullException(nameof(strings), $"{member}: strings[{i}] is null.");
        }
        OpGuard.NotNull(member, nameof(indexes), indexes);
        if (indexes.dim() < 1 || indexes.shape[0] != strings.Count)
        {
            throw new ArgumentException($"{member}: indexes has shape ({string.Join(", ", indexes.shape)}) for {strings.Count} streams; expected (N, …) with N = {strings.Count}.", nameof(indexes));
        }
        CheckIndexes(member, indexes, indexes.shape);
        if (means is not null) OpGuard.Finite(member, nameof(means), means, indexes);
        QuantizedCdf cdfs = EntropyTables.Current(tables, new[] { scale_table }, member);
        using var scope = NewDisposeScope();
        Tensor symbols = EntropyTables.Decompress(member, strings, indexes, cdfs, layout);
        return quantizer.dequantize(symbols, means).MoveToOuterDisposeScope();
    }

    /// <summary>The tables, checked to be current for the scale table (what compress and decompress code with).</summary>
    internal QuantizedCdf CurrentTables(string member) => EntropyTables.Current(tables, new[] { scale_table }, member);

    /// <summary>Installs tables read from a CompressAI checkpoint, fingerprinted with the parameters as they are now; null removes the tables.</summary>
    internal void LoadTables(QuantizedCdf? cdfs) => tables = cdfs is null ? null : EntropyTables.Of(cdfs, new[] { scale_table });

    /// <summary>Replaces the scale table without building tables (loading a checkpoint).</summary>
    internal void SetScaleTable(Tensor table)
    {
        tables = null;
        scale_table = table.to(ScalarType.Float32).to(scale_table.device).clone();
    }

    private void Check(string member, Tensor x, Tensor scales, Tensor? means)
    {
        string name = $"{Name}.{member}";
        OpGuard.FloatingPoint(name, nameof(x), x);
        OpGuard.Finite(name, nameof(x), x, x);
        OpGuard.Finite(name, nameof(scales), scales, x);
        if (means is not null) OpGuard.Finite(name, nameof(means), means, x);
    }

    private void CheckIndexes(string member, Tensor indexes, long[] shape)
    {
        OpGuard.NotNull(member, nameof(indexes), indexes);
        if (indexes.dtype is not (ScalarType.Int32 or ScalarType.Int64) || !indexes.shape.SequenceEqual(shape))
        {
            throw new ArgumentException($"{member}: indexes has dtype {indexes.dtype} and shape ({string.Join(", ", indexes.shape)}); expected int32 or int64 of shape ({string.Join(", ", shape)}).", nameof(indexes));
        }
        using var scope = NewDisposeScope();
        long count = scale_table.shape[0];
        using Scalar end = count.ToScalar();
        Tensor bad = indexes.lt(S(0)).logical_or(indexes.ge(end));
        if (bad.any().item<bool>())
        {
            long value = indexes.masked_select(bad)[0].to(ScalarType.Int64).item<long>();
            throw new ArgumentOutOfRangeException(nameof(indexes), value, $"{member}: an index is {value}; expected 0 to {count - 1}.");
        }
    }
}
