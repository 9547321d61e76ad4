using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Performance;

namespace SoftRound.Tf.Tests.Performance;

/// <summary>The allocator settings: applied on glibc, seen in where malloc puts a block, refused out of range.</summary>
[TestClass]
public sealed class NativeAllocatorTests
{
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
        // A test runs on a pool thread, whose arena is a 64 MiB heap aligned to its size (the main thread's [heap] is
        // the other path, which the codec's command line takes).
        nint probe = Marshal.AllocHGlobal(64);
        Marshal.FreeHGlobal(probe);
        long heapEnd = ((long)probe & ~((64L << 20) - 1)) + (64L << 20);
        try
        {
            long before = AdvisedBytes((long)probe, heapEnd);
            long advised = NativeAllocator.use_huge_pages(16 << 20);
            long after = AdvisedBytes((long)probe, heapEnd);
            // From the first whole 2 MiB page past the arena's blocks (the call's own probe is the block just freed) to
            // the heap's end.
            Assert.AreEqual(heapEnd - (((long)probe + (2L << 20) - 1) & ~((2L << 20) - 1)), advised);
            Assert.IsTrue(after >= advised, $"the kernel shows {after} bytes of the thread's heap advised (hg; {before} before), the call says {advised}");
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
            Assert.AreEqual(0, setenv(NativeAllocator.TorchHugePagesVariable, "0", 1));
            NativeAllocator.use_huge_pages(4 << 20);
            Assert.AreEqual("0", Marshal.PtrToStringUTF8(getenv(NativeAllocator.TorchHugePagesVariable)), "a value the user set stays");
            Assert.AreEqual(0, unsetenv(NativeAllocator.TorchHugePagesVariable));
            NativeAllocator.use_huge_pages(4 << 20);
            Assert.AreEqual("1", Marshal.PtrToStringUTF8(getenv(NativeAllocator.TorchHugePagesVariable)));
        }
        finally
        {
            NativeAllocator.keep_freed_memory();
        }
    }

    [TestMethod]
    public void UseHugePages_OutOfRange_ThrowsNamingTheParameterAndValue_ChangesNothing()
    {
        if (OperatingSystem.IsLinux()) Assert.AreEqual(0, unsetenv(NativeAllocator.TorchHugePagesVariable));
        foreach (long reserve in new[] { (2L << 20) - 1, (1L << 30) + 1, 0, -1 })
        {
            var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => NativeAllocator.use_huge_pages(reserve));
            Assert.AreEqual("reserve", e.ParamName);
            Assert.AreEqual(reserve, e.ActualValue);
            StringAssert.StartsWith(e.Message, $"NativeAllocator.use_huge_pages: reserve must be between {2L << 20} and {1L << 30} bytes; got {reserve}.");
        }
        if (OperatingSystem.IsLinux()) Assert.AreEqual(IntPtr.Zero, getenv(NativeAllocator.TorchHugePagesVariable), "the variable stays unset");
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

    [DllImport("libc", BestFitMapping = false)]
    private static extern int setenv([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);

    [DllImport("libc", BestFitMapping = false)]
    private static extern int unsetenv([MarshalAs(UnmanagedType.LPUTF8Str)] string name);

    [DllImport("libc", BestFitMapping = false)]
    private static extern IntPtr getenv([MarshalAs(UnmanagedType.LPUTF8Str)] string name);

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
