using System;
using System.IO;
using System.Linq;
using CsCheck;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Entropy;

namespace SoftRound.Tf.Tests.Entropy;

[TestClass]
public sealed class RansDecoderTests
{
    private const int M = QuantizedCdf.Total;

    /// <summary>Decodes, allowing only <see cref="InvalidDataException"/>; true when the damage was seen.</summary>
    private static bool Detected(byte[] stream, int[] indexes, QuantizedCdf cdfs, RansStreamLayout layout = RansStreamLayout.SoftRound)
    {
        try
        {
            new RansDecoder(layout).decode_with_indexes(stream, indexes, cdfs);
            return false;
        }
        catch (InvalidDataException e)
        {
            StringAssert.StartsWith(e.Message, "RansDecoder.decode_with_indexes: the stream is truncated, corrupted or was written with other tables");
            return true;
        }
    }

    [TestMethod]
    public void RandomBytes_NeverCrash()
    {
        // Any bytes, any tables and counts, in every layout: an InvalidDataException or some symbols, never another
        // exception or a hang; the incremental decoder likewise, in two calls.
        Gen.Select(QuantizedCdfTests.Tables, Gen.Byte.Array[0, 200], Gen.Int[0, 400], Gen.Int[0, int.MaxValue]).Sample((cdfs, bytes, n, seed) =>
        {
            var random = new Random(seed);
            int[] indexes = Enumerable.Range(0, n).Select(_ => random.Next(cdfs.count)).ToArray();
            var layout = (RansStreamLayout)(seed % 3);
            Detected(bytes, indexes, cdfs, layout);
            var decoder = new RansDecoder(layout);
            try
            {
                decoder.set_stream(bytes);
                decoder.decode_stream(indexes.AsSpan(0, n / 2), cdfs);
                decoder.decode_stream(indexes.AsSpan(n / 2), cdfs);
                decoder.finish();
            }
            catch (InvalidDataException e)
            {
                StringAssert.StartsWith(e.Message, "RansDecoder.");
            }
        }, iter: 3000, threads: 1);
    }

    [TestMethod]
    public void Truncation_IsAlwaysSeen()
    {
        RansEncoderTests.Streams.Sample((cdfs, symbols, indexes) =>
        {
            byte[] stream = new RansEncoder().encode_with_indexes(symbols, indexes, cdfs);
            for (int length = 0; length < stream.Length; length++)
            {
                Assert.IsTrue(Detected(stream[..length], indexes, cdfs), $"a cut to {length} of {stream.Length} bytes was not seen");
            }
        }, iter: 200, threads: 1);
    }

    [TestMethod]
    [TestCategory("Long")]
    public void FlippedBits_AndExtraBytes_AreMostlySeen()
    {
        int flips = 0, seen = 0;
        RansEncoderTests.Streams.Sample((cdfs, symbols, indexes) =>
        {
            byte[] stream = new RansEncoder().encode_with_indexes(symbols, indexes, cdfs);
            for (int bit = 0; bit < stream.Length * 8; bit++)
            {
                byte[] damaged = (byte[])stream.Clone();
                damaged[bit / 8] ^= (byte)(1 << (bit % 8));
                flips++;
                if (Detected(damaged, indexes, cdfs)) seen++;
            }
            Assert.IsTrue(Detected(stream.Append((byte)0).ToArray(), indexes, cdfs), "an extra byte was not seen");
            Assert.IsTrue(Detected(stream.Concat(new byte[4]).ToArray(), indexes, cdfs), "an extra word was not seen");
        }, iter: 200, threads: 1);
        // An efficient code has little redundancy to check: rANS decoding of a damaged stream often falls back into
        // step with the encoder's states after a few wrong symbols and ends as a valid stream would (about 68 % of
        // flips are seen here). A file format that must catch damage adds a checksum.
        Assert.IsTrue(seen >= 0.6 * flips, $"{seen} of {flips} flipped bits were seen");
    }

    [TestMethod]
    public void OtherTables_AreMostlySeen()
    {
        var random = new Random(3);
        int seen = 0;
        for (int trial = 0; trial < 200; trial++)
        {
            var a = new QuantizedCdf(new[] { QuantizedCdfTests.RandomTable(random, 40, false) }, new[] { 0 });
            var b = new QuantizedCdf(new[] { QuantizedCdfTests.RandomTable(random, 40, false) }, new[] { 0 });
            int[] symbols = Enumerable.Range(0, 500).Select(_ => random.Next(38)).ToArray();
            int[] indexes = new int[symbols.Length];
            if (Detected(new RansEncoder().encode_with_indexes(symbols, indexes, a), indexes, b)) seen++;
        }
        Assert.IsTrue(seen >= 190, $"{seen} of 200 streams decoded with other tables were seen");
    }

    [TestMethod]
    public void StateOutsideItsRange_IsSeen()
    {
        var cdfs = new QuantizedCdf(new[] { new[] { 0, 1, M } }, new[] { 0 });
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => new RansDecoder().decode_with_indexes(new byte[] { 0, 0, 0, 0x40, 0 }, Array.Empty<int>(), cdfs)).Message,
            "initial state 1073741824 is outside [2^31, 2^63)");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => new RansDecoder().decode_with_indexes(new byte[] { 0, 0, 0, 0, 0, 0, 0, 0x80 }, Array.Empty<int>(), cdfs)).Message,
            "outside [2^31, 2^63)");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => new RansDecoder().decode_with_indexes(new byte[] { 1, 2, 3, 4 }, Array.Empty<int>(), cdfs)).Message,
            "it has 4 bytes, fewer than the 5 of every stream");
    }

    [TestMethod]
    public void TooManyBypassDigits_AreSeen()
    {
        // The escape of a one-value table (slot 65535), then a bypass count of 15 (> 9).
        var cdfs = new QuantizedCdf(new[] { new[] { 0, M - 1, M } }, new[] { 0 });
        ulong x = (1UL << 56) | (15UL << 16) | 0xFFFF;
        byte[] stream = BitConverter.GetBytes(x);
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => new RansDecoder().decode_with_indexes(stream, new[] { 0 }, cdfs)).Message,
            "symbol 0 has 15 bypass digits; at most 9 are written");
    }

    [TestMethod]
    public void StateInMoreBytesThanTheEncoderWrites_IsSeen()
    {
        // The empty stream is the state 2^31 in 5 bytes; the same state padded to 6 bytes is not what the encoder writes.
        var cdfs = new QuantizedCdf(new[] { new[] { 0, 1, M } }, new[] { 0 });
        byte[] empty = new RansEncoder().encode_with_indexes(Array.Empty<int>(), Array.Empty<int>(), cdfs);
        CollectionAssert.AreEqual(new byte[] { 0, 0, 0, 0x80, 0 }, empty);
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => new RansDecoder().decode_with_indexes(empty.Append((byte)0).ToArray(), Array.Empty<int>(), cdfs)).Message,
            "its initial state 2147483648 is written in 6 bytes, where the encoder writes 5.");
    }

    [TestMethod]
    public void EndsAndValues_TheEncoderCannotWrite_AreSeen_WithWhatWasSeen()
    {
        var cdfs = new QuantizedCdf(new[] { new[] { 0, 30000, 60000, M } }, new[] { 0 });
        var decoder = new RansDecoder();
        int[] symbols = { 1, 0, 1, 1, int.MaxValue, 0, 1, 0, 0, 1 };
        int[] indexes = new int[symbols.Length];
        byte[] stream = new RansEncoder().encode_with_indexes(symbols, indexes, cdfs);
        CollectionAssert.AreEqual(symbols, decoder.decode_with_indexes(stream, indexes, cdfs));
        // Four extra bytes: the symbols decode, but the state has not come back to 2^31 at the end of the stream.
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => decoder.decode_with_indexes(stream.Concat(new byte[] { 1, 2, 3, 4 }).ToArray(), indexes, cdfs)).Message,
            $"of {stream.Length + 4} bytes, where a stream of these symbols ends in state 2147483648 after all of them.");
        // Asking for more symbols than were written runs out of words.
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => decoder.decode_with_indexes(stream, new int[200], cdfs)).Message,
            $"it ends after {stream.Length} bytes, before its symbols do.");
        // The escape's raw value of int.MaxValue, read with a table offset by 1000, lands outside int32.
        var shifted = new QuantizedCdf(new[] { new[] { 0, 30000, 60000, M } }, new[] { 1000 });
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => decoder.decode_with_indexes(stream, indexes, shifted)).Message,
            "symbol 4 decodes to 2147484647, outside int32.");
        Assert.AreEqual("cdfs", Assert.ThrowsExactly<ArgumentNullException>(() => decoder.decode_with_indexes(stream, indexes, null!)).ParamName);
    }

    [TestMethod]
    public void SpanOverload_ChecksItsLength()
    {
        var cdfs = new QuantizedCdf(new[] { new[] { 0, 1, M } }, new[] { 0 });
        var e = Assert.ThrowsExactly<ArgumentException>(() => new RansDecoder().decode_with_indexes(new byte[5], new[] { 0, 0 }, cdfs, new int[1]));
        StringAssert.Contains(e.Message, "RansDecoder.decode_with_indexes: indexes has 2 entries for 1 symbols");
        Assert.AreEqual("indexes", e.ParamName);
    }

    [TestMethod]
    public void DecodeStream_ChecksItsIndexes_BeforeReading_AndAnUndefinedLayoutIsRefused()
    {
        var cdfs = new QuantizedCdf(new[] { new[] { 0, 30000, 60000, M } }, new[] { 0 });
        byte[] stream = new RansEncoder().encode_with_indexes(new[] { 1, 0 }, new int[2], cdfs);
        var decoder = new RansDecoder();
        decoder.set_stream(stream);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => decoder.decode_stream(new[] { 0, 0 }, cdfs, new int[1])).Message,
            "RansDecoder.decode_stream: indexes has 2 entries for 1 symbols");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => decoder.decode_stream(new[] { 0, 1 }, cdfs, new int[2]));
        // Nothing was read: the stream still decodes whole.
        CollectionAssert.AreEqual(new[] { 1, 0 }, decoder.decode_stream(new int[2], cdfs));
        decoder.finish();
        var bad = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new RansDecoder((RansStreamLayout)7));
        Assert.AreEqual("layout", bad.ParamName);
        StringAssert.Contains(bad.Message, "RansDecoder: layout 7 is not a RansStreamLayout.");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => new RansDecoder(RansStreamLayout.Interleaved).decode_with_indexes(new byte[8], new int[1], cdfs)).Message,
            "it has 8 bytes, fewer than the 9 of every interleaved stream");
    }

    [TestMethod]
    public void DecodeStream_InChunks_GivesTheSymbols_InEveryLayout()
    {
        foreach (RansStreamLayout layout in Enum.GetValues<RansStreamLayout>())
        {
            var encoder = new RansEncoder(layout);
            var decoder = new RansDecoder(layout);
            RansEncoderTests.Streams.Select(Gen.Int[0, 300]).Sample((stream, cut) =>
            {
                (QuantizedCdf cdfs, int[] symbols, int[] indexes) = stream;
                symbols = BufferedRansEncoderTests.Fitting(symbols, indexes, cdfs);
                byte[] bytes = encoder.encode_with_indexes(symbols, indexes, cdfs);
                int first = Math.Min(cut, symbols.Length);
                decoder.set_stream(bytes);
                int[] head = decoder.decode_stream(indexes.AsSpan(0, first), cdfs);
                var tail = new int[symbols.Length - first];
                decoder.decode_stream(indexes.AsSpan(first), cdfs, tail);
                decoder.finish();
                CollectionAssert.AreEqual(symbols, head.Concat(tail).ToArray(), layout.ToString());
            }, iter: 500, threads: 1);
        }
    }

    [TestMethod]
    public void Finish_SeesSymbolsLeft_AndUnsetsTheStream()
    {
        var cdfs = new QuantizedCdf(new[] { new[] { 0, 30000, 60000, M } }, new[] { 0 });
        byte[] stream = new RansEncoder().encode_with_indexes(new[] { 1, 0, 2, 1 }, new int[4], cdfs);
        var decoder = new RansDecoder();
        decoder.set_stream(stream);
        CollectionAssert.AreEqual(new[] { 1, 0 }, decoder.decode_stream(new int[2], cdfs));
        StringAssert.StartsWith(Assert.ThrowsExactly<InvalidDataException>(() => decoder.finish()).Message,
            "RansDecoder.finish: the stream is truncated, corrupted or was written with other tables or indexes: it ends in state");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidOperationException>(() => decoder.decode_stream(new int[1], cdfs)).Message,
            "RansDecoder.decode_stream: no stream is set; call set_stream first.");
        Assert.ThrowsExactly<InvalidOperationException>(() => decoder.finish());
    }

    [TestMethod]
    public void SetStream_KeepsACopy_AndRefusesBadStarts()
    {
        var cdfs = new QuantizedCdf(new[] { new[] { 0, 30000, 60000, M } }, new[] { 0 });
        byte[] stream = new RansEncoder().encode_with_indexes(new[] { 1, 0, 2, 1, 1, 2, 0 }, new int[7], cdfs);
        var decoder = new RansDecoder();
        decoder.set_stream(stream);
        Array.Clear(stream);
        CollectionAssert.AreEqual(new[] { 1, 0, 2, 1, 1, 2, 0 }, decoder.decode_stream(new int[7], cdfs));
        decoder.finish();
        Assert.AreEqual("stream", Assert.ThrowsExactly<ArgumentNullException>(() => decoder.set_stream(null!)).ParamName);
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => decoder.set_stream(new byte[4])).Message,
            "RansDecoder.set_stream: the stream is truncated, corrupted or was written with other tables or indexes: it has 4 bytes, fewer than the 5 of every stream.");
        // A failed set_stream leaves no stream set.
        Assert.ThrowsExactly<InvalidOperationException>(() => decoder.decode_stream(new int[1], cdfs));
        var compressai = new RansDecoder(RansStreamLayout.CompressAI);
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => compressai.set_stream(new byte[10])).Message,
            "it has 10 bytes, where CompressAI's layout writes 8 or more, a multiple of 4.");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => compressai.set_stream(new byte[8])).Message, "its initial state 0 is outside [2^31, 2^63)");
    }

    [TestMethod]
    public void DamageSeenByDecodeStream_UnsetsTheStream()
    {
        var cdfs = new QuantizedCdf(new[] { new[] { 0, 30000, 60000, M } }, new[] { 0 });
        byte[] stream = new RansEncoder().encode_with_indexes(new[] { 1, 0 }, new int[2], cdfs);
        var decoder = new RansDecoder();
        decoder.set_stream(stream);
        StringAssert.StartsWith(Assert.ThrowsExactly<InvalidDataException>(() => decoder.decode_stream(new int[100], cdfs)).Message, "RansDecoder.decode_stream: ");
        Assert.ThrowsExactly<InvalidOperationException>(() => decoder.decode_stream(new int[1], cdfs));
    }

    [TestMethod]
    public void CompressAILayout_ReadsCompressAIsStream_AndSeesEveryTruncation()
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        (QuantizedCdf cdfs, int[] symbols, int[] indexes, byte[] stream) = BufferedRansEncoderTests.RansFixture(Helpers.CompressAIFixtures.Read("rans.pt"));
        var decoder = new RansDecoder(RansStreamLayout.CompressAI);
        CollectionAssert.AreEqual(symbols, decoder.decode_with_indexes(stream, indexes, cdfs));
        for (int length = 0; length < stream.Length; length++)
        {
            Assert.ThrowsExactly<InvalidDataException>(() => decoder.decode_with_indexes(stream.AsSpan(0, length), indexes, cdfs), $"truncated to {length} bytes");
        }
        // The same stream read as this library's layout is refused or decodes to other symbols: the layouts differ.
        try
        {
            CollectionAssert.AreNotEqual(symbols, new RansDecoder().decode_with_indexes(stream, indexes, cdfs));
        }
        catch (InvalidDataException)
        {
        }
    }

    [TestMethod]
    public void CompressAILayout_BypassCountAbove9_IsSeen()
    {
        // The escape of a one-value table (slot 65535), then bypass counts 15 and 0: CompressAI's chunked count of 15,
        // more digits than any int32 needs.
        var cdfs = new QuantizedCdf(new[] { new[] { 0, M - 1, M } }, new[] { 0 });
        ulong x = (1UL << 56) | (0UL << 20) | (15UL << 16) | 0xFFFF;
        byte[] stream = BitConverter.GetBytes(x);
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => new RansDecoder(RansStreamLayout.CompressAI).decode_with_indexes(stream, new[] { 0 }, cdfs)).Message,
            "symbol 0 has 15 bypass digits; at most 9 are written");
    }

    [TestMethod]
    public void Interleaved_EmptyStream_AndDamage_AreSeen()
    {
        var cdfs = new QuantizedCdf(new[] { new[] { 0, 30000, 60000, M } }, new[] { 0 });
        var decoder = new RansDecoder(RansStreamLayout.Interleaved);
        // The empty stream: a header byte of 0 (two 4-byte states), then 2^31 twice.
        byte[] empty = new RansEncoder(RansStreamLayout.Interleaved).encode_with_indexes(ReadOnlySpan<int>.Empty, ReadOnlySpan<int>.Empty, cdfs);
        CollectionAssert.AreEqual(new byte[] { 0, 0, 0, 0, 0x80, 0, 0, 0, 0x80 }, empty);
        Assert.AreEqual(0, decoder.decode_with_indexes(empty, ReadOnlySpan<int>.Empty, cdfs).Length);
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => decoder.decode_with_indexes(new byte[] { 0x50, 0, 0, 0, 0x80, 0, 0, 0, 0x80 }, ReadOnlySpan<int>.Empty, cdfs)).Message,
            "its header byte 80 gives states of 4 and 9 bytes, where the encoder writes 4 to 8");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => decoder.decode_with_indexes(new byte[] { 0x01, 0, 0, 0, 0x80, 0, 0, 0, 0, 0x80 }, ReadOnlySpan<int>.Empty, cdfs)).Message,
            "its initial state 2147483648 is written in 5 bytes, where the encoder writes 4");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => decoder.decode_with_indexes(new byte[] { 0x44, 0, 0, 0, 0x80, 0, 0, 0, 0x80 }, ReadOnlySpan<int>.Empty, cdfs)).Message,
            "it has 9 bytes, fewer than its header and states (17)");
        // Every truncation of a stream with escapes in both states is seen.
        var random = new Random(4);
        int[] symbols = Enumerable.Range(0, 400).Select(i => i % 37 == 0 ? random.Next(-100_000, 100_000) : random.Next(3)).ToArray();
        byte[] stream = new RansEncoder(RansStreamLayout.Interleaved).encode_with_indexes(symbols, new int[400], cdfs);
        CollectionAssert.AreEqual(symbols, decoder.decode_with_indexes(stream, new int[400], cdfs));
        for (int length = 0; length < stream.Length; length++)
        {
            Assert.ThrowsExactly<InvalidDataException>(() => decoder.decode_with_indexes(stream.AsSpan(0, length), new int[400], cdfs), $"truncated to {length} bytes");
        }
        // The two states take the symbols in turn: the stream differs from the single-state one and is a few bytes longer.
        byte[] single = new RansEncoder().encode_with_indexes(symbols, new int[400], cdfs);
        Assert.IsTrue(stream.Length >= single.Length && stream.Length <= single.Length + 12, $"{stream.Length} against {single.Length} bytes");
    }
}
