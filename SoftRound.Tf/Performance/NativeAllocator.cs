using System;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using SoftRound.Tf.Internals;

namespace SoftRound.Tf.Performance;

/// <summary>
/// Opt-in settings of the C library's allocator, which allocates every libtorch tensor on the CPU: keep freed tensor
/// memory for the next allocation instead of returning it to the system, and back the heap with transparent huge pages.
/// </summary>
/// <remarks>
/// <para>
/// glibc's malloc serves large blocks (128 KiB at first) with a fresh <c>mmap</c> and returns them with <c>munmap</c> when
/// freed, so the next training step's tensors of the same size are new pages the kernel must fault in and zero: a
/// 4 MiB activation costs 1,024 page faults every step. glibc raises that threshold by itself after such a free, but
/// not in every process (measured: a .NET process running the codec example's training step stayed at 51–54 ms a
/// step, against 38–45 ms after <see cref="keep_freed_memory"/>; a PyTorch process ran the same step in 40–45 ms).
/// </para>
/// <para>
/// The settings are process-wide and cannot be undone; they cost resident memory: up to
/// <c>trimThreshold</c> bytes of freed memory stay mapped. Setting the environment variable
/// <c>GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=268435456</c> before the
/// process starts has the same effect. Other C libraries (Windows, macOS, musl) are left alone.
/// </para>
/// </remarks>
public static class NativeAllocator
{
    private const string Name = nameof(NativeAllocator);
    private const int MmapThresholdParameter = -3, TrimThresholdParameter = -1;

    /// <summary>The largest mmap threshold glibc accepts on 64-bit systems: 32 MiB.</summary>
    public const long MaxMmapThreshold = 32L << 20;

    /// <summary>
    /// Serves blocks below <paramref name="mmapThreshold"/> bytes from the heap, where freed memory is reused, and
    /// returns free memory at the heap's top to the system only beyond <paramref name="trimThreshold"/> bytes
    /// (glibc's <c>M_MMAP_THRESHOLD</c> and <c>M_TRIM_THRESHOLD</c>). Returns whether the settings were applied: false
    /// when the process's C library is not glibc.
    /// </summary>
    /// <param name="mmapThreshold">Bytes; 0 to <see cref="MaxMmapThreshold"/>; default 32 MiB.</param>
    /// <param name="trimThreshold">Bytes; 0 to <see cref="int.MaxValue"/>; default 256 MiB.</param>
    /// <exception cref="ArgumentOutOfRangeException">A threshold is outside its range.</exception>
    public static bool keep_freed_memory(long mmapThreshold = MaxMmapThreshold, long trimThreshold = 256L << 20)
    {
        if (mmapThreshold is < 0 or > MaxMmapThreshold)
        {
            throw new ArgumentOutOfRangeException(nameof(mmapThreshold), mmapThreshold,
                $"{Name}.{nameof(keep_freed_memory)}: {nameof(mmapThreshold)} must be between 0 and {MaxMmapThreshold} bytes; got {mmapThreshold}.");
        }
        if (trimThreshold is < 0 or > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(trimThreshold), trimThreshold,
                $"{Name}.{nameof(keep_freed_memory)}: {nameof(trimThreshold)} must be between 0 and {int.MaxValue} bytes; got {trimThreshold}.");
        }
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            int mmap = mallopt(MmapThresholdParameter, (int)mmapThreshold), trim = mallopt(TrimThresholdParameter, (int)trimThreshold);
            return mmap == 1 && trim == 1;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }

    /// <summary>The environment variable libtorch reads, at its first CPU allocation, to back its blocks of 2 MiB or more with huge pages.</summary>
    public const string TorchHugePagesVariable = "THP_MEM_ALLOC_ENABLE";

    /// <summary>The file that says the kernel's transparent huge page mode (<c>always [madvise] never</c>).</summary>
    public const string HugePageModeFile = "/sys/kernel/mm/transparent_hugepage/enabled";

    private const long HugePage = 2L << 20, ThreadHeapSize = 64L << 20;
    private const int TopPadParameter = -2, DefaultTopPad = 128 << 10, MadviseHugePage = 14;

    /// <summary>
    /// Asks the kernel to back the calling thread's malloc heap with 2 MiB pages, so that fresh memory is faulted in 512
    /// times less often: sets <see cref="keep_freed_memory"/>'s defaults (the trim threshold at least twice
    /// <paramref name="reserve"/>, at most 2³¹ − 1 bytes), advises <c>MADV_HUGEPAGE</c> the heap's room to grow, and sets
    /// <see cref="TorchHugePagesVariable"/> (unless set) so that libtorch advises its own blocks beyond the heap (those of
    /// 32 MiB or more). On the main thread the room is the main arena's <c>[heap]</c> grown by
    /// <paramref name="reserve"/> bytes; on a thread with an arena of its own, that arena's 64 MiB heap. Returns the bytes
    /// advised: 0 when the C library is not glibc or the kernel's mode (<see cref="HugePageModeFile"/>) is
    /// <c>never</c> or unknown.
    /// </summary>
    /// <remarks>
    /// Call it first thing on the thread that will run the model, before any tensor exists: libtorch's loading
    /// allocates into the heap, and libtorch reads the variable once, at its first CPU allocation. Measured on a 2-vCPU
    /// AMD EPYC virtual machine, where a page fault is dear: loading libtorch 0.37 → 0.2 s, the codec example's compress
    /// call 1.1 → 0.8 s. The main heap grows again beyond the reserve in 4 KiB pages. Memory is committed 2 MiB at a
    /// time, so resident memory can grow by up to that much per region touched. Setting
    /// <c>GLIBC_TUNABLES=glibc.malloc.hugetlb=1</c> before the process starts advises every arena as it grows instead.
    /// </remarks>
    public static long use_huge_pages(long reserve = 512L << 20)
    {
        if (reserve is < HugePage or > 1L << 30)
        {
            throw new ArgumentOutOfRangeException(nameof(reserve), reserve,
                $"{Name}.{nameof(use_huge_pages)}: {nameof(reserve)} must be between {HugePage} and {1L << 30} bytes; got {reserve}.");
        }
        if (!OperatingSystem.IsLinux() || !File.Exists(HugePageModeFile)) return 0;
        if (!AllowsAdvice(File.ReadAllText(HugePageModeFile))) return 0;
        try
        {
            if (!keep_freed_memory(MaxMmapThreshold, Math.Min(int.MaxValue, Math.Max(256L << 20, 2 * reserve)))) return 0;
            NativeEnvironment.set(TorchHugePagesVariable, "1", overwrite: false, $"{Name}.{nameof(use_huge_pages)}");
            nint probe = malloc(64);
            if (probe == 0) return 0;
            (_, _, bool mainHeap) = Mapping((long)probe);
            free(probe);
            if (!mainHeap)
            {
                // Another arena: its heap is a 64 MiB mapping aligned to its size, of which malloc makes more writable
                // as it grows; the advice covers all of it.
                long heap = (long)probe & ~(ThreadHeapSize - 1);
                return Advise((long)probe, heap + ThreadHeapSize);
            }
            // The main arena's heap ends at the program break: a block larger than its free top makes malloc move the
            // break by the block and the pad (unless a freed chunk fits it); a top of 32 MiB or more is large enough.
            long top = (long)mallinfo2().keepcost;
            nint block;
            mallopt(TopPadParameter, (int)reserve);
            try
            {
                block = malloc((nint)(top + (64 << 10) < MaxMmapThreshold ? top + (64 << 10) : 64));
            }
            finally
            {
                mallopt(TopPadParameter, DefaultTopPad);
            }
            if (block == 0) return 0;
            try
            {
                return Advise((long)block, Mapping((long)block).end);
            }
            finally
            {
                free(block);
            }
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return 0;
        }
    }

    /// <summary>Whether the kernel's mode, as <see cref="HugePageModeFile"/> says it (the chosen one in brackets), honours <c>MADV_HUGEPAGE</c>: <c>always</c> or <c>madvise</c>.</summary>
    internal static bool AllowsAdvice(string mode) => mode.Contains("[always]", StringComparison.Ordinal) || mode.Contains("[madvise]", StringComparison.Ordinal);

    /// <summary>Advises the whole 2 MiB pages from <paramref name="from"/> to <paramref name="to"/>; the bytes advised.</summary>
    private static long Advise(long from, long to)
    {
        from = (from + HugePage - 1) & ~(HugePage - 1);
        to &= ~(HugePage - 1);
        return to > from && madvise((nint)from, (nint)(to - from), MadviseHugePage) == 0 ? to - from : 0;
    }

    /// <summary>The mapping of this process (<c>/proc/self/maps</c>) that holds <paramref name="address"/>, and whether it is the main arena's <c>[heap]</c>; (0, 0, false) if none.</summary>
    private static (long start, long end, bool mainHeap) Mapping(long address)
    {
        foreach (string line in File.ReadLines("/proc/self/maps"))
        {
            int dash = line.IndexOf('-'), space = line.IndexOf(' ');
            long start = long.Parse(line.AsSpan(0, dash), NumberStyles.HexNumber), end = long.Parse(line.AsSpan(dash + 1, space - dash - 1), NumberStyles.HexNumber);
            if (start <= address && address < end) return (start, end, line.EndsWith("[heap]", StringComparison.Ordinal));
        }
        return (0, 0, false);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost;
    }

    [DllImport("libc")]
    private static extern MallInfo2 mallinfo2();

    [DllImport("libc")]
    private static extern nint malloc(nint size);

    [DllImport("libc")]
    private static extern void free(nint block);

    [DllImport("libc")]
    private static extern int madvise(nint address, nint length, int advice);

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int mallopt(int parameter, int value);
}
