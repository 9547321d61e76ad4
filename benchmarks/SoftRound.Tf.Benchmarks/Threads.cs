using System;

namespace SoftRound.Tf.Benchmarks;

/// <summary>The thread count every benchmark fixes with <c>torch.set_num_threads</c>: SOFTROUND_THREADS, or the core count.</summary>
public static class Threads
{
    /// <summary>The thread count.</summary>
    public static int Count =>
        int.TryParse(Environment.GetEnvironmentVariable("SOFTROUND_THREADS"), out int n) && n > 0 ? n : Environment.ProcessorCount;
}
