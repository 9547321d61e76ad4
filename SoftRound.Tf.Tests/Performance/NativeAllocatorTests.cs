using System;
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
