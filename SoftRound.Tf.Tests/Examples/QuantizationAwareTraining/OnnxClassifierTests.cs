using System;
using System.IO;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using QuantizationAwareTraining;
using SoftRound.Tf.Onnx;
using SoftRound.Tf.Quantization;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Examples.QuantizationAwareTraining;

[TestClass]
public sealed class OnnxClassifierTests : WithoutOneDnn
{
    private static string Data => Path.Combine(Repository.Root, "examples", "QuantizationAwareTraining", "data");

    private static void Train(Sequential model, FashionMnist data, double learningRate, ulong seed)
    {
        model.train();
        var optimizer = optim.Adam(model.parameters(), learningRate);
        Tensor order = randperm(data.Count, generator: new Generator(seed));
        for (long start = 0; start + 64 <= data.Count; start += 64)
        {
            using var scope = NewDisposeScope();
            Tensor index = order[(int)start..(int)(start + 64)];
            optimizer.zero_grad();
            nn.functional.cross_entropy(model.forward(data.Images[index]), data.Labels[index]).backward();
            optimizer.step();
        }
        model.eval();
    }

    [TestMethod]
    [TestCategory("Training")]
    public void PrepareQatWithFoldedBatchNorms_ExportsToOnnx_AndOnnxRuntimePredictsAsTheIntegerReference_OnTheWholeTestSet()
    {
        using var scope = NewDisposeScope();
        FashionMnist train = FashionMnist.Load(Data, "train").Take(1536), test = FashionMnist.Load(Data, "t10k");
        manual_seed(1);
        Sequential trained = Cnn.Float();
        Train(trained, train, 2e-3, 1);
        float[] pixels = test.Images.contiguous().data<float>().ToArray();
        foreach (int bits in new[] { 8, 4, 2 })
        {
            trained.train();
            Sequential q = QuantizationOps.prepare_qat(trained, new QuantSpec(bits, axis: 0), new QuantSpec(bits, signed: false, symmetric: false));
            Assert.IsInstanceOfType<QuantConvBn2d>(q.named_children().First().module);
            Train(q, train.Take(512), 5e-4, (ulong)bits);
            QuantizedGraph graph = QuantizedGraph.capture(q);
            long[] reference = IntegerModel.from_graph(graph).forward(test.Images).argmax(1).data<long>().ToArray();
            foreach (OnnxQuantFormat format in Enum.GetValues<OnnxQuantFormat>())
            {
                using var runtime = new OnnxClassifier(OnnxExport.export(graph, format), threads: 2);
                long[] predicted = runtime.Predict(pixels, (int)test.Count);
                int differ = predicted.Zip(reference).Count(p => p.First != p.Second);
                double accuracy = predicted.Zip(test.Labels.data<long>().ToArray()).Count(p => p.First == p.Second) / (double)test.Count;
                Console.WriteLine($"{bits} bits, {format}: {differ} of {test.Count} predictions differ from the integer reference; accuracy {accuracy:P2}");
                Assert.AreEqual(0, differ, $"{bits} bits, {format}");
                Assert.IsTrue(accuracy > (bits == 2 ? 0.3 : 0.6), $"{bits} bits: {accuracy}");
            }
        }
    }
}
