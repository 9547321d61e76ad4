using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using Google.Protobuf;
using SoftRound.Tf.Onnx.Proto;
using DataType = SoftRound.Tf.Onnx.Proto.TensorProto.Types.DataType;

namespace SoftRound.Tf.Onnx;

/// <summary>
/// Builds one ONNX graph: constant tensors (initializers), nodes with unique names, and the model around them (IR
/// version 10, the default operator set at version 21).
/// </summary>
internal sealed class OnnxGraphBuilder
{
    /// <summary>ONNX's IR version 10, the first with operator set 21 (int4 tensors).</summary>
    public const long IrVersion = 10;

    /// <summary>The default operator set's version: 21 (QuantizeLinear and DequantizeLinear on int4, int16 and uint16).</summary>
    public const long Opset = 21;

    private readonly GraphProto graph = new() { Name = "main" };
    private readonly Dictionary<string, int> counts = new();

    /// <summary>A fresh value name starting with <paramref name="stem"/>.</summary>
    public string Name(string stem)
    {
        counts.TryGetValue(stem, out int n);
        counts[stem] = n + 1;
        return n == 0 ? stem : $"{stem}_{n}";
    }

    /// <summary>Adds a constant tensor of <paramref name="type"/> and <paramref name="dims"/> holding <paramref name="raw"/> (little-endian, row-major); returns its name.</summary>
    public string Constant(string stem, DataType type, long[] dims, byte[] raw)
    {
        string name = Name(stem);
        var t = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(raw) };
        t.Dims.AddRange(dims);
        graph.Initializer.Add(t);
        return name;
    }

    /// <summary>A float32 constant.</summary>
    public string Floats(string stem, long[] dims, float[] values) => Constant(stem, DataType.Float, dims, Bytes(values));

    /// <summary>A float32 scalar.</summary>
    public string Float(string stem, float value) => Floats(stem, Array.Empty<long>(), new[] { value });

    /// <summary>An int32 constant.</summary>
    public string Int32s(string stem, long[] dims, int[] values) => Constant(stem, DataType.Int32, dims, Bytes(values));

    /// <summary>An int64 constant.</summary>
    public string Int64s(string stem, long[] dims, long[] values) => Constant(stem, DataType.Int64, dims, Bytes(values));

    /// <summary>Codes of an 8-bit type: a scalar, or values of <paramref name="dims"/>.</summary>
    public string Codes(string stem, DataType type, long[] dims, int[] values) =>
        Constant(stem, type, dims, values.Select(v => unchecked((byte)v)).ToArray());

    /// <summary>Adds a node of <paramref name="op"/> (default domain) and returns its one output's name.</summary>
    public string Node(string op, string[] inputs, params AttributeProto[] attributes)
    {
        string output = Name(op.ToLowerInvariant());
        var node = new NodeProto { OpType = op, Name = output };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        graph.Node.Add(node);
        return output;
    }

    /// <summary>An integer attribute.</summary>
    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    /// <summary>An integer-list attribute.</summary>
    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    /// <summary>Declares a graph input or output: a tensor of <paramref name="type"/> whose dimensions are sizes (long) or names (string); a null shape leaves the rank unknown.</summary>
    public void Declare(bool input, string name, DataType type, object[]? shape)
    {
        var tensorType = new TypeProto.Types.Tensor { ElemType = (int)type };
        if (shape is not null)
        {
            tensorType.Shape = new TensorShapeProto();
            foreach (object d in shape)
            {
                tensorType.Shape.Dim.Add(d is string s ? new TensorShapeProto.Types.Dimension { DimParam = s } : new TensorShapeProto.Types.Dimension { DimValue = (long)d });
            }
        }
        var info = new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensorType } };
        (input ? graph.Input : graph.Output).Add(info);
    }

    /// <summary>Makes <paramref name="x"/> the graph's output, float32 of unknown shape, under the name "output".</summary>
    public void Output(string x)
    {
        graph.Node.Add(new NodeProto { OpType = "Identity", Name = "output", Input = { x }, Output = { "output" } });
        Declare(false, "output", DataType.Float, null);
    }

    /// <summary>The model: this graph, IR version 10, operator set 21, the producer and <paramref name="doc"/>.</summary>
    public byte[] Model(string doc)
    {
        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "SoftRound.Tf",
            ProducerVersion = typeof(OnnxGraphBuilder).Assembly.GetName().Version?.ToString() ?? "",
            DocString = doc,
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        return model.ToByteArray();
    }

    /// <summary>Values as little-endian bytes.</summary>
    internal static byte[] Bytes<T>(T[] values) where T : unmanaged
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("OnnxExport writes little-endian tensors from a little-endian machine.");
        return MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
    }
}
