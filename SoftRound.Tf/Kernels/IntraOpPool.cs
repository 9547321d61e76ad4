using System;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace SoftRound.Tf.Kernels;

/// <summary>
/// Runs the kernels' chunks on the threads libtorch's own operations use: libtorch's OpenMP team where the process
/// has loaded the GNU OpenMP runtime libtorch ships with (Linux), otherwise .NET's thread pool.
/// </summary>
/// <remarks>
/// libtorch parallelises its operations with OpenMP, whose idle threads spin for a while before sleeping. Work handed
/// to a second pool of threads in that window competes with them for the cores: measured on 2 cores, 1M-element
/// kernels interleaved with libtorch operations ran no faster on 2 threads than on 1 with .NET's pool. Entering an
/// OpenMP parallel region from the calling thread reuses libtorch's team instead (the team belongs to the calling
/// thread, as libtorch's does). A region entered from inside another region runs on one thread, as OpenMP nests.
/// Chunks are handed out in order from a shared counter; callers must not depend on which thread runs which chunk.
/// </remarks>
internal static unsafe class IntraOpPool
{
    /// <summary>Where the chunks run.</summary>
    internal enum Backend
    {
        /// <summary>libtorch's OpenMP team.</summary>
        OpenMp,

        /// <summary>.NET's thread pool (Parallel.For).</summary>
        DotNet,
    }

    private static readonly OpenMpRuntime? Runtime = OpenMpRuntime.Find();

    /// <summary>Whether libtorch's OpenMP runtime was found in this process.</summary>
    internal static bool HasOpenMp => Runtime is not null;

    /// <summary>The path of the OpenMP runtime in use, or null.</summary>
    internal static string? OpenMpLibrary => Runtime?.Library;

    /// <summary>The backend in use: <see cref="Backend.OpenMp"/> when found; settable to compare the two.</summary>
    internal static Backend Current { get; set; } = Runtime is null ? Backend.DotNet : Backend.OpenMp;

    /// <summary>Runs body(0) … body(count − 1), on up to <paramref name="threads"/> threads; the first exception is rethrown.</summary>
    public static void For(int count, int threads, Action<int> body)
    {
        if (threads <= 1 || count <= 1)
        {
            for (int c = 0; c < count; c++) body(c);
            return;
        }
        if (Current == Backend.OpenMp && Runtime is { } runtime)
        {
            var work = new Work(body, count);
            GCHandle handle = GCHandle.Alloc(work);
            try
            {
                runtime.Parallel(&Worker, GCHandle.ToIntPtr(handle), (uint)Math.Min(threads, count), 0);
            }
            finally
            {
                handle.Free();
            }
            if (work.Error is { } error) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
            return;
        }
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = threads }, body);
    }

    [UnmanagedCallersOnly]
    private static void Worker(nint data)
    {
        var work = (Work)GCHandle.FromIntPtr(data).Target!;
        try
        {
            int c;
            while ((c = Interlocked.Increment(ref work.Next) - 1) < work.Count && Volatile.Read(ref work.Error) is null) work.Body(c);
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref work.Error, e, null);
        }
    }

    private sealed class Work(Action<int> body, int count)
    {
        public readonly Action<int> Body = body;
        public readonly int Count = count;
        public int Next;
        public Exception? Error;
    }

    /// <summary>GOMP_parallel of the GNU OpenMP runtime libtorch loaded.</summary>
    private sealed class OpenMpRuntime(string path, delegate* unmanaged<delegate* unmanaged<nint, void>, nint, uint, uint, void> parallel)
    {
        public readonly string Library = path;
        public readonly delegate* unmanaged<delegate* unmanaged<nint, void>, nint, uint, uint, void> Parallel = parallel;

        /// <summary>
        /// The runtime libtorch_cpu was linked against, read from this process's memory map after making sure
        /// libtorch is loaded; null on other systems, when it is not GNU's, or when anything fails.
        /// </summary>
        public static OpenMpRuntime? Find()
        {
            try
            {
                if (!OperatingSystem.IsLinux()) return null;
                TorchSharp.torch.get_num_threads();
                string[] mapped = File.ReadLines("/proc/self/maps")
                    .Select(line => line.IndexOf('/') is int at and >= 0 ? line[at..] : "")
                    .Where(path => path.Length > 0).Distinct().ToArray();
                string? torch = mapped.FirstOrDefault(p => Path.GetFileName(p) == "libtorch_cpu.so");
                if (torch is null) return null;
                string? gomp = mapped.FirstOrDefault(p => Path.GetDirectoryName(p) == Path.GetDirectoryName(torch) && Path.GetFileName(p).StartsWith("libgomp", StringComparison.Ordinal));
                if (gomp is null || !NativeLibrary.TryLoad(gomp, out nint library)) return null;
                if (!NativeLibrary.TryGetExport(library, "GOMP_parallel", out nint parallel)) return null;
                return new OpenMpRuntime(gomp, (delegate* unmanaged<delegate* unmanaged<nint, void>, nint, uint, uint, void>)parallel);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or DllNotFoundException or BadImageFormatException)
            {
                return null;
            }
        }
    }
}
