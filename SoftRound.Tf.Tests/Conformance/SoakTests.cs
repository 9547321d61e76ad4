using System;
using System.IO;
using System.Runtime.InteropServices;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Conformance;

/// <summary>
/// Long runs of forward+backward on 64K-element tensors, cycling through every op: the live tensor count stays flat
/// and the process's resident memory, after glibc returns what it holds (malloc_trim), grows by less than 50 MB.
/// </summary>
[TestClass]
public sealed partial class SoakTests
{
    private const int Elements = 1 << 16;

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);

    [TestMethod]
    public void TwoThousandCalls_LeaveTensorsAndMemoryFlat() => Soak(2_000);

    [TestMethod]
    [TestCategory("Soak")]
    public void HundredThousandCalls_LeaveTensorsAndMemoryFlat() => Soak(100_000);

    private static void Soak(int calls)
    {
        using Tensor data = randn(Elements) * 3;
        void Call(int i)
        {
            using var scope = NewDisposeScope();
            Tensor x = data.clone().requires_grad_(true);
            OpCase.All[i % OpCase.All.Length].Apply(x).sum().backward();
        }
        for (int i = 0; i < 2 * OpCase.All.Length; i++) Call(i);
        (long tensors, long rss) before = Measure();
        for (int i = 0; i < calls; i++) Call(i);
        (long tensors, long rss) after = Measure();
        ConformanceReport.Case("soak", () =>
        {
            Assert.AreEqual(before.tensors, after.tensors, "live tensors");
            Assert.IsLessThan(50L << 20, after.rss - before.rss, $"RSS grew from {before.rss >> 20} MB to {after.rss >> 20} MB");
        });
    }

    private static (long tensors, long rss) Measure()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        MallocTrim(0);
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return (Tensor.TotalCount, long.Parse(line[6..].Trim().Split(' ')[0]) * 1024);
            }
        }
        throw new InvalidOperationException("/proc/self/status has no VmRSS");
    }
}
