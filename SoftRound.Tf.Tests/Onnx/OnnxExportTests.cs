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
        Sequential q = QuantizationOps.prepare_qat(model, new QuantSpec(weightBits, axis: 0), new QuantSpec(activationBits, signed: false, symmetric: false));
        var optimizer = optim.Adam(q.parameters(), 1e-3);
        var generator = new Generator(seed);
        for (int step = 0; step < 5; step++)
        {
            optimizer.zero_grad();
            using (NewDisposeScope())
            {
                Tensor x = rand(new long[] { 16, 1, 12, 12 }, generator: generator);
                Tensor target = randint(0, 5, new long[] { 16 }, generator: generator);
                nn.functional.cross_entropy(q.forward(x), target).backward();
            }
            optimizer.step();
        }
        q.eval();
        return q;
    }

    [TestMethod]
    public void FloatExport_EqualsTheTorchSharpModel_WithTheBatchNormFolded()
    {
        using var scope = NewDisposeScope();
        Sequential model = FloatCnn();
        model.eval();
        Tensor x = randn(new long[] { 7, 1, 12, 12 }, generator: new Generator(3));
        Tensor expected;
        using (no_grad()) expected = model.forward(x);
        byte[] onnx = OnnxExport.export(model);
        Tensor actual = OnnxRuntimeRun.Run(onnx, x);
        CollectionAssert.AreEqual(expected.shape, actual.shape);
        double scale = expected.abs().max().item<float>();
        Assert.IsTrue(scale > 0.05, $"{scale}");
        Assert.IsTrue((actual - expected).abs().max().item<float>() <= 1e-5 * scale, $"{(actual - expected).abs().max().item<float>()} of {scale}");
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
}
