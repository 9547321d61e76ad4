using System;
using System.IO;
using System.IO.Compression;
using TorchSharp;
using static TorchSharp.torch;

namespace QuantizationAwareTraining;

/// <summary>Fashion-MNIST images (N, 1, 28, 28) scaled to [0, 1] and their labels (N), from gzip-compressed IDX files.</summary>
public sealed record FashionMnist(Tensor Images, Tensor Labels)
{
    /// <summary>The class names, by label.</summary>
    public static readonly string[] Classes = { "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot" };

    /// <summary>The number of images.</summary>
    public long Count => Labels.shape[0];

    /// <summary>The first <paramref name="count"/> images and labels (all when there are fewer).</summary>
    public FashionMnist Take(long count) => count >= Count ? this : new FashionMnist(Images[..(int)count], Labels[..(int)count]);

    /// <summary>Reads <c>{prefix}-images-idx3-ubyte.gz</c> and <c>{prefix}-labels-idx1-ubyte.gz</c> from <paramref name="folder"/>.</summary>
    /// <exception cref="InvalidDataException">A file is not gzip, is truncated, is not an IDX file of the expected kind, or the counts differ.</exception>
    public static FashionMnist Load(string folder, string prefix)
    {
        byte[] images = Read(Path.Combine(folder, $"{prefix}-images-idx3-ubyte.gz"), 2051, out int n, out int rows, out int columns);
        byte[] labels = Read(Path.Combine(folder, $"{prefix}-labels-idx1-ubyte.gz"), 2049, out int m, out _, out _);
        if (n != m || rows != 28 || columns != 28) throw new InvalidDataException($"{prefix}: {n} images of {rows}×{columns} and {m} labels.");
        using Scalar full = 255.ToScalar();
        Tensor x = tensor(images, ScalarType.Byte).reshape(n, 1, 28, 28).to(ScalarType.Float32).div_(full);
        Tensor y = tensor(labels, ScalarType.Byte).to(ScalarType.Int64);
        return new FashionMnist(x, y);
    }

    private static byte[] Read(string path, int magic, out int count, out int rows, out int columns)
    {
        byte[] file = File.ReadAllBytes(path);
        using var gzip = new GZipStream(new MemoryStream(file), CompressionMode.Decompress);
        using var memory = new MemoryStream();
        gzip.CopyTo(memory);
        byte[] all = memory.ToArray();
        // .NET's GZipStream accepts a file whose trailer is cut short; its last four bytes must hold the length.
        if (file.Length < 18 || BitConverter.ToUInt32(file, file.Length - 4) != (uint)all.Length)
        {
            throw new InvalidDataException($"{path} is truncated: its gzip trailer does not give the length of its contents.");
        }
        int Int(int at) => all[at] << 24 | all[at + 1] << 16 | all[at + 2] << 8 | all[at + 3];
        if (all.Length < 8 || Int(0) != magic) throw new InvalidDataException($"{path} is not an IDX file with magic {magic}.");
        count = Int(4);
        int header = magic == 2051 ? 16 : 8;
        rows = magic == 2051 ? Int(8) : 1;
        columns = magic == 2051 ? Int(12) : 1;
        long size = (long)count * rows * columns;
        if (count < 0 || all.Length != header + size) throw new InvalidDataException($"{path} holds {all.Length - header} bytes for {count} items.");
        return all[header..];
    }
}
