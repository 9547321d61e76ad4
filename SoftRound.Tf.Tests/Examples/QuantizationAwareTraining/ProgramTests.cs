using System;
using System.IO;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Tests.Helpers;

namespace SoftRound.Tf.Tests.Examples.QuantizationAwareTraining;

/// <summary>The QAT example as a user runs it (built by <c>dotnet test</c> with the rest of the solution).</summary>
[TestClass]
public sealed class ProgramTests
{
    private static (int exitCode, string output) Run(string arguments) => ExampleProcess.Run("QuantizationAwareTraining", arguments);

    [TestMethod]
    [DataRow("--seed -3", "--seed must be 0 or more")]
    [DataRow("--train-images 5", "--train-images 128 to 12000")]
    [DataRow("--test-images 50", "--test-images 100 to 10000")]
    [DataRow("--float-epochs 0", "--float-epochs and --qat-epochs 1 to 100")]
    [DataRow("--qat-epochs abc", "--qat-epochs")]
    [DataRow("--colour red", "--colour")]
    public void BadOption_PrintsWhatIsWrong_AndExitsWithTwo(string arguments, string mentioned)
    {
        (int exitCode, string output) = Run(arguments);
        Assert.AreEqual(2, exitCode, output);
        StringAssert.Contains(output, mentioned);
    }

    [TestMethod]
    [TestCategory("Training")]
    public void ShortRun_PrintsBothTablesAndWritesThePlot()
    {
        string folder = Path.Combine(Path.GetTempPath(), "softround-qat-" + Guid.NewGuid().ToString("N"));
        try
        {
            (int exitCode, string output) = Run($"--train-images 512 --test-images 500 --float-epochs 1 --qat-epochs 1 --seed 3 --output \"{folder}\"");
            Assert.AreEqual(0, exitCode, output);
            foreach (string text in new[] { "512 training and 500 test images", "post-training", "straight-thro", "soft", "sigmoid", "first/last", "Integer export", "of 500", "ONNX Runtime" })
            {
                StringAssert.Contains(output, text);
            }
            Assert.IsGreaterThan(10_000L, new FileInfo(Path.Combine(folder, "qat-accuracy.png")).Length);
            // The 8-bit model as written loads: in ONNX Runtime, and as an integer model with the graph the ONNX file was written from.
            byte[] onnx = File.ReadAllBytes(Path.Combine(folder, "model.onnx"));
            using (var session = new Microsoft.ML.OnnxRuntime.InferenceSession(onnx)) Assert.AreEqual("input", session.InputMetadata.Keys.Single());
            using FileStream integer = File.OpenRead(Path.Combine(folder, "model.srqi"));
            CollectionAssert.AreEqual(onnx, SoftRound.Tf.Onnx.OnnxExport.export(SoftRound.Tf.Quantization.IntegerModel.load(integer).graph));
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, true);
        }
    }
}
