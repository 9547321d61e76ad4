using System;
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
}
