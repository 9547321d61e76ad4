using System;
using System.IO;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Tests.Helpers;

namespace SoftRound.Tf.Tests.Examples;

/// <summary>The main example as a user runs it (built by <c>dotnet test</c> with the rest of the solution).</summary>
[TestClass]
public sealed class LearnedQuantizationTests
{
    private static (int exitCode, string output) Run(string arguments) => ExampleProcess.Run("LearnedQuantization", arguments);

    [TestMethod]
    [DataRow("--epochs abc", "--epochs")]
    [DataRow("--epochs 0", "--epochs must be 1 to 1000")]
    [DataRow("--seed -3", "--seed")]
    [DataRow("--colour red", "--colour")]
    public void BadOption_PrintsWhatIsWrong_AndExitsWithTwo(string arguments, string mentioned)
    {
        (int exitCode, string output) = Run(arguments);
        Assert.AreEqual(2, exitCode, output);
        StringAssert.Contains(output, mentioned);
    }

    [TestMethod]
    public void ShortRun_PrintsTheTableAndWritesTheLossCurves()
    {
        string folder = Path.Combine(Path.GetTempPath(), "softround-lq-" + Guid.NewGuid().ToString("N"));
        try
        {
            (int exitCode, string output) = Run($"--epochs 2 --seed 5 --output \"{folder}\"");
            Assert.AreEqual(0, exitCode, output);
            foreach (string method in new[] { "hard round", "round_st", "differentiable_round", "soft_round + noise", "MSE relative to hard round" })
            {
                StringAssert.Contains(output, method);
            }
            Assert.IsGreaterThan(10_000L, new FileInfo(Path.Combine(folder, "loss-curves.png")).Length);
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, true);
        }
    }
}
