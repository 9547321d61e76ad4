using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Entropy;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Entropy;

[TestClass]
public sealed class EntropyTablesTests
{
    private static Tensor Padded() => tensor(new int[,] { { 0, 30000, 65535, 65536 }, { 0, 65535, 65536, 0 } });

    [TestMethod]
    public void ParsePadded_ReadsCompressAIsLayout()
    {
        using var scope = NewDisposeScope();
        QuantizedCdf cdfs = EntropyTables.ParsePadded(Padded(), tensor(new[] { 4, 3 }), tensor(new[] { -1, 0 }));
        Assert.AreEqual(4, cdfs.length(0));
        Assert.AreEqual(3, cdfs.length(1));
    }

    [TestMethod]
    public void ParsePadded_RefusesShapesAndDtypesThatDoNotFit_NamingThem()
    {
        using var scope = NewDisposeScope();
        Tensor lengths = tensor(new[] { 4, 3 }), offsets = tensor(new[] { -1, 0 });
        string Refused(Tensor padded, Tensor l, Tensor o) => Assert.ThrowsExactly<ArgumentException>(() => EntropyTables.ParsePadded(padded, l, o)).Message;
        StringAssert.Contains(Refused(Padded().flatten(), lengths, offsets), "the tables have shapes (8), (2) and (2); expected (n, w), (n) and (n).");
        StringAssert.Contains(Refused(Padded(), lengths[..1], offsets), "the tables have shapes (2, 4), (1) and (2);");
        StringAssert.Contains(Refused(Padded(), lengths, offsets.unsqueeze(0)), "the tables have shapes (2, 4), (2) and (1, 2);");
        StringAssert.Contains(Refused(Padded().to(ScalarType.Float32), lengths, offsets), "the tables have dtypes Float32, Int32 and Int32; expected integers.");
        StringAssert.Contains(Refused(Padded(), lengths.to(ScalarType.Int16), offsets), "the tables have dtypes Int32, Int16 and Int32;");
        StringAssert.Contains(Refused(Padded(), lengths, offsets.to(ScalarType.Float64)), "the tables have dtypes Int32, Int32 and Float64;");
    }

    [TestMethod]
    public void Build_EachRowIsItsOwnQuantization_InOrder()
    {
        // 300 rows of different lengths (flat, one after another) and the same as a padded rectangle, both quantizers:
        // row j of the tables is exactly pmf_to_quantized_cdf of row j alone, whichever thread built it.
        using var scope = NewDisposeScope();
        var random = new Random(7);
        int[] lengths = Enumerable.Range(0, 300).Select(j => 1 + random.Next(1 + j)).ToArray();
        int width = lengths.Max();
        double[][] rows = lengths.Select(n => Enumerable.Range(0, n).Select(_ => Math.Pow(random.NextDouble(), 4)).ToArray()).ToArray();
        double[] tails = lengths.Select(_ => random.NextDouble() * 1e-3).ToArray();
        int[] offsets = lengths.Select(n => -n / 2).ToArray();
        var padded = new double[lengths.Length * width];
        for (int j = 0; j < rows.Length; j++) rows[j].CopyTo(padded, j * width);
        Tensor flat = tensor(rows.SelectMany(r => r).ToArray()), rectangle = tensor(padded, new long[] { lengths.Length, width }), tail = tensor(tails);
        foreach (Tensor pmf in new[] { flat, rectangle })
        {
            QuantizedCdf own = EntropyTables.Build(pmf, tail, lengths, offsets, Array.Empty<Tensor>()).cdfs;
            QuantizedCdf compressai = EntropyTables.Build(pmf, tail, lengths, offsets, Array.Empty<Tensor>(), compressai: true).cdfs;
            for (int j = 0; j < rows.Length; j++)
            {
                CollectionAssert.AreEqual(QuantizedCdf.pmf_to_quantized_cdf(rows[j], tails[j]), own.table(j), $"row {j}");
                CollectionAssert.AreEqual(QuantizedCdf.pmf_to_quantized_cdf_compressai(rows[j].Select(v => (float)v).ToArray(), (float)tails[j]), compressai.table(j), $"row {j}");
                Assert.AreEqual(offsets[j], own.offset(j));
            }
        }
    }

    [TestMethod]
    public void Build_ABadRow_ThrowsTheLowestRowsExceptionAsThrown()
    {
        // Rows 1 and 3 of 64 are bad (a NaN at position 2, a negative value at position 0): the exception is row 1's,
        // the ArgumentException pmf_to_quantized_cdf throws, not an AggregateException.
        using var scope = NewDisposeScope();
        double[] pmf = Enumerable.Repeat(0.25, 64 * 3).ToArray();
        pmf[3 + 2] = double.NaN;
        pmf[9] = -1;
        int[] lengths = Enumerable.Repeat(3, 64).ToArray();
        var e = Assert.ThrowsExactly<ArgumentException>(() => EntropyTables.Build(tensor(pmf), zeros(64, ScalarType.Float64), lengths, new int[64], Array.Empty<Tensor>()));
        StringAssert.Contains(e.Message, "pmf[2] is NaN");
    }
}
