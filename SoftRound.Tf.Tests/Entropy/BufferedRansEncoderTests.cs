using System;
using System.Collections.Generic;
using System.Linq;
using CsCheck;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Entropy;
using SoftRound.Tf.Tests.Helpers;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Entropy;

[TestClass]
public sealed class BufferedRansEncoderTests
{
    private const int M = QuantizedCdf.Total;

    [TestMethod]
    public void CallsInChunks_WriteTheStreamOfOneCall_InEveryLayout()
    {
        foreach (RansStreamLayout layout in Enum.GetValues<RansStreamLayout>())
        {
            var buffered = new BufferedRansEncoder(layout);
            var whole = new RansEncoder(layout);
            RansEncoderTests.Streams.Select(Gen.Int[0, 300], Gen.Int[0, 300]).Sample((stream, a, b) =>
            {
                (QuantizedCdf cdfs, int[] symbols, int[] indexes) = stream;
                if (layout == RansStreamLayout.CompressAI) symbols = Fitting(symbols, indexes, cdfs);
                int first = Math.Min(a, symbols.Length), second = Math.Max(first, Math.Min(b, symbols.Length));
                buffered.encode_with_indexes(symbols.AsSpan(0, first), indexes.AsSpan(0, first), cdfs);
                buffered.encode_with_indexes(symbols.AsSpan(first, second - first), indexes.AsSpan(first, second - first), cdfs);
                buffered.encode_with_indexes(symbols.AsSpan(second), indexes.AsSpan(second), cdfs);
                byte[] expected = whole.encode_with_indexes(symbols, indexes, cdfs);
                CollectionAssert.AreEqual(expected, buffered.flush(), layout.ToString());
                CollectionAssert.AreEqual(symbols, new RansDecoder(layout).decode_with_indexes(expected, indexes, cdfs));
            }, iter: 500, threads: 1);
        }
    }

    [TestMethod]
    public void Flush_EmptiesTheEncoder()
    {
        var cdfs = new QuantizedCdf(new[] { new[] { 0, 100, M } }, new[] { 0 });
        var encoder = new BufferedRansEncoder();
        encoder.encode_with_indexes(new[] { 0, 0, 5 }, new[] { 0, 0, 0 }, cdfs);
        Assert.IsGreaterThan(5, encoder.flush().Length);
        CollectionAssert.AreEqual(new byte[] { 0, 0, 0, 0x80, 0 }, encoder.flush(), "the empty stream: the state 2^31 in 5 bytes");
        var compressai = new BufferedRansEncoder(RansStreamLayout.CompressAI);
        CollectionAssert.AreEqual(new byte[] { 0, 0, 0, 0x80, 0, 0, 0, 0 }, compressai.flush(), "CompressAI's empty stream: the state in 8 bytes");
    }

    [TestMethod]
    public void ACallThatThrows_AppendsNothing()
    {
        var cdfs = new QuantizedCdf(new[] { new[] { 0, 100, M } }, new[] { 0 });
        foreach (RansStreamLayout layout in Enum.GetValues<RansStreamLayout>())
        {
            var encoder = new BufferedRansEncoder(layout);
            encoder.encode_with_indexes(new[] { 0, 3 }, new[] { 0, 0 }, cdfs);
            Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => encoder.encode_with_indexes(new[] { 0, 1 }, new[] { 0, 1 }, cdfs));
            Assert.ThrowsExactly<ArgumentException>(() => encoder.encode_with_indexes(new[] { 0, 1 }, new[] { 0 }, cdfs));
            CollectionAssert.AreEqual(new RansEncoder(layout).encode_with_indexes(new[] { 0, 3 }, new[] { 0, 0 }, cdfs), encoder.flush(), layout.ToString());
        }
    }

    [TestMethod]
    public void CompressAILayout_RefusesBypassValuesAbove2To31_AndAppendsNothing()
    {
        // Table of one value at offset 0: symbol v ≥ 1 has the raw value 2(v − 1), v < 0 has −2v − 1; CompressAI's
        // decoder reads raw values into an int32.
        var cdfs = new QuantizedCdf(new[] { new[] { 0, 100, M } }, new[] { 0 });
        var encoder = new BufferedRansEncoder(RansStreamLayout.CompressAI);
        encoder.encode_with_indexes(new[] { 1 << 30, -(1 << 30) }, new[] { 0, 0 }, cdfs);
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => encoder.encode_with_indexes(new[] { 7, -(1 << 30) - 1 }, new[] { 0, 0 }, cdfs));
        Assert.AreEqual("symbols", e.ParamName);
        StringAssert.Contains(e.Message, "BufferedRansEncoder.encode_with_indexes: symbols[1] = -1073741825 lies -1073741825 from table 0's first value; CompressAI's layout carries bypass values below 2^31 only.");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => encoder.encode_with_indexes(new[] { int.MaxValue }, new[] { 0 }, cdfs));
        byte[] stream = encoder.flush();
        CollectionAssert.AreEqual(new[] { 1 << 30, -(1 << 30) }, new RansDecoder(RansStreamLayout.CompressAI).decode_with_indexes(stream, new[] { 0, 0 }, cdfs));
        // The library's own layout carries every int32.
        var own = new BufferedRansEncoder();
        own.encode_with_indexes(new[] { int.MaxValue, int.MinValue }, new[] { 0, 0 }, cdfs);
        CollectionAssert.AreEqual(new[] { int.MaxValue, int.MinValue }, new RansDecoder().decode_with_indexes(own.flush(), new[] { 0, 0 }, cdfs));
    }

    [TestMethod]
    public void CompressAILayout_WritesCompressAIsStreams_ByteForByte()
    {
        // rans.pt: CompressAI's RansEncoder on 321 symbols over three tables, escapes up to ±2^20 among them.
        using var scope = NewDisposeScope();
        Dictionary<string, Tensor> f = CompressAIFixtures.Read("rans.pt");
        (QuantizedCdf cdfs, int[] symbols, int[] indexes, byte[] expected) = RansFixture(f);
        var encoder = new BufferedRansEncoder(RansStreamLayout.CompressAI);
        encoder.encode_with_indexes(symbols.AsSpan(0, 100), indexes.AsSpan(0, 100), cdfs);
        encoder.encode_with_indexes(symbols.AsSpan(100), indexes.AsSpan(100), cdfs);
        CollectionAssert.AreEqual(expected, encoder.flush());
        CollectionAssert.AreEqual(expected, new RansEncoder(RansStreamLayout.CompressAI).encode_with_indexes(symbols, indexes, cdfs));
        // This library's layout writes the same values shorter: the state in 5 to 8 bytes, the bypass count in one digit.
        Assert.IsLessThan(expected.Length, new RansEncoder().encode_with_indexes(symbols, indexes, cdfs).Length);
    }

    [TestMethod]
    public void UndefinedLayout_IsRefused()
    {
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new BufferedRansEncoder((RansStreamLayout)7));
        StringAssert.Contains(e.Message, "BufferedRansEncoder: layout 7 is not a RansStreamLayout.");
        Assert.AreEqual("layout", e.ParamName);
        Assert.AreEqual(RansStreamLayout.CompressAI, new RansEncoder(RansStreamLayout.CompressAI).layout);
    }

    /// <summary>The tables, symbols, indexes and stream of CompressAI's coder fixture.</summary>
    internal static (QuantizedCdf cdfs, int[] symbols, int[] indexes, byte[] stream) RansFixture(Dictionary<string, Tensor> f) =>
        (EntropyTables.ParsePadded(f["cdfs"], f["lengths"], f["offsets"]), f["symbols"].data<int>().ToArray(),
            f["indexes"].data<int>().ToArray(), f["stream"].data<byte>().ToArray());

    /// <summary>The symbols with those too far outside their tables for CompressAI's layout moved back inside.</summary>
    internal static int[] Fitting(int[] symbols, int[] indexes, QuantizedCdf cdfs) =>
        symbols.Select((s, i) => Math.Abs((long)s - cdfs.offset(indexes[i])) >= int.MaxValue / 2 ? cdfs.offset(indexes[i]) : s).ToArray();
}
