using System;
using System.Linq;
using CsCheck;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Entropy;
using SoftRound.Tf.Tests.Helpers;

namespace SoftRound.Tf.Tests.Entropy;

[TestClass]
public sealed class QuantizedCdfTests
{
    private const int M = QuantizedCdf.Total;

    private static int[] Frequencies(int[] cdf) => cdf.Skip(1).Zip(cdf, (b, a) => b - a).ToArray();

    [TestMethod]
    public void PmfToQuantizedCdf_ExactProbabilities_AreKept()
    {
        int[] cdf = QuantizedCdf.pmf_to_quantized_cdf(new[] { 0.25, 0.5, 0.125 }, 0.125);
        CollectionAssert.AreEqual(new[] { 0, 16384, 49152, 57344, 65536 }, cdf);
    }

    [TestMethod]
    public void PmfToQuantizedCdf_UnnormalisedInput_IsNormalised()
    {
        CollectionAssert.AreEqual(QuantizedCdf.pmf_to_quantized_cdf(new[] { 0.25, 0.5, 0.125 }, 0.125),
            QuantizedCdf.pmf_to_quantized_cdf(new[] { 2.0, 4.0, 1.0 }, 1.0));
    }

    [TestMethod]
    public void PmfToQuantizedCdf_Floor_GivesEveryValueOne()
    {
        // Values far below 2^-16, a zero, and a zero tail: each still gets a frequency of 1, taken from the large one.
        int[] freq = Frequencies(QuantizedCdf.pmf_to_quantized_cdf(new[] { 1e-12, 1.0, 0.0, 1e-300 }, 0.0));
        CollectionAssert.AreEqual(new[] { 1, M - 4, 1, 1, 1 }, freq);
    }

    [TestMethod]
    public void PmfToQuantizedCdf_SingleValue()
    {
        CollectionAssert.AreEqual(new[] { 0, M - 1, M }, QuantizedCdf.pmf_to_quantized_cdf(new[] { 1.0 }, 0.0));
    }

    [TestMethod]
    public void PmfToQuantizedCdf_Properties()
    {
        // Any pmf: the frequencies are ≥ 1, sum to 2^16, stay within the repair of the rounding, and the expected code
        // length is within 0.1 % + 2^-10 bits of the entropy (the 16-bit quantization's price).
        Gen.Double[0, 1].Array[1, 400].Select(Gen.Double[0, 0.01]).Sample((pmf, tail) =>
        {
            if (pmf.Sum() + tail == 0) return;
            int[] cdf = QuantizedCdf.pmf_to_quantized_cdf(pmf, tail);
            int[] freq = Frequencies(cdf);
            double sum = pmf.Sum() + tail;
            double[] p = pmf.Append(tail).Select(v => v / sum).ToArray();
            Assert.AreEqual(pmf.Length + 2, cdf.Length);
            Assert.AreEqual(0, cdf[0]);
            Assert.AreEqual(M, cdf[^1]);
            Assert.IsTrue(freq.All(f => f >= 1));
            double entropy = -p.Where(v => v > 0).Sum(v => v * Math.Log2(v));
            double length = -p.Zip(freq, (v, f) => v * Math.Log2((double)f / M)).Sum();
            Assert.IsTrue(length <= entropy * 1.001 + 1.0 / 1024, $"code length {length} for entropy {entropy}");
        }, iter: 300, threads: 1);
    }

    [TestMethod]
    public void PmfToQuantizedCdf_BadInput_NamesTheValue()
    {
        var nan = Assert.ThrowsExactly<ArgumentException>(() => QuantizedCdf.pmf_to_quantized_cdf(new[] { 0.5, double.NaN }, 0));
        StringAssert.Contains(nan.Message, "QuantizedCdf.pmf_to_quantized_cdf: pmf[1] is NaN; expected a finite value ≥ 0.");
        Assert.AreEqual("pmf", nan.ParamName);
        var negative = Assert.ThrowsExactly<ArgumentException>(() => QuantizedCdf.pmf_to_quantized_cdf(new[] { 0.5 }, -1));
        StringAssert.Contains(negative.Message, "QuantizedCdf.pmf_to_quantized_cdf: tailMass is -1; expected a finite value ≥ 0.");
        Assert.AreEqual("tailMass", negative.ParamName);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => QuantizedCdf.pmf_to_quantized_cdf(Array.Empty<double>(), 1)).Message, "pmf has 0 entries");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => QuantizedCdf.pmf_to_quantized_cdf(new double[M], 1)).Message, "pmf has 65536 entries; expected 1 to 65535.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => QuantizedCdf.pmf_to_quantized_cdf(new[] { 0.0 }, 0)).Message, "sum to 0");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => QuantizedCdf.pmf_to_quantized_cdf(new[] { 1e308, 1e308 }, 0)).Message, "sum to Infinity");
    }

    [TestMethod]
    public void Constructor_BadTables_NameTheTableAndEntry()
    {
        ArgumentException Bad(int[] table) => Assert.ThrowsExactly<ArgumentException>(() => new QuantizedCdf(new[] { new[] { 0, 5, M }, table }, new[] { 0, 0 }));
        StringAssert.Contains(Bad(new[] { 0, M }).Message, "QuantizedCdf: cdfs[1] has 2 entries; expected 3 to 65537 (the regular values, the tail and one).");
        StringAssert.Contains(Bad(Enumerable.Range(0, M + 2).Select(i => Math.Min(i, M)).ToArray()).Message, "QuantizedCdf: cdfs[1] has 65538 entries; expected 3 to 65537");
        StringAssert.Contains(Bad(new[] { 1, 5, M }).Message, "cdfs[1][0] is 1; expected 0");
        StringAssert.Contains(Bad(new[] { 0, 5, M - 1 }).Message, "cdfs[1][2] is 65535; expected 65536");
        StringAssert.Contains(Bad(new[] { 0, 5, 5, M }).Message, "cdfs[1][2] is 5, not above cdfs[1][1] = 5");
        Assert.AreEqual(M + 1, new QuantizedCdf(new[] { Enumerable.Range(0, M + 1).ToArray() }, new[] { 0 }).length(0), "65537 entries: 65535 values of frequency 1 and the tail");
        foreach (int[] table in new[] { new[] { 0, M }, new[] { 1, 5, M }, new[] { 0, 5, M - 1 }, new[] { 0, 5, 5, M } }) Assert.AreEqual("cdfs", Bad(table).ParamName);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => new QuantizedCdf(new[] { new[] { 0, 5, M } }, new[] { 0, 1 })).Message, "offsets has 2 entries for 1 tables");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => new QuantizedCdf(Array.Empty<int[]>(), Array.Empty<int>())).Message, "cdfs is empty");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentNullException>(() => new QuantizedCdf(new int[][] { null! }, new[] { 0 })).Message, "cdfs[0] is null");
    }

    [TestMethod]
    public void Constructor_CopiesTheTables()
    {
        int[] table = { 0, 100, M };
        var cdfs = new QuantizedCdf(new[] { table }, new[] { -3 });
        table[1] = 7;
        CollectionAssert.AreEqual(new[] { 0, 100, M }, cdfs.table(0));
        Assert.AreEqual(-3, cdfs.offset(0));
        Assert.AreEqual(3, cdfs.length(0));
        Assert.AreEqual(1, cdfs.count);
    }

    /// <summary>Random valid tables: 1 to 6 of them, 3 to 400 entries, frequencies from 1 up (often 1, the precision floor).</summary>
    internal static readonly Gen<QuantizedCdf> Tables =
        Gen.Select(Gen.Int[3, 400], Gen.Int[-50, 50], Gen.Bool, Gen.Int[0, int.MaxValue])
            .Select((length, offset, spiky, seed) => (table: RandomTable(new Random(seed), length, spiky), offset))
            .Array[1, 6]
            .Select(t => new QuantizedCdf(t.Select(e => e.table).ToArray(), t.Select(e => e.offset).ToArray()));

    internal static int[] RandomTable(Random random, int length, bool spiky)
    {
        int values = length - 1;
        double[] weights = Enumerable.Range(0, values).Select(_ => spiky ? Math.Pow(random.NextDouble(), 12) : random.NextDouble()).ToArray();
        return QuantizedCdf.pmf_to_quantized_cdf(weights.AsSpan(0, values - 1), weights[^1] + 1e-12);
    }

    [TestMethod]
    public void Find_MatchesTheLinearSearch_ForEverySlot()
    {
        Tables.Sample(cdfs =>
        {
            for (int j = 0; j < cdfs.count; j++)
            {
                for (uint slot = 0; slot < M; slot++)
                {
                    int fast = cdfs.Find(j, slot, out uint start, out uint freq);
                    int slow = cdfs.FindLinear(j, slot, out uint start2, out uint freq2);
                    if (fast != slow || start != start2 || freq != freq2) Assert.Fail($"table {j} slot {slot}: {fast} vs {slow}");
                }
            }
        }, iter: 20, threads: 1);
    }

    [TestMethod]
    public void CompressAIQuantization_IsCompressAIs_BitForBit()
    {
        // pmf_to_quantized_cdf.pt: 40 float32 pmfs, sharp to flat, and what CompressAI's C++ function made of them.
        using var scope = TorchSharp.torch.NewDisposeScope();
        var f = CompressAIFixtures.Read("pmf_to_quantized_cdf.pt");
        int[] lengths = f["lengths"].data<int>().ToArray();
        for (int i = 0; i < lengths.Length; i++)
        {
            float[] row = f["pmfs"][i].data<float>().ToArray()[..lengths[i]];
            int[] expected = f["cdfs"][i].data<int>().ToArray()[..(lengths[i] + 1)];
            CollectionAssert.AreEqual(expected, QuantizedCdf.pmf_to_quantized_cdf_compressai(row.AsSpan(0, row.Length - 1), row[^1]), $"row {i}");
        }
    }

    [TestMethod]
    public void CompressAIQuantization_GivesEveryValueAUnit_AndRefusesBadInput()
    {
        // Rounded: 32768, 0, 32761, 0 (sum 65529); rescaled ⌊65536·f/65529⌋: 32771, 0, 32764, 0; summed, the last entry
        // set to 2^16: 0, 32771, 32771, 65535, 65536. The second value's 0 takes a unit from the least frequent value
        // above 1 (the third, 32764), shifting the entries between them.
        int[] cdf = QuantizedCdf.pmf_to_quantized_cdf_compressai(new[] { 0.5f, 1e-9f, 0.4999f }, 1e-9f);
        CollectionAssert.AreEqual(new[] { 0, 32771, 32772, 65535, 65536 }, cdf);
        var e = Assert.ThrowsExactly<ArgumentException>(() => QuantizedCdf.pmf_to_quantized_cdf_compressai(new[] { 0.5f, float.NaN }, 0));
        StringAssert.Contains(e.Message, "QuantizedCdf.pmf_to_quantized_cdf_compressai: pmf[1] is NaN; expected a finite value ≥ 0.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => QuantizedCdf.pmf_to_quantized_cdf_compressai(new[] { 0.5f }, -1)).Message, "tailMass is -1");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => QuantizedCdf.pmf_to_quantized_cdf_compressai(new[] { 1e-9f }, 0)).Message, "every probability rounds to 0 in 16 bits.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => QuantizedCdf.pmf_to_quantized_cdf_compressai(ReadOnlySpan<float>.Empty, 1)).Message, "pmf has 0 entries; expected 1 to 65535.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => QuantizedCdf.pmf_to_quantized_cdf_compressai(new float[M], 1)).Message, "pmf has 65536 entries; expected 1 to 65535.");
    }
}
