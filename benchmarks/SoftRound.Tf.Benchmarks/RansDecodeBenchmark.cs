using System;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using SoftRound.Tf.Entropy;

namespace SoftRound.Tf.Benchmarks;

/// <summary>
/// Decoding speed against a C baseline in one run: 10M symbols of one 33-value discretized Laplace table (scale 2,
/// 16-bit frequencies), decoded by the C byte-wise rANS decoder in the style of ryg_rans (benchmarks/rans-c, built by
/// its build.sh; the baseline) with one state and with two, and by this library's <see cref="RansDecoder"/> in each
/// layout. Both sides decode the same symbols with the same frequencies. Times are per symbol.
/// </summary>
public class RansDecodeBenchmark
{
    private const int Symbols = 10_000_000;
    private QuantizedCdf cdfs = null!;
    private int[] indexes = null!, decoded = null!;
    private uint[] cdf = null!;
    private byte[] lookup = null!, bytes = null!, cSingle = null!, cInterleaved = null!;
    private byte[] single = null!, interleaved = null!, compressai = null!;
    private readonly RansDecoder singleDecoder = new(), interleavedDecoder = new(RansStreamLayout.Interleaved), compressaiDecoder = new(RansStreamLayout.CompressAI);

    static RansDecodeBenchmark() => NativeLibrary.SetDllImportResolver(typeof(RansDecodeBenchmark).Assembly, Resolve);

    /// <summary>The table, the symbols and every decoder's stream (seeded); checks that each decodes.</summary>
    [GlobalSetup]
    public void Setup()
    {
        double[] pmf = Enumerable.Range(-16, 33).Select(v => Math.Exp(-Math.Abs(v) / 2.0)).ToArray();
        int[] table = QuantizedCdf.pmf_to_quantized_cdf(pmf, 1e-6 * pmf.Sum());
        cdfs = new QuantizedCdf(new[] { table }, new[] { 0 });
        cdf = table.Select(v => (uint)v).ToArray();
        var random = new Random(1);
        var values = new int[Symbols];
        bytes = new byte[Symbols];
        for (int i = 0; i < Symbols; i++)
        {
            uint u = (uint)random.Next(QuantizedCdf.Total);
            int v = 0;
            while (cdf[v + 1] <= u) v++;
            values[i] = Math.Min(v, 32);
            bytes[i] = (byte)values[i];
        }
        indexes = new int[Symbols];
        decoded = new int[Symbols];
        single = new RansEncoder().encode_with_indexes(values, indexes, cdfs);
        interleaved = new RansEncoder(RansStreamLayout.Interleaved).encode_with_indexes(values, indexes, cdfs);
        compressai = new RansEncoder(RansStreamLayout.CompressAI).encode_with_indexes(values, indexes, cdfs);
        lookup = new byte[QuantizedCdf.Total];
        rans_c_build_lookup(cdf, table.Length - 1, lookup);
        cSingle = CEncode(interleavedStates: false);
        cInterleaved = CEncode(interleavedStates: true);
        var output = new byte[Symbols];
        if (rans_c_decode(cSingle, output, Symbols, cdf, lookup, 0) != 0 || !output.AsSpan().SequenceEqual(bytes)) throw new InvalidOperationException("the C decoder's round trip failed");
        Console.WriteLine($"bits per symbol: C {cSingle.Length * 8.0 / Symbols:F4}, C interleaved {cInterleaved.Length * 8.0 / Symbols:F4}, " +
            $"SoftRound {single.Length * 8.0 / Symbols:F4}, interleaved {interleaved.Length * 8.0 / Symbols:F4}, CompressAI {compressai.Length * 8.0 / Symbols:F4}");
    }

    /// <summary>The C decoder with one state (the baseline).</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Symbols)]
    public int CSingleState() => rans_c_decode(cSingle, bytesOut, Symbols, cdf, lookup, 0);

    /// <summary>The C decoder with two states.</summary>
    [Benchmark(OperationsPerInvoke = Symbols)]
    public int CTwoStates() => rans_c_decode(cInterleaved, bytesOut, Symbols, cdf, lookup, 1);

    /// <summary>This library's layout, one state.</summary>
    [Benchmark(OperationsPerInvoke = Symbols)]
    public int SoftRoundLayout()
    {
        singleDecoder.decode_with_indexes(single, indexes, cdfs, decoded);
        return decoded[^1];
    }

    /// <summary>This library's interleaved layout, two states.</summary>
    [Benchmark(OperationsPerInvoke = Symbols)]
    public int InterleavedLayout()
    {
        interleavedDecoder.decode_with_indexes(interleaved, indexes, cdfs, decoded);
        return decoded[^1];
    }

    /// <summary>CompressAI's layout, one state.</summary>
    [Benchmark(OperationsPerInvoke = Symbols)]
    public int CompressAILayout()
    {
        compressaiDecoder.decode_with_indexes(compressai, indexes, cdfs, decoded);
        return decoded[^1];
    }

    private readonly byte[] bytesOut = new byte[Symbols];

    private byte[] CEncode(bool interleavedStates)
    {
        var buffer = new byte[Symbols * 2 + 64];
        int length = rans_c_encode(bytes, Symbols, cdf, buffer, buffer.Length, interleavedStates ? 1 : 0);
        return buffer[..length];
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (name != "rans_baseline") return IntPtr.Zero;
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "SoftRound.Tf.sln"))) dir = dir.Parent;
        string file = Path.Combine(dir?.FullName ?? ".", "benchmarks", "rans-c", "build", "librans_baseline.so");
        if (!File.Exists(file)) throw new FileNotFoundException($"{file} is missing: run bash benchmarks/rans-c/build.sh first.", file);
        return NativeLibrary.Load(file);
    }

    [DllImport("rans_baseline")]
    private static extern int rans_c_encode(byte[] symbols, int n, uint[] cdf, byte[] output, int capacity, int interleaved);

    [DllImport("rans_baseline")]
    private static extern void rans_c_build_lookup(uint[] cdf, int symbols, byte[] lookup);

    [DllImport("rans_baseline")]
    private static extern int rans_c_decode(byte[] stream, byte[] output, int n, uint[] cdf, byte[] lookup, int interleaved);
}
