using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Onnx;
using SoftRound.Tf.Quantization;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Onnx;

[TestClass]
public sealed class OnnxExportTests : WithoutOneDnn
{
    /// <summary>Conv → BatchNorm → ReLU → pool, a grouped strided conv, flatten, two linear layers; BN statistics made non-trivial.</summary>
    private static Sequential FloatCnn(ulong seed = 1)
    {
        manual_seed((long)seed);
        Sequential model = nn.Sequential(
            ("conv1", nn.Conv2d(1, 6, 3, padding: 1)), ("bn1", nn.BatchNorm2d(6)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(2)),
            ("block", nn.Sequential(("conv2", nn.Conv2d(6, 8, 3, stride: 1, padding: 1, groups: 2)), ("relu2", nn.ReLU()))), ("pool2", nn.MaxPool2d(2)),
            ("flatten", nn.Flatten()), ("drop", nn.Dropout(0.1)), ("fc1", nn.Linear(8 * 3 * 3, 16)), ("relu3", nn.ReLU()), ("fc2", nn.Linear(16, 5)));
        var bn = (BatchNorm2d)model.named_children().First(c => c.name == "bn1").module;
        using (no_grad())
        {
            bn.weight!.uniform_(0.5, 1.5);
            bn.bias!.uniform_(-0.2, 0.2);
            bn.running_mean!.uniform_(-0.1, 0.1);
            bn.running_var!.uniform_(0.5, 2.0);
        }
        return model;
    }

    /// <summary><see cref="FloatCnn"/> prepared for QAT (BN folded) and trained a few seeded steps on random images, in eval mode.</summary>
    internal static Sequential TrainedQuantCnn(int weightBits, int activationBits, ulong seed = 1)
    {
        Sequential model = FloatCnn(seed);
        return QatFixture.Trained(model, weightBits, activationBits, seed);
    }

    /// <summary>
    /// A float model in eval mode exported and run in ONNX Runtime on <paramref name="x"/>: asserts the output's shape
    /// and that it is within 1e−5 of max |y| of the model's own output; the file and that max |y|.
    /// </summary>
    private static (byte[] onnx, double scale) ExportAndRunFloat(Sequential model, Tensor x)
    {
        Tensor expected;
        using (no_grad()) expected = model.forward(x);
        byte[] onnx = OnnxExport.export(model);
        Tensor actual = OnnxRuntimeRun.Run(onnx, x);
        CollectionAssert.AreEqual(expected.shape, actual.shape);
        double scale = expected.abs().max().item<float>();
        Assert.IsTrue((actual - expected).abs().max().item<float>() <= 1e-5 * scale, $"{(actual - expected).abs().max().item<float>()} of {scale}");
        return (onnx, scale);
    }

    [TestMethod]
    public void FloatExport_EqualsTheTorchSharpModel_WithTheBatchNormFolded()
    {
        using var scope = NewDisposeScope();
        Sequential model = FloatCnn();
        model.eval();
        (byte[] onnx, double scale) = ExportAndRunFloat(model, randn(new long[] { 7, 1, 12, 12 }, generator: new Generator(3)));
        Assert.IsTrue(scale > 0.05, $"{scale}");
        // The batch norm is folded: no BatchNormalization node, one Conv more than... the model's two.
        var proto = SoftRound.Tf.Onnx.Proto.ModelProto.Parser.ParseFrom(onnx);
        CollectionAssert.AreEqual(new[] { "Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool", "Flatten", "Gemm", "Relu", "Gemm", "Identity" }, proto.Graph.Node.Select(n => n.OpType).ToArray());
        Assert.AreEqual(10, proto.IrVersion);
        Assert.AreEqual(21, proto.OpsetImport.Single().Version);
    }

    [TestMethod]
    [DataRow(8, 8, OnnxQuantFormat.Qdq, false)]
    [DataRow(8, 8, OnnxQuantFormat.QOperator, false)]
    [DataRow(4, 4, OnnxQuantFormat.Qdq, false)]
    [DataRow(4, 4, OnnxQuantFormat.Qdq, true)]
    [DataRow(4, 4, OnnxQuantFormat.QOperator, false)]
    [DataRow(2, 3, OnnxQuantFormat.Qdq, true)]
    [DataRow(2, 2, OnnxQuantFormat.QOperator, false)]
    [DataRow(8, 8, OnnxQuantFormat.IntegerInFloat, false)]
    [DataRow(4, 4, OnnxQuantFormat.IntegerInFloat, false)]
    [DataRow(2, 3, OnnxQuantFormat.IntegerInFloat, false)]
    public void QuantizedExport_GivesTheIntegerModelsOutputs_WithinOneStep(int weightBits, int activationBits, OnnxQuantFormat format, bool int4)
    {
        using var scope = NewDisposeScope();
        Sequential q = TrainedQuantCnn(weightBits, activationBits);
        QuantizedGraph graph = QuantizedGraph.capture(q);
        IntegerModel integer = IntegerModel.from_graph(graph);
        Tensor x = rand(new long[] { 256, 1, 12, 12 }, generator: new Generator(5));
        Tensor expected = integer.forward(x);
        Tensor actual = OnnxRuntimeRun.Run(OnnxExport.export(graph, format, int4), x);
        CollectionAssert.AreEqual(expected.shape, actual.shape);
        QuantizedLayer last = graph.Layers[^1];
        Tensor step = tensor(Enumerable.Range(0, last.OutChannels).Select(o => (float)last.Step(o)).ToArray());
        Tensor steps = ((actual - expected).abs() / step).max();
        Assert.IsTrue(steps.item<float>() <= 1.001f, $"{steps.item<float>()} steps");
        // Not a constant output; the same values almost everywhere (a requantized code moves by one only near a tie).
        long distinct = expected.unique().output.numel();
        long same = ((actual - expected).abs() / step).le(1e-3).sum().item<long>();
        Console.WriteLine($"{distinct} distinct outputs; {same} of {expected.numel()} within 0.001 step, the largest difference {steps.item<float>()} steps");
        Assert.IsTrue(distinct > 10, $"{distinct} distinct outputs");
        Assert.IsTrue(same >= 0.95 * expected.numel(), $"{same} of {expected.numel()}");
        Assert.IsTrue(actual.argmax(1).eq(expected.argmax(1)).sum().item<long>() >= 254);
    }

    [TestMethod]
    public void Refusals_NameTheModuleTheMemberAndTheValue()
    {
        using var scope = NewDisposeScope();
        Assert.ThrowsExactly<ArgumentNullException>(() => OnnxExport.export((Sequential)null!));
        Assert.ThrowsExactly<ArgumentNullException>(() => OnnxExport.export((QuantizedGraph)null!));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => OnnxExport.export(nn.Sequential())).Message, "OnnxExport.export: the model has no modules.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => OnnxExport.export(nn.Sequential(("a", nn.Linear(2, 2)), ("b", nn.Sequential(("t", nn.Tanh())))))).Message,
            "OnnxExport.export: b.t is a Tanh, which this writer cannot express.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => OnnxExport.export(nn.Sequential(("q", new QuantLinear(2, 2))))).Message,
            "OnnxExport.export: q is a QuantLinear; a quantized model is exported from its QuantizedGraph (QuantizedGraph.capture), which this writer cannot express.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => OnnxExport.export(nn.Sequential(("c", nn.Conv2d(1, 1, 3, padding: 1, padding_mode: TorchSharp.PaddingModes.Circular))))).Message,
            "OnnxExport.export: c is a Conv2d padded with Circular");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => OnnxExport.export(nn.Sequential(("f", nn.Flatten(0))))).Message, "f is a Flatten");
        QuantizedGraph graph = QuantizedGraph.capture(TrainedQuantCnn(4, 4));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => OnnxExport.export(graph, OnnxQuantFormat.QOperator, int4Weights: true)).Message,
            "OnnxExport.export: int4 weights need the Qdq format; QOperator stores 8-bit weights.");
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => OnnxExport.export(graph, (OnnxQuantFormat)7));
        StringAssert.Contains(e.Message, "OnnxExport.export: format must be Qdq, QOperator or IntegerInFloat; got 7.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => OnnxExport.export(graph, OnnxQuantFormat.IntegerInFloat, int4Weights: true)).Message,
            "OnnxExport.export: int4 weights need the Qdq format; IntegerInFloat stores 8-bit weights.");
        Assert.AreEqual("format", e.ParamName);
        // A 9-bit input grid has no 8-bit type.
        var wide = nn.Sequential(("fc", new QuantLinear(3, 2, inputSpec: new QuantSpec(9, signed: false, symmetric: false))));
        wide.train();
        using (no_grad()) wide.forward(rand(4, 3));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => OnnxExport.export(QuantizedGraph.capture(wide))).Message,
            "OnnxExport.export: quantized layer 0 takes codes in [0, 511], which no 8-bit type holds");
    }

    [TestMethod]
    public void SignedAndNarrowInputGrids_AndALinearFirstLayer_AreExportedToo()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        // int8 symmetric inputs (codes in int8), a 3-bit unsigned hidden grid (Clip to [0, 7]), a trailing ReLU in float.
        var model = nn.Sequential(("fc1", new QuantLinear(6, 12, inputSpec: new QuantSpec(8))), ("relu", nn.ReLU()),
            ("fc2", new QuantLinear(12, 4, inputSpec: new QuantSpec(3, signed: false, symmetric: false))), ("out", nn.ReLU()));
        model.train();
        using (no_grad()) model.forward(randn(64, 6));
        model.eval();
        QuantizedGraph graph = QuantizedGraph.capture(model);
        IntegerModel integer = IntegerModel.from_graph(graph);
        Tensor x = randn(new long[] { 200, 6 }, generator: new Generator(7)) * 1.5;
        Tensor expected = integer.forward(x);
        Assert.IsTrue(expected.min().item<float>() == 0f && expected.max().item<float>() > 0f);
        foreach (OnnxQuantFormat format in new[] { OnnxQuantFormat.Qdq, OnnxQuantFormat.QOperator, OnnxQuantFormat.IntegerInFloat })
        {
            Tensor actual = OnnxRuntimeRun.Run(OnnxExport.export(graph, format), x);
            double step = graph.Layers[^1].WeightScales.Max() * graph.Layers[^1].InputScale;
            Assert.IsTrue((actual - expected).abs().max().item<float>() <= 1e-3 * step, $"{format}: {(actual - expected).abs().max().item<float>() / step} steps");
        }
    }

    [TestMethod]
    public void Export_LeavesNoLiveTensors_AndTheModelAsItWas()
    {
        Sequential model = FloatCnn();
        model.eval();
        Sequential q = TrainedQuantCnn(8, 8);
        QuantizedGraph graph = QuantizedGraph.capture(q);
        Tensor before = model.parameters().First().clone();
        OnnxExport.export(model);
        OnnxExport.export(graph);
        long live = LiveTensors.Count();
        for (int i = 0; i < 3; i++)
        {
            OnnxExport.export(model);
            OnnxExport.export(graph, OnnxQuantFormat.QOperator);
            QuantizedGraph.capture(q);
        }
        Assert.AreEqual(live, LiveTensors.Count());
        Assert.IsTrue(before.allclose(model.parameters().First(), 0, 0));
    }

    [TestMethod]
    public void IntegerInFloat_RefusesAHiddenLayerWhoseSumsLeaveFloat32sExactIntegers_ButNotTheLast()
    {
        using var scope = NewDisposeScope();
        manual_seed(4);
        // Codes within 128 of Z = 128 (uint8 about its centre, for signed data) and weights down to −128: 1,000 inputs
        // reach 16,384,000 < 2^24 and pass; 1,100 reach 18,022,400 and are refused, unless theirs is the last layer.
        Sequential Model(int fanIn, bool hidden) => hidden
            ? nn.Sequential(("fc1", new QuantLinear(fanIn, 4, hasBias: false)), ("relu", nn.ReLU()), ("fc2", new QuantLinear(4, 2)))
            : nn.Sequential(("fc1", new QuantLinear(fanIn, 4, hasBias: false)));
        foreach ((int fanIn, bool hidden, bool refused) in new[] { (1000, true, false), (1100, true, true), (1100, false, false) })
        {
            Sequential model = Model(fanIn, hidden);
            model.train();
            using (no_grad()) model.forward(randn(32, fanIn));
            model.eval();
            QuantizedGraph graph = QuantizedGraph.capture(model);
            if (refused)
            {
                StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => OnnxExport.export(graph, OnnxQuantFormat.IntegerInFloat)).Message,
                    "OnnxExport.export: quantized layer 0's accumulator could reach 18022400, beyond float32's exact integers (2^24); export it as Qdq or QOperator.");
            }
            else
            {
                Tensor x = randn(new long[] { 50, fanIn }, generator: new Generator(1));
                Tensor expected = IntegerModel.from_graph(graph).forward(x), actual = OnnxRuntimeRun.Run(OnnxExport.export(graph, OnnxQuantFormat.IntegerInFloat), x);
                Assert.IsTrue((actual - expected).abs().max().item<float>() <= 1e-5f * expected.abs().max().item<float>());
            }
        }
    }

    private static SoftRound.Tf.Onnx.Proto.ModelProto Parse(byte[] onnx) => SoftRound.Tf.Onnx.Proto.ModelProto.Parser.ParseFrom(onnx);

    private static string[] Dims(SoftRound.Tf.Onnx.Proto.ValueInfoProto v) =>
        v.Type.TensorType.Shape.Dim.Select(d => d.ValueCase == SoftRound.Tf.Onnx.Proto.TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam ? d.DimParam : d.DimValue.ToString()).ToArray();

    [TestMethod]
    public void FloatExport_StandaloneBatchNorms_StridedAndCeilPooling_BiaslessLayers_AndAConvolutionLast()
    {
        using var scope = NewDisposeScope();
        manual_seed(6);
        var norm = nn.BatchNorm2d(3);
        var plain = nn.BatchNorm2d(3, affine: false);
        using (no_grad())
        {
            norm.weight!.uniform_(0.5, 1.5);
            norm.bias!.uniform_(-0.5, 0.5);
            foreach (BatchNorm2d bn in new[] { norm, plain })
            {
                bn.running_mean!.uniform_(-0.3, 0.3);
                bn.running_var!.uniform_(0.5, 2);
            }
        }
        Sequential model = nn.Sequential(("conv", nn.Conv2d(2, 3, 3, padding: 1, bias: false)), ("relu", nn.ReLU()), ("pool", nn.MaxPool2d(3, stride: 2, ceil_mode: true)),
            ("norm", norm), ("plain", plain), ("last", nn.Conv2d(3, 2, 1)));
        model.eval();
        (byte[] onnx, _) = ExportAndRunFloat(model, randn(new long[] { 3, 2, 10, 10 }, generator: new Generator(9)));
        var proto = Parse(onnx);
        Assert.AreEqual(2, proto.Graph.Node.Count(n => n.OpType == "BatchNormalization"));
        CollectionAssert.AreEqual(new[] { "N", "2", "H", "W" }, Dims(proto.Graph.Input.Single()));
        Assert.AreEqual("output", proto.Graph.Node.Last().Name);
        Assert.AreEqual("float32 model", proto.DocString);
        // A linear model without biases: (N, F) inputs, Gemm without C.
        Sequential mlp = nn.Sequential(("fc", nn.Linear(4, 3, hasBias: false)));
        Tensor v = randn(5, 4);
        Tensor y;
        using (no_grad()) y = mlp.forward(v);
        byte[] gemm = OnnxExport.export(mlp);
        Assert.IsTrue((OnnxRuntimeRun.Run(gemm, v) - y).abs().max().item<float>() < 1e-6f);
        CollectionAssert.AreEqual(new[] { "N", "4" }, Dims(Parse(gemm).Graph.Input.Single()));
        Assert.AreEqual(2, Parse(gemm).Graph.Node.First().Input.Count);
        // A batch norm that cannot fold into the convolution before it is refused, not exported as something else.
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => OnnxExport.export(nn.Sequential(("c", nn.Conv2d(1, 2, 3)), ("b", nn.BatchNorm2d(3))))).Message,
            "OnnxExport.export: a batch norm folds into a convolution when it has the convolution's 2 channels");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => OnnxExport.export(nn.Sequential(("c", nn.Conv2d(1, 1, 3, padding: TorchSharp.Padding.Same))))).Message,
            "OnnxExport.export: c is a Conv2d padded with Zeros, Same, which this writer cannot express.");
    }

    [TestMethod]
    public void QuantizedExport_WritesEachFormatsNodes_AndInt4OnlyWhenAsked()
    {
        using var scope = NewDisposeScope();
        QuantizedGraph eight = QuantizedGraph.capture(TrainedQuantCnn(8, 8)), four = QuantizedGraph.capture(TrainedQuantCnn(4, 4));
        var qdq = Parse(OnnxExport.export(eight));
        var qop = Parse(OnnxExport.export(eight, OnnxQuantFormat.QOperator));
        Assert.AreEqual(0, qdq.Graph.Node.Count(n => n.OpType == "QLinearConv"));
        Assert.AreEqual(3, qop.Graph.Node.Count(n => n.OpType == "QLinearConv"));
        // Full 8-bit grids with Z = 0 after every ReLU: no Clip at all.
        Assert.AreEqual(0, qdq.Graph.Node.Count(n => n.OpType == "Clip"));
        CollectionAssert.AreEqual(new[] { "N", "1", "H", "W" }, Dims(qdq.Graph.Input.Single()));
        Assert.AreEqual("quantized model (Qdq)", qdq.DocString);
        int Weights(SoftRound.Tf.Onnx.Proto.ModelProto m, SoftRound.Tf.Onnx.Proto.TensorProto.Types.DataType type) =>
            m.Graph.Initializer.Count(t => t.Name.StartsWith("weight") && !t.Name.Contains("scale") && !t.Name.Contains("zero") && t.DataType == (int)type);
        var int8 = SoftRound.Tf.Onnx.Proto.TensorProto.Types.DataType.Int8;
        var int4 = SoftRound.Tf.Onnx.Proto.TensorProto.Types.DataType.Int4;
        Assert.AreEqual(4, Weights(Parse(OnnxExport.export(four)), int8));
        var packed = Parse(OnnxExport.export(four, int4Weights: true));
        Assert.AreEqual(4, Weights(packed, int4));
        Assert.AreEqual("quantized model (Qdq, int4 weights)", packed.DocString);
        Assert.AreEqual(4, Weights(Parse(OnnxExport.export(eight, int4Weights: true)), int8));
    }

    [TestMethod]
    public void ConvolutionsOnSignedInputs_WithTheZeroPointInsideTheGrid_AndSigned4BitCodes()
    {
        using var scope = NewDisposeScope();
        manual_seed(12);
        // Signed data: the first layer's uint8 grid has Z = 128; the second layer takes signed 4-bit codes [−8, 7] (int8, clipped).
        var model = nn.Sequential(("conv", new QuantConv2d(2, 4, 3, padding: 1)), ("pool", nn.MaxPool2d(2)),
            ("conv2", new QuantConv2d(4, 3, 3, padding: 1, inputSpec: new QuantSpec(4))), ("flatten", nn.Flatten()), ("fc", new QuantLinear(3 * 4 * 4, 2)));
        model.train();
        using (no_grad()) model.forward(randn(16, 2, 8, 8));
        model.eval();
        QuantizedGraph graph = QuantizedGraph.capture(model);
        Assert.AreEqual(128, graph.Layers[0].InputZero);
        Tensor x = randn(new long[] { 64, 2, 8, 8 }, generator: new Generator(13));
        Tensor expected = IntegerModel.from_graph(graph).forward(x);
        Tensor fake;
        using (no_grad()) fake = model.forward(x);
        double step = graph.Layers[^1].WeightScales.Max() * graph.Layers[^1].InputScale;
        Assert.IsTrue((expected - fake).abs().mean().item<float>() < 0.5 * step, $"{(expected - fake).abs().mean().item<float>() / step} steps");
        foreach (OnnxQuantFormat format in Enum.GetValues<OnnxQuantFormat>())
        {
            Tensor actual = OnnxRuntimeRun.Run(OnnxExport.export(graph, format), x);
            Assert.IsTrue((actual - expected).abs().max().item<float>() <= 1e-3 * step, $"{format}");
        }
    }

    [TestMethod]
    public void LayerDescriptions_WithInconsistentLengths_AreRefused()
    {
        int[] geometry = { 2, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 8, -128, 127 };
        QuantizedLayer Layer(double[] scales, int[]? bias, byte[] weights, int[]? g = null) => new(false, g ?? geometry, scales, 1.0, 0, 0, 255, bias, weights);
        Assert.AreEqual(2, Layer(new[] { 1.0, 1.0 }, new[] { 0, 0 }, new byte[2]).OutChannels);
        StringAssert.Contains(Assert.ThrowsExactly<System.IO.InvalidDataException>(() => Layer(new[] { 1.0 }, null, new byte[2])).Message, "a layer of 2 outputs has 1 weight scales and 0 biases");
        StringAssert.Contains(Assert.ThrowsExactly<System.IO.InvalidDataException>(() => Layer(new[] { 1.0, 1.0 }, new[] { 0 }, new byte[2])).Message, "has 2 weight scales and 1 biases");
        StringAssert.Contains(Assert.ThrowsExactly<System.IO.InvalidDataException>(() => Layer(new[] { 1.0, 1.0 }, null, new byte[3])).Message, "a layer has 3 weight bytes; its shape needs 2");
        StringAssert.Contains(Assert.ThrowsExactly<System.IO.InvalidDataException>(() => Layer(new[] { 1.0, 1.0 }, null, new byte[2], geometry[..13])).Message, "a layer's geometry has 13 values, not 14");
        // Pooling after flattening has no (C, H, W) sample.
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => new MaxPoolStep(2, 2, 2, 2, 0, 0).Shape(new long[] { 4 })).Message,
            "IntegerModel.forward: max pooling needs (C, H, W) samples; got (4).");
    }
}
