using System;
using System.Runtime.InteropServices;

namespace SoftRound.Tf.Performance;

/// <summary>
/// Opt-in settings of the C library's allocator, which allocates every libtorch tensor on the CPU: keep freed tensor
/// memory for the next allocation instead of returning it to the system.
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

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int mallopt(int parameter, int value);
}
