using System;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography;
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

    /// <summary>Copies of the tables, one per index (CompressAI's <c>_quantized_cdf</c> rows without their padding).</summary>
    public int[][] Copies() => Enumerable.Range(0, cdfs.count).Select(cdfs.table).ToArray();

    /// <summary>
    /// Tables from probabilities: row j of <paramref name="pmf"/> (float64, (tables, max length)) holds
    /// <paramref name="lengths"/>[j] regular values starting at value <paramref name="offsets"/>[j], and
    /// <paramref name="tail"/>[j] is the mass outside them.
    /// </summary>
    public static EntropyTables Build(Tensor pmf, Tensor tail, int[] lengths, int[] offsets, IEnumerable<Tensor> parameters)
    {
        int count = lengths.Length;
        double[] all = pmf.to(ScalarType.Float64).cpu().contiguous().data<double>().ToArray();
        double[] tails = tail.to(ScalarType.Float64).cpu().contiguous().data<double>().ToArray();
        long width = pmf.shape[1];
        var tables = new int[count][];
        for (int j = 0; j < count; j++)
        {
            tables[j] = QuantizedCdf.pmf_to_quantized_cdf(all.AsSpan((int)(j * width), lengths[j]), tails[j]);
        }
        return new EntropyTables(new QuantizedCdf(tables, offsets), Fingerprint(parameters));
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
    public static byte[][] Compress(Tensor symbols, Tensor indexes, QuantizedCdf cdfs)
    {
        int n = (int)symbols.shape[0];
        int[] s = Ints(symbols);
        int[] idx = Ints(indexes);
        int per = n == 0 ? 0 : s.Length / n;
        var encoder = new RansEncoder();
        var strings = new byte[n][];
        for (int i = 0; i < n; i++) strings[i] = encoder.encode_with_indexes(s.AsSpan(i * per, per), idx.AsSpan(i * per, per), cdfs);
        return strings;
    }

    /// <summary>The int32 symbols of <paramref name="strings"/>, in the shape of <paramref name="indexes"/> (batch first).</summary>
    public static Tensor Decompress(IReadOnlyList<byte[]> strings, Tensor indexes, QuantizedCdf cdfs)
    {
        int n = (int)indexes.shape[0];
        int[] idx = Ints(indexes);
        int per = n == 0 ? 0 : idx.Length / n;
        var symbols = new int[idx.Length];
        var decoder = new RansDecoder();
        for (int i = 0; i < n; i++) decoder.decode_with_indexes(strings[i], idx.AsSpan(i * per, per), cdfs, symbols.AsSpan(i * per, per));
        return tensor(symbols, indexes.shape, ScalarType.Int32);
    }

    /// <summary>The entries as int32, in row-major order (TorchSharp's accessor cannot copy an empty tensor).</summary>
    private static int[] Ints(Tensor t) => t.numel() == 0 ? Array.Empty<int>() : t.to(ScalarType.Int32).cpu().contiguous().data<int>().ToArray();
}
