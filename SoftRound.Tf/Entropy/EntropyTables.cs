using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using System.Threading.Tasks;
using static TorchSharp.torch;

namespace SoftRound.Tf.Entropy;

/// <summary>
/// The coding tables an entropy model builds in <c>update()</c>: one <see cref="QuantizedCdf"/> table per index, and
/// a fingerprint of the parameters they were built from, so that coding with tables older than the parameters fails
/// loudly instead of writing a stream the other side cannot read. Shared by <see cref="EntropyBottleneck"/> and
/// <see cref="GaussianConditional"/>, which also share the per-item coding loop here.
/// </summary>
internal sealed class EntropyTables
{
    private readonly byte[] fingerprint;

    private EntropyTables(QuantizedCdf cdfs, byte[] fingerprint)
    {
        this.cdfs = cdfs;
        this.fingerprint = fingerprint;
    }

    /// <summary>The tables.</summary>
    public QuantizedCdf cdfs { get; }

    /// <summary>The tables as CompressAI's <c>_quantized_cdf</c>: int32 (tables, longest length), rows padded with zeros.</summary>
    public Tensor Padded()
    {
        int width = Enumerable.Range(0, cdfs.count).Max(cdfs.length);
        var all = new int[cdfs.count * width];
        for (int j = 0; j < cdfs.count; j++) cdfs.table(j).CopyTo(all, j * width);
        return tensor(all, new long[] { cdfs.count, width }, ScalarType.Int32);
    }

    /// <summary>CompressAI's <c>_offset</c>: each table's offset, int32.</summary>
    public Tensor Offsets() => tensor(Enumerable.Range(0, cdfs.count).Select(cdfs.offset).ToArray(), ScalarType.Int32);

    /// <summary>CompressAI's <c>_cdf_length</c>: each table's length, int32.</summary>
    public Tensor Lengths() => tensor(Enumerable.Range(0, cdfs.count).Select(cdfs.length).ToArray(), ScalarType.Int32);

    /// <summary>
    /// Tables from probabilities: row j of <paramref name="pmf"/> ((tables, max length), or 1-D with the rows one after
    /// another, each only its length long) holds <paramref name="lengths"/>[j] regular values starting at value
    /// <paramref name="offsets"/>[j], and <paramref name="tail"/>[j] is the mass outside them; quantized by
    /// <see cref="QuantizedCdf.pmf_to_quantized_cdf"/> in float64, or with <paramref name="compressai"/> by
    /// <see cref="QuantizedCdf.pmf_to_quantized_cdf_compressai"/> in float32 (CompressAI's <c>_pmf_to_cdf</c>).
    /// </summary>
    public static EntropyTables Build(Tensor pmf, Tensor tail, int[] lengths, int[] offsets, IEnumerable<Tensor> parameters, bool compressai = false)
    {
        int count = lengths.Length;
        var starts = new int[count];
        for (int j = 1; j < count; j++) starts[j] = pmf.dim() == 1 ? starts[j - 1] + lengths[j - 1] : (int)(j * pmf.shape[1]);
        var tables = new int[count][];
        if (compressai)
        {
            float[] all = pmf.to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
            float[] tails = tail.to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
            QuantizeEach(tables, j => QuantizedCdf.pmf_to_quantized_cdf_compressai(all.AsSpan(starts[j], lengths[j]), tails[j]));
        }
        else
        {
            double[] all = pmf.to(ScalarType.Float64).cpu().contiguous().data<double>().ToArray();
            double[] tails = tail.to(ScalarType.Float64).cpu().contiguous().data<double>().ToArray();
            QuantizeEach(tables, j => QuantizedCdf.pmf_to_quantized_cdf(all.AsSpan(starts[j], lengths[j]), tails[j]));
        }
        return Of(new QuantizedCdf(tables, offsets), parameters);
    }

    /// <summary>
    /// tables[j] = quantize(j) for every j, on the thread pool (the tables are independent, each a pure function of
    /// its row, so the result is the same as one after another: the codec's 256 Gaussian tables, about 10⁵ values, are
    /// most of a model's load time). An exception is rethrown as thrown, that of the lowest j that threw.
    /// </summary>
    private static void QuantizeEach(int[][] tables, Func<int, int[]> quantize)
    {
        var errors = new Exception?[tables.Length];
        Parallel.For(0, tables.Length, j =>
        {
            try
            {
                tables[j] = quantize(j);
            }
            catch (Exception e)
            {
                errors[j] = e;
            }
        });
        Exception? first = errors.FirstOrDefault(e => e is not null);
        if (first is not null) ExceptionDispatchInfo.Capture(first).Throw();
    }

    /// <summary>SHA-256 over the shapes and float64 values of <paramref name="parameters"/>.</summary>
    public static byte[] Fingerprint(IEnumerable<Tensor> parameters)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var noGrad = no_grad();
        foreach (Tensor p in parameters)
        {
            foreach (long d in p.shape) hash.AppendData(BitConverter.GetBytes(d));
            using Tensor values = p.detach().to(ScalarType.Float64).cpu().contiguous();
            double[] data = values.data<double>().ToArray();
            hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan()));
        }
        return hash.GetHashAndReset();
    }

    /// <summary>
    /// Tables given as CompressAI stores them: <c>_quantized_cdf</c> rows padded to one length, <c>_cdf_length</c>
    /// and <c>_offset</c>, each validated as <see cref="QuantizedCdf"/> validates tables.
    /// </summary>
    /// <exception cref="ArgumentException">The three do not describe valid tables (the message says which and where).</exception>
    public static QuantizedCdf ParsePadded(Tensor padded, Tensor lengths, Tensor offsets)
    {
        if (padded.dim() != 2 || lengths.dim() != 1 || offsets.dim() != 1 || lengths.shape[0] != padded.shape[0] || offsets.shape[0] != padded.shape[0])
        {
            throw new ArgumentException($"the tables have shapes ({string.Join(", ", padded.shape)}), ({string.Join(", ", lengths.shape)}) and ({string.Join(", ", offsets.shape)}); expected (n, w), (n) and (n).");
        }
        if (padded.dtype is not (ScalarType.Int32 or ScalarType.Int64) || lengths.dtype is not (ScalarType.Int32 or ScalarType.Int64) || offsets.dtype is not (ScalarType.Int32 or ScalarType.Int64))
        {
            throw new ArgumentException($"the tables have dtypes {padded.dtype}, {lengths.dtype} and {offsets.dtype}; expected integers.");
        }
        int n = (int)padded.shape[0], width = (int)padded.shape[1];
        int[] all = Ints(padded), length = Ints(lengths), offset = Ints(offsets);
        var rows = new int[n][];
        for (int j = 0; j < n; j++)
        {
            if (length[j] < 0 || length[j] > width) throw new ArgumentException($"_cdf_length[{j}] is {length[j]}; expected 0 to {width}.");
            rows[j] = all.AsSpan(j * width, length[j]).ToArray();
        }
        return new QuantizedCdf(rows, offset);
    }

    /// <summary>Given tables, fingerprinted with <paramref name="parameters"/> as they are now.</summary>
    public static EntropyTables Of(QuantizedCdf cdfs, IEnumerable<Tensor> parameters) => new(cdfs, Fingerprint(parameters));

    /// <summary>Throws unless the tables exist and were built from <paramref name="parameters"/> as they are now.</summary>
    public static QuantizedCdf Current(EntropyTables? tables, IEnumerable<Tensor> parameters, string member)
    {
        if (tables is null) throw new InvalidOperationException($"{member}: there are no coding tables yet; call update() first.");
        if (!tables.fingerprint.AsSpan().SequenceEqual(Fingerprint(parameters)))
        {
            throw new InvalidOperationException($"{member}: the parameters changed since update() built the coding tables (training or loading); call update() again so that both sides code with the same tables.");
        }
        return tables.cdfs;
    }

    /// <summary>One stream per batch item: item i's symbols (int32, any shape after the batch dimension) with its indexes.</summary>
    public static byte[][] Compress(Tensor symbols, Tensor indexes, QuantizedCdf cdfs, RansStreamLayout layout)
    {
        int n = (int)symbols.shape[0];
        int[] s = Ints(symbols);
        int[] idx = Ints(indexes);
        int per = n == 0 ? 0 : s.Length / n;
        var encoder = new RansEncoder(layout);
        var strings = new byte[n][];
        for (int i = 0; i < n; i++) strings[i] = encoder.encode_with_indexes(s.AsSpan(i * per, per), idx.AsSpan(i * per, per), cdfs);
        return strings;
    }

    /// <summary>The most elements a model's <c>decompress</c> allocates: 2²⁸ (1 GiB of int32 symbols).</summary>
    public const long MaxElements = 1L << 28;

    /// <summary>
    /// Throws before anything is allocated when a decompress call asks for more than <see cref="MaxElements"/>
    /// elements, or when stream i cannot hold its symbols: <paramref name="leastBits"/>(i), a lower bound on the bits
    /// they need, exceeds the stream's 8·length bits.
    /// </summary>
    public static void CheckRequest(string member, IReadOnlyList<byte[]> strings, long elements, Func<int, double> leastBits)
    {
        if (elements > MaxElements)
        {
            throw new System.IO.InvalidDataException($"{member}: the request is for {elements} elements; at most {MaxElements} are decoded in one call.");
        }
        for (int i = 0; i < strings.Count; i++)
        {
            double bits = leastBits(i);
            if (bits > 8.0 * strings[i].Length)
            {
                throw new System.IO.InvalidDataException($"{member}: strings[{i}] has {strings[i].Length} bytes, but its {elements / Math.Max(1, strings.Count)} symbols need at least {Math.Ceiling(bits / 8)} with these tables; the stream is truncated or the size is wrong.");
            }
        }
    }

    /// <summary>The int32 symbols of <paramref name="strings"/>, in the shape of <paramref name="indexes"/> (batch first), after <see cref="CheckRequest"/>.</summary>
    public static Tensor Decompress(string member, IReadOnlyList<byte[]> strings, Tensor indexes, QuantizedCdf cdfs, RansStreamLayout layout)
    {
        int n = (int)indexes.shape[0];
        CheckRequest(member, strings, indexes.numel(), _ => 0);
        int[] idx = Ints(indexes);
        int per = n == 0 ? 0 : idx.Length / n;
        CheckRequest(member, strings, idx.Length, i =>
        {
            double bits = 0;
            foreach (int j in idx.AsSpan(i * per, per)) bits += cdfs.LeastBits(j);
            return bits;
        });
        var symbols = new int[idx.Length];
        var decoder = new RansDecoder(layout);
        for (int i = 0; i < n; i++) decoder.decode_with_indexes(strings[i], idx.AsSpan(i * per, per), cdfs, symbols.AsSpan(i * per, per));
        return tensor(symbols, indexes.shape, ScalarType.Int32);
    }

    /// <summary>The entries as int32, in row-major order, on the host (TorchSharp's accessor cannot copy an empty tensor).</summary>
    internal static int[] Ints(Tensor t) => t.numel() == 0 ? Array.Empty<int>() : t.to(ScalarType.Int32).cpu().contiguous().data<int>().ToArray();
}
