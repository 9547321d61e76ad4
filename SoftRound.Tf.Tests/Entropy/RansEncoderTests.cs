using System;
using System.Linq;
using CsCheck;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Entropy;

namespace SoftRound.Tf.Tests.Entropy;

[TestClass]
public sealed class RansEncoderTests
{
    private const int M = QuantizedCdf.Total;

    /// <summary>Tables, then symbols (inside the tables, just outside, and anywhere in int32) with their indexes.</summary>
    internal static readonly Gen<(QuantizedCdf cdfs, int[] symbols, int[] indexes)> Streams =
        QuantizedCdfTests.Tables.SelectMany(cdfs =>
            Gen.Select(Gen.Int[0, cdfs.count - 1], Gen.Frequency((6, Gen.Int[-3, 420]), (1, Gen.Int[-2000, 2000]), (1, Gen.Int)))
                .Array[0, 300]
                .Select(pairs => (cdfs, pairs.Select(p => p.Item2).ToArray(), pairs.Select(p => p.Item1).ToArray())));

    [TestMethod]
    public void RoundTrip_IsExact_ForAnySymbolsAndTables()
    {
        var encoder = new RansEncoder();
        var decoder = new RansDecoder();
        Streams.Sample((cdfs, symbols, indexes) =>
        {
            byte[] stream = encoder.encode_with_indexes(symbols, indexes, cdfs);
            CollectionAssert.AreEqual(symbols, decoder.decode_with_indexes(stream, indexes, cdfs));
            var linear = new int[symbols.Length];
            RansDecoder.DecodeLinear(stream, indexes, cdfs, linear);
            CollectionAssert.AreEqual(symbols, linear);
        }, iter: 2000, threads: 1);
    }

    [TestMethod]
    public void RoundTrip_Extremes()
    {
        var cdfs = new QuantizedCdf(new[] { new[] { 0, 1, M }, new[] { 0, 30000, 60000, M } }, new[] { int.MaxValue, int.MinValue });
        int[] symbols = { int.MinValue, int.MaxValue, 0, -1, int.MinValue, int.MinValue + 1, int.MaxValue, 1, 2 };
        int[] indexes = { 0, 0, 0, 1, 1, 1, 1, 1, 0 };
        byte[] stream = new RansEncoder().encode_with_indexes(symbols, indexes, cdfs);
        CollectionAssert.AreEqual(symbols, new RansDecoder().decode_with_indexes(stream, indexes, cdfs));
    }

    [TestMethod]
    public void State_ExactlyAtTheRenormalisationLimit_EmitsAWord()
    {
        // A value of frequency 1 at start 0 takes the state from 2^31 to exactly 2^47 = (2^31 / 2^16)·2^32·1, the limit at
        // which the next symbol must first emit the low word; without that the state would reach 2^63, outside the format.
        var cdfs = new QuantizedCdf(new[] { new[] { 0, 1, M } }, new[] { 0 });
        int[] symbols = { 0, 0 };
        int[] indexes = { 0, 0 };
        byte[] stream = new RansEncoder().encode_with_indexes(symbols, indexes, cdfs);
        // The second symbol emits the low word (0) of 2^47 and takes 2^15 back to 2^31: the final state in 5 bytes, then the word.
        CollectionAssert.AreEqual(new byte[] { 0, 0, 0, 0x80, 0, 0, 0, 0, 0 }, stream);
        CollectionAssert.AreEqual(symbols, new RansDecoder().decode_with_indexes(stream, indexes, cdfs));
    }

    [TestMethod]
    public void Empty_IsTheInitialState()
    {
        var cdfs = new QuantizedCdf(new[] { new[] { 0, 1, M } }, new[] { 0 });
        byte[] stream = new RansEncoder().encode_with_indexes(ReadOnlySpan<int>.Empty, ReadOnlySpan<int>.Empty, cdfs);
        CollectionAssert.AreEqual(new byte[] { 0, 0, 0, 0x80, 0 }, stream);
        Assert.AreEqual(0, new RansDecoder().decode_with_indexes(stream, ReadOnlySpan<int>.Empty, cdfs).Length);
    }

    [TestMethod]
    [TestCategory("Long")]
    public void TenMillionSymbols_RoundTrip_AtTheModelsCost()
    {
        // A discretized Laplace over 33 values in one table and a skewed one in the other.
        var random = new Random(7);
        int[] laplace = QuantizedCdf.pmf_to_quantized_cdf(Enumerable.Range(-16, 33).Select(v => Math.Exp(-Math.Abs(v) / 2.0)).ToArray(), 1e-6);
        int[] skewed = QuantizedCdf.pmf_to_quantized_cdf(new[] { 0.97, 0.02, 0.01 }, 1e-6);
        var cdfs = new QuantizedCdf(new[] { laplace, skewed }, new[] { -16, 0 });
        const int N = 10_000_000;
        var symbols = new int[N];
        var indexes = new int[N];
        double bits = 0;
        for (int i = 0; i < N; i++)
        {
            indexes[i] = i & 1;
            double u = random.NextDouble();
            int[] table = indexes[i] == 0 ? laplace : skewed;
            int v = 0;
            while (table[v + 1] <= u * M) v++;
            symbols[i] = v + cdfs.offset(indexes[i]);
            bits -= Math.Log2((table[v + 1] - table[v]) / (double)M);
        }
        byte[] stream = new RansEncoder().encode_with_indexes(symbols, indexes, cdfs);
        CollectionAssert.AreEqual(symbols, new RansDecoder().decode_with_indexes(stream, indexes, cdfs));
        // rANS with a 64-bit state codes within a hair of −Σ log2(f/2^16); the flush costs at most 40 bits.
        Assert.IsTrue(stream.Length * 8 <= bits * 1.0001 + 40, $"{stream.Length * 8} bits written for {bits}");
        Assert.IsTrue(stream.Length * 8 >= bits, $"{stream.Length * 8} bits written for {bits}");
    }

    [TestMethod]
    public void Size_IsTheCodeLengthPlusAtMost40Bits()
    {
        Streams.Sample((cdfs, symbols, indexes) =>
        {
            double bits = 0;
            for (int i = 0; i < symbols.Length; i++)
            {
                int[] table = cdfs.table(indexes[i]);
                int max = table.Length - 2;
                long v = (long)symbols[i] - cdfs.offset(indexes[i]);
                bool inside = v >= 0 && v < max;
                int at = inside ? (int)v : max;
                bits -= Math.Log2((table[at + 1] - table[at]) / (double)M);
                if (!inside)
                {
                    ulong raw = v < 0 ? (ulong)(-2 * v - 1) : (ulong)(2 * (v - max));
                    int digits = 0;
                    while (raw >> (4 * digits) != 0) digits++;
                    bits += 4 * (digits + 1);
                }
            }
            byte[] stream = new RansEncoder().encode_with_indexes(symbols, indexes, cdfs);
            Assert.IsTrue(stream.Length * 8 <= bits * 1.0001 + 40, $"{stream.Length * 8} bits written for {bits}");
        }, iter: 500, threads: 1);
    }

    [TestMethod]
    public void BadIndexes_NameThePositionAndValue()
    {
        var cdfs = new QuantizedCdf(new[] { new[] { 0, 1, M } }, new[] { 0 });
        var encoder = new RansEncoder();
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => encoder.encode_with_indexes(new[] { 1, 2 }, new[] { 0, 1 }, cdfs));
        StringAssert.Contains(e.Message, "RansEncoder.encode_with_indexes: indexes[1] is 1; expected 0 to 0.");
        Assert.AreEqual("indexes", e.ParamName);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => encoder.encode_with_indexes(new[] { 1 }, new[] { -1 }, cdfs)).Message, "indexes[0] is -1");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => encoder.encode_with_indexes(new[] { 1, 2 }, new[] { 0 }, cdfs)).Message,
            "RansEncoder.encode_with_indexes: indexes has 1 entries for 2 symbols.");
        Assert.ThrowsExactly<ArgumentNullException>(() => encoder.encode_with_indexes(new[] { 1 }, new[] { 0 }, null!));
    }
}
