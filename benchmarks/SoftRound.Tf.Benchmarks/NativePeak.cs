using System;
using System.IO;
using System.Runtime.InteropServices;

namespace SoftRound.Tf.Benchmarks;

/// <summary>
/// The peak native memory one call adds, from the kernel's peak-RSS counter: glibc is asked to return what it holds
/// (malloc_trim), the peak is reset (/proc/self/clear_refs), and the call's peak RSS is read against the RSS before it.
/// </summary>
/// <remarks>Linux only; elsewhere, or without permission to reset the peak, it returns null.</remarks>
public static partial class NativePeak
{
    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);

    /// <summary>Peak bytes above the starting RSS while <paramref name="call"/> runs, or null where that cannot be read.</summary>
    public static long? Measure(Action call)
    {
        if (!OperatingSystem.IsLinux()) return null;
        try
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            MallocTrim(0);
            File.WriteAllText("/proc/self/clear_refs", "5");
            long before = Status("VmRSS:");
            call();
            return Math.Max(0, Status("VmHWM:") - before);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static long Status(string field)
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                return long.Parse(line[field.Length..].Trim().Split(' ')[0]) * 1024;
            }
        }
        throw new IOException($"/proc/self/status has no {field}");
    }
}
