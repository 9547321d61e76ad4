using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Internals;
using SoftRound.Tf.Performance;

namespace SoftRound.Tf.Tests.Performance;

/// <summary>The allocator settings: applied on glibc, seen in where malloc puts a block, refused out of range.</summary>
[TestClass]
public sealed class NativeAllocatorTests
{
    private const string Test = nameof(NativeAllocatorTests);

    [TestMethod]
    public void KeepFreedMemory_MovesTheMmapThreshold_BlocksBelowItComeFromTheHeap()
    {
        if (!OperatingSystem.IsLinux()) Assert.Inconclusive("glibc only.");
        try
        {
            // A block larger than all free memory (fordblks, the top chunk included) cannot come from a free chunk, so
            // where it comes from is the threshold's decision alone.
            Assert.IsTrue(NativeAllocator.keep_freed_memory(mmapThreshold: 1 << 20));
            long above = BeyondFreeMemory(2 << 20);
            Assert.IsTrue(MappedBytesFor(above) >= above, "above a 1 MiB threshold: its own mapping");
            Assert.IsTrue(NativeAllocator.keep_freed_memory());
            Assert.AreEqual(0, MappedBytesFor(2 << 20), "2 MiB below the default 32 MiB threshold: from the heap");
            above = BeyondFreeMemory(40 << 20);
            Assert.IsTrue(MappedBytesFor(above) >= above, "above the 32 MiB threshold: its own mapping");
        }
        finally
        {
            NativeAllocator.keep_freed_memory();
        }
    }

    [TestMethod]
    public void KeepFreedMemory_OutOfRange_ThrowsNamingTheParameterAndValue()
    {
        foreach ((long mmap, long trim, string param, long value) in new[]
        {
            (-1L, 0L, "mmapThreshold", -1L), (NativeAllocator.MaxMmapThreshold + 1, 0L, "mmapThreshold", NativeAllocator.MaxMmapThreshold + 1),
            (0L, -1L, "trimThreshold", -1L), (0L, int.MaxValue + 1L, "trimThreshold", int.MaxValue + 1L),
        })
        {
            var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => NativeAllocator.keep_freed_memory(mmap, trim));
            Assert.AreEqual(param, e.ParamName);
            StringAssert.StartsWith(e.Message, $"NativeAllocator.keep_freed_memory: {param} must be between 0 and ");
            StringAssert.Contains(e.Message, $"got {value}.");
        }
    }

    [TestMethod]
    public void KeepFreedMemory_TheBoundsThemselves_AreAccepted()
    {
        if (!OperatingSystem.IsLinux()) Assert.Inconclusive("glibc only.");
        try
        {
            Assert.IsTrue(NativeAllocator.keep_freed_memory(NativeAllocator.MaxMmapThreshold, int.MaxValue));
            Assert.IsTrue(NativeAllocator.keep_freed_memory(0, 0));
        }
        finally
        {
            NativeAllocator.keep_freed_memory();
        }
    }

    [TestMethod]
    public void UseHugePages_AdvisesTheCallingThreadsHeap_AsTheKernelReportsIt()
    {
        if (!OperatingSystem.IsLinux()) Assert.Inconclusive("glibc only.");
        string mode = File.Exists(NativeAllocator.HugePageModeFile) ? File.ReadAllText(NativeAllocator.HugePageModeFile) : "";
        if (!mode.Contains("[madvise]") && !mode.Contains("[always]")) Assert.Inconclusive($"transparent huge pages are off here ({mode.Trim()}).");
        // A test runs on a pool thread. Its arena is usually one of its own, a 64 MiB heap aligned to its size; glibc
        // can also hand a new thread the main arena, whose [heap] ends at the program break (the path the codec's
        // command line takes on its main thread). The test checks whichever this thread has. The call places a probe
        // block and frees it; the thread's next block of that size is the same one (glibc's per-thread cache returns
        // the last block freed first), which tells the test where the call looked. A first call compiles code, whose
        // allocations could come in between: it is made beforehand.
        try
        {
            NativeAllocator.use_huge_pages(16 << 20);
            long advised = NativeAllocator.use_huge_pages(16 << 20);
            nint probe = Marshal.AllocHGlobal(64);
            Marshal.FreeHGlobal(probe);
            (long heapStart, long heapEnd) = MainHeap();
            if ((long)probe >= heapStart && (long)probe < heapEnd)
            {
                // From a block the call placed at the heap's top to the end of its mapping, in whole 2 MiB pages.
                Assert.IsTrue(advised > 0 && advised % (2L << 20) == 0 && advised <= heapEnd - heapStart, $"advised {advised} of a heap from {heapStart:x} to {heapEnd:x}");
                Assert.IsTrue(AdvisedBytes(heapStart, heapEnd) >= advised, $"the kernel shows {AdvisedBytes(heapStart, heapEnd)} bytes of the heap advised, the call says {advised}");
            }
            else
            {
                // From the first whole 2 MiB page past the arena's blocks (the probe) to the heap's end.
                long threadHeapEnd = ((long)probe & ~((64L << 20) - 1)) + (64L << 20);
                Assert.AreEqual(threadHeapEnd - (((long)probe + (2L << 20) - 1) & ~((2L << 20) - 1)), advised, $"probe {probe:x}");
                long shown = AdvisedBytes((long)probe, threadHeapEnd);
                Assert.IsTrue(shown >= advised, $"the kernel shows {shown} bytes of the thread's heap advised (hg), the call says {advised}");
            }
            Assert.AreEqual(0, MappedBytesFor(2 << 20), "the heap keeps serving 2 MiB blocks (keep_freed_memory's threshold)");
        }
        finally
        {
            NativeAllocator.keep_freed_memory();
        }
    }

    [TestMethod]
    public void UseHugePages_TheBoundsThemselves_AreAccepted_AndTheKernelsModeDecides()
    {
        if (!OperatingSystem.IsLinux()) Assert.Inconclusive("glibc only.");
        try
        {
            Assert.IsTrue(NativeAllocator.use_huge_pages(2L << 20) >= 0);
            Assert.IsTrue(NativeAllocator.use_huge_pages(1L << 30) >= 0);
        }
        finally
        {
            NativeAllocator.keep_freed_memory();
        }
        Assert.IsTrue(NativeAllocator.AllowsAdvice("always [madvise] never\n"));
        Assert.IsTrue(NativeAllocator.AllowsAdvice("[always] madvise never\n"));
        Assert.IsFalse(NativeAllocator.AllowsAdvice("always madvise [never]\n"));
        Assert.IsFalse(NativeAllocator.AllowsAdvice(""));
    }

    [TestMethod]
    public void UseHugePages_SetsLibtorchsVariable_OnlyWhereUnset()
    {
        if (!OperatingSystem.IsLinux()) Assert.Inconclusive("glibc only.");
        try
        {
            Assert.IsTrue(NativeEnvironment.set(NativeAllocator.TorchHugePagesVariable, "0", overwrite: true, Test));
            NativeAllocator.use_huge_pages(4 << 20);
            Assert.AreEqual("0", NativeEnvironment.get(NativeAllocator.TorchHugePagesVariable, Test), "a value the user set stays");
            Assert.IsTrue(NativeEnvironment.unset(NativeAllocator.TorchHugePagesVariable, Test));
            NativeAllocator.use_huge_pages(4 << 20);
            Assert.AreEqual("1", NativeEnvironment.get(NativeAllocator.TorchHugePagesVariable, Test));
        }
        finally
        {
            NativeAllocator.keep_freed_memory();
        }
    }

    [TestMethod]
    public void UseHugePages_OutOfRange_ThrowsNamingTheParameterAndValue_ChangesNothing()
    {
        if (OperatingSystem.IsLinux()) Assert.IsTrue(NativeEnvironment.unset(NativeAllocator.TorchHugePagesVariable, Test));
        foreach (long reserve in new[] { (2L << 20) - 1, (1L << 30) + 1, 0, -1 })
        {
            var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => NativeAllocator.use_huge_pages(reserve));
            Assert.AreEqual("reserve", e.ParamName);
            Assert.AreEqual(reserve, e.ActualValue);
            StringAssert.StartsWith(e.Message, $"NativeAllocator.use_huge_pages: reserve must be between {2L << 20} and {1L << 30} bytes; got {reserve}.");
        }
        if (OperatingSystem.IsLinux()) Assert.IsNull(NativeEnvironment.get(NativeAllocator.TorchHugePagesVariable, Test), "the variable stays unset");
    }

    /// <summary>The main arena's heap, [heap] in /proc/self/maps; (0, 0) if there is none.</summary>
    private static (long start, long end) MainHeap()
    {
        // The kernel lists an advised part of the heap as a mapping of its own, also named [heap].
        long start = long.MaxValue, end = 0;
        foreach (string line in File.ReadLines("/proc/self/maps"))
        {
            if (!line.EndsWith("[heap]", StringComparison.Ordinal)) continue;
            int dash = line.IndexOf('-'), space = line.IndexOf(' ');
            start = Math.Min(start, long.Parse(line.AsSpan(0, dash), NumberStyles.HexNumber));
            end = Math.Max(end, long.Parse(line.AsSpan(dash + 1, space - dash - 1), NumberStyles.HexNumber));
        }
        return end == 0 ? (0, 0) : (start, end);
    }

    /// <summary>The bytes from <paramref name="from"/> to <paramref name="to"/> in mappings the kernel marks advised for huge pages (<c>hg</c> in smaps' VmFlags).</summary>
    private static long AdvisedBytes(long from, long to)
    {
        long advised = 0, start = 0, end = 0;
        foreach (string line in File.ReadLines("/proc/self/smaps"))
        {
            int dash = line.IndexOf('-'), space = line.IndexOf(' ');
            if (dash > 0 && space > dash && long.TryParse(line.AsSpan(0, dash), NumberStyles.HexNumber, null, out long s))
            {
                (start, end) = (s, long.Parse(line.AsSpan(dash + 1, space - dash - 1), NumberStyles.HexNumber));
            }
            else if (line.StartsWith("VmFlags:", StringComparison.Ordinal) && line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains("hg"))
            {
                advised += Math.Max(0, Math.Min(end, to) - Math.Max(start, from));
            }
        }
        return advised;
    }

    /// <summary>How much glibc's memory in separate mappings grows while a block of <paramref name="bytes"/> is held.</summary>
    private static long MappedBytesFor(long bytes)
    {
        long before = (long)mallinfo2().hblkhd;
        nint block = Marshal.AllocHGlobal((nint)bytes);
        try
        {
            return (long)mallinfo2().hblkhd - before;
        }
        finally
        {
            Marshal.FreeHGlobal(block);
        }
    }

    /// <summary>At least <paramref name="bytes"/>, and more than all free memory of every arena.</summary>
    private static long BeyondFreeMemory(long bytes) => Math.Max(bytes, (long)mallinfo2().fordblks + (1 << 20));

    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost;
    }

    [DllImport("libc")]
    private static extern MallInfo2 mallinfo2();
}
