using System;
using System.IO;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using QuantizationAwareTraining;
using SoftRound.Tf.Tests.Helpers;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Examples.QuantizationAwareTraining;

[TestClass]
public sealed class FashionMnistTests
{
    private static string Data => Path.Combine(Repository.Root, "examples", "QuantizationAwareTraining", "data");

    [TestMethod]
    public void CommittedSubset_HasItsImagesLabelsAndEveryClass()
    {
        using var scope = NewDisposeScope();
        FashionMnist train = FashionMnist.Load(Data, "train"), test = FashionMnist.Load(Data, "t10k");
        Assert.AreEqual(12000, train.Count);
        Assert.AreEqual(10000, test.Count);
        CollectionAssert.AreEqual(new long[] { 12000, 1, 28, 28 }, train.Images.shape);
        Assert.AreEqual(0f, train.Images.min().item<float>());
        Assert.AreEqual(1f, train.Images.max().item<float>());
        long[] perClass = test.Labels.bincount(null).data<long>().ToArray();
        CollectionAssert.AreEqual(Enumerable.Repeat(1000L, 10).ToArray(), perClass);
        long[] trainClasses = train.Labels.bincount(null).data<long>().ToArray();
        Assert.AreEqual(1122, trainClasses.Min());
        Assert.AreEqual(1244, trainClasses.Max());
        Assert.AreEqual(500, train.Take(500).Count);
        Assert.IsLessThan(10_000_000L, Directory.GetFiles(Data, "*.gz").Sum(f => new FileInfo(f).Length));
    }

    [TestMethod]
    public void BadFiles_AreRefused()
    {
        string folder = Path.Combine(Path.GetTempPath(), "softround-fm-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            foreach (string name in new[] { "x-images-idx3-ubyte.gz", "x-labels-idx1-ubyte.gz" }) File.Copy(Path.Combine(Data, name.Replace("x-", "t10k-")), Path.Combine(folder, name));
            // Labels given as images: the magic number is wrong.
            File.Copy(Path.Combine(Data, "t10k-labels-idx1-ubyte.gz"), Path.Combine(folder, "x-images-idx3-ubyte.gz"), overwrite: true);
            Assert.ThrowsExactly<InvalidDataException>(() => FashionMnist.Load(folder, "x"));
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    [TestMethod]
    public void TruncatedCorruptedAndRandomFiles_GiveInvalidDataException()
    {
        string folder = Path.Combine(Path.GetTempPath(), "softround-fm-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            byte[] labels = File.ReadAllBytes(Path.Combine(Data, "t10k-labels-idx1-ubyte.gz"));
            byte[] raw;
            using (var gzip = new System.IO.Compression.GZipStream(new MemoryStream(labels), System.IO.Compression.CompressionMode.Decompress))
            using (var memory = new MemoryStream())
            {
                gzip.CopyTo(memory);
                raw = memory.ToArray();
            }
            static byte[] Gzip(byte[] bytes)
            {
                var output = new MemoryStream();
                using (var gzip = new System.IO.Compression.GZipStream(output, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(bytes);
                return output.ToArray();
            }
            var random = new Random(12);
            File.Copy(Path.Combine(Data, "t10k-images-idx3-ubyte.gz"), Path.Combine(folder, "x-images-idx3-ubyte.gz"));
            string target = Path.Combine(folder, "x-labels-idx1-ubyte.gz");
            void Refused(byte[] file)
            {
                File.WriteAllBytes(target, file);
                Assert.ThrowsExactly<InvalidDataException>(() => FashionMnist.Load(folder, "x"), $"{file.Length} bytes");
            }
            // Compressed bytes cut short or random; the content cut short, lengthened or with its header changed.
            foreach (int length in new[] { 0, 1, 10, 100, labels.Length / 2, labels.Length - 1 }) Refused(labels[..length]);
            for (int i = 0; i < 20; i++)
            {
                var bytes = new byte[random.Next(1, 2000)];
                random.NextBytes(bytes);
                Refused(bytes);
            }
            foreach (int length in new[] { 0, 4, 7, 8, raw.Length - 1 }) Refused(Gzip(raw[..length]));
            Refused(Gzip(raw.Concat(new byte[] { 3 }).ToArray()));
            for (int at = 0; at < 8; at++)
            {
                byte[] header = (byte[])raw.Clone();
                header[at] ^= 0x40;
                Refused(Gzip(header));
            }
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }
}
