using System;
using System.IO;
using System.Linq;
using System.Security.Cryptography;

namespace SoftRound.Tf.Quantization;

/// <summary>
/// The integer model's file format, a reader and writer of <see cref="QuantizedGraph"/>: "SRQI", version 1 (uint16),
/// the step count (uint16), the steps, then the SHA-256 of everything before. A step is a kind byte (0 layer, 1 ReLU,
/// 2 flatten, 3 max pooling) and its fields, little-endian: a layer's convolution flag, its 14 geometry values (int32),
/// its weight scales (float64 per output channel), input scale (float64), input zero point, qmin and qmax (int32), a
/// bias flag and int32 biases, the weight byte count (int32) and the weight bytes; a pooling step's window, strides and
/// paddings (six int32).
/// </summary>
internal static class IntegerModelFormat
{
    private const uint Magic = 0x49515253; // "SRQI"
    private const ushort Version = 1;

    /// <summary>Writes <paramref name="graph"/> in the format.</summary>
    public static void Write(QuantizedGraph graph, Stream stream)
    {
        using var body = new MemoryStream();
        using (var w = new BinaryWriter(body, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write(Version);
            w.Write((ushort)graph.Steps.Count);
            foreach (QuantizedStep s in graph.Steps) WriteStep(w, s);
        }
        byte[] bytes = body.ToArray();
        stream.Write(bytes);
        stream.Write(SHA256.HashData(bytes));
    }

    /// <summary>Reads a graph written by <see cref="Write"/>.</summary>
    /// <exception cref="InvalidDataException">The bytes are not such a graph: truncated, corrupted (checksum), another format or version, values out of range, or trailing bytes.</exception>
    public static QuantizedGraph Read(Stream stream)
    {
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        byte[] all = copy.ToArray();
        try
        {
            if (all.Length < 8 + 32) throw QuantizedStep.Invalid($"it has {all.Length} bytes, fewer than the smallest model");
            byte[] body = all[..^32];
            if (!SHA256.HashData(body).AsSpan().SequenceEqual(all.AsSpan(all.Length - 32))) throw QuantizedStep.Invalid("its checksum does not match its contents");
            using var r = new BinaryReader(new MemoryStream(body));
            if (r.ReadUInt32() != Magic) throw QuantizedStep.Invalid("it does not start with SRQI");
            ushort version = r.ReadUInt16();
            if (version != Version) throw QuantizedStep.Invalid($"its version is {version}; this library reads {Version}");
            int count = r.ReadUInt16();
            QuantizedGraph.CheckStepCount(count);
            var steps = new QuantizedStep[count];
            for (int i = 0; i < count; i++) steps[i] = ReadStep(r);
            if (r.BaseStream.Position != body.Length) throw QuantizedStep.Invalid($"{body.Length - r.BaseStream.Position} bytes follow the last step");
            return new QuantizedGraph(steps);
        }
        catch (EndOfStreamException)
        {
            throw Bad("it ends inside a step");
        }
        catch (InvalidDataException e)
        {
            throw Bad((string)e.Data[QuantizedStep.Why]!);
        }
    }

    private static InvalidDataException Bad(string why) => new($"IntegerModel.load: the stream is not an integer model: {why}.");

    private static void WriteStep(BinaryWriter w, QuantizedStep step)
    {
        switch (step)
        {
            case QuantizedLayer l:
                w.Write((byte)0);
                w.Write(l.Convolution);
                foreach (int v in l.Geometry) w.Write(v);
                foreach (double s in l.WeightScales) w.Write(s);
                w.Write(l.InputScale);
                foreach (int v in new[] { l.InputZero, l.InputMin, l.InputMax }) w.Write(v);
                w.Write(l.Bias is not null);
                if (l.Bias is not null) foreach (int b in l.Bias) w.Write(b);
                w.Write(l.Weights.Length);
                w.Write(l.Weights);
                break;
            case ReluStep:
                w.Write((byte)1);
                break;
            case FlattenStep:
                w.Write((byte)2);
                break;
            case MaxPoolStep p:
                w.Write((byte)3);
                foreach (int v in new[] { p.Kh, p.Kw, p.Sh, p.Sw, p.Ph, p.Pw }) w.Write(v);
                break;
        }
    }

    private static QuantizedStep ReadStep(BinaryReader r) => r.ReadByte() switch
    {
        0 => ReadLayer(r),
        1 => new ReluStep(),
        2 => new FlattenStep(),
        3 => ReadPool(r),
        byte kind => throw QuantizedStep.Invalid($"a step has the unknown kind {kind}"),
    };

    private static MaxPoolStep ReadPool(BinaryReader r)
    {
        int[] v = Enumerable.Range(0, 6).Select(_ => r.ReadInt32()).ToArray();
        return new MaxPoolStep(v[0], v[1], v[2], v[3], v[4], v[5]);
    }

    /// <summary>A layer, its sizes checked before anything they size is read.</summary>
    private static QuantizedLayer ReadLayer(BinaryReader r)
    {
        bool convolution = r.ReadBoolean();
        int[] v = Enumerable.Range(0, 14).Select(_ => r.ReadInt32()).ToArray();
        long bytes = QuantizedLayer.WeightBytes(QuantizedLayer.CheckGeometry(convolution, v), v[11]);
        double[] scales = Enumerable.Range(0, v[0]).Select(_ => r.ReadDouble()).ToArray();
        double inputScale = r.ReadDouble();
        int[] grid = Enumerable.Range(0, 3).Select(_ => r.ReadInt32()).ToArray();
        int[]? bias = r.ReadBoolean() ? Enumerable.Range(0, v[0]).Select(_ => r.ReadInt32()).ToArray() : null;
        int length = r.ReadInt32();
        if (length != bytes) throw QuantizedStep.Invalid($"a layer has {length} weight bytes; its shape needs {bytes}");
        byte[] weights = r.ReadBytes(length);
        if (weights.Length != length) throw new EndOfStreamException();
        return new QuantizedLayer(convolution, v, scales, inputScale, grid[0], grid[1], grid[2], bias, weights);
    }
}
