using System;
using System.Linq;
using BenchmarkDotNet.Attributes;
using SoftRound.Tf.Entropy;

namespace SoftRound.Tf.Benchmarks;

/// <summary>
/// The entropy coder on one core: 1M symbols spread over 16 tables of discretized Laplace densities (scales 0.5 to 8,
/// as an entropy model's channels or scale tables give them; 2 to 80 values each, plus the escape), 1 in 10,000
/// outside its table. Times are per symbol. The baseline decodes with CompressAI's linear search for each symbol.
/// </summary>
[MemoryDiagnoser]
public class RansBenchmark
{
    private const int Symbols = 1 << 20;
    private QuantizedCdf cdfs = null!;
    private int[] symbols = null!, indexes = null!, decoded = null!;
    private byte[] stream = null!;
    private readonly RansEncoder encoder = new();
    private readonly RansDecoder decoder = new();

    /// <summary>Builds the tables, the symbols and their stream (seeded).</summary>
    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        double[] scales = Enumerable.Range(0, 16).Select(i => 0.5 * Math.Pow(16, i / 15.0)).ToArray();
        int[] halfWidths = scales.Select(s => (int)Math.Ceiling(s * Math.Log(1 / 1e-9) / 2)).ToArray();
        int[][] tables = scales.Select((s, j) =>
        {
            int w = halfWidths[j];
            double[] pmf = Enumerable.Range(-w, 2 * w + 1).Select(v => Math.Exp(-Math.Abs(v) / s)).ToArray();
            return QuantizedCdf.pmf_to_quantized_cdf(pmf, 1e-4 * pmf.Sum());
        }).ToArray();
        cdfs = new QuantizedCdf(tables, halfWidths.Select(w => -w).ToArray());
        symbols = new int[Symbols];
        indexes = new int[Symbols];
        for (int i = 0; i < Symbols; i++)
        {
            int j = random.Next(16);
            indexes[i] = j;
            double u = random.NextDouble() - 0.5;
            int v = (int)Math.Round(-scales[j] * Math.Sign(u) * Math.Log(1 - 2 * Math.Abs(u)));
            symbols[i] = random.Next(10_000) == 0 ? v * 1000 : v;
        }
        decoded = new int[Symbols];
        stream = encoder.encode_with_indexes(symbols, indexes, cdfs);
        Console.WriteLine($"{stream.Length * 8.0 / Symbols:F3} bits per symbol");
    }

    /// <summary>Encoding.</summary>
    [Benchmark(OperationsPerInvoke = Symbols)]
    public byte[] Encode() => encoder.encode_with_indexes(symbols, indexes, cdfs);

    /// <summary>Decoding with the lookup.</summary>
    [Benchmark(OperationsPerInvoke = Symbols)]
    public int Decode()
    {
        decoder.decode_with_indexes(stream, indexes, cdfs, decoded);
        return decoded[^1];
    }

    /// <summary>Decoding with a linear search from the table's start (CompressAI's way).</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Symbols)]
    public int DecodeLinear()
    {
        RansDecoder.DecodeLinear(stream, indexes, cdfs, decoded);
        return decoded[^1];
    }
}
