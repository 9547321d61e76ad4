using BenchmarkDotNet.Attributes;
using SoftRound.Tf.Performance;

namespace SoftRound.Tf.Benchmarks;

/// <summary>What the training-step benchmarks share: the allocator setting as a parameter, and the thread count.</summary>
public abstract class TrainingStepBenchmark
{
    /// <summary>
    /// Whether <see cref="NativeAllocator.keep_freed_memory"/> is called first. The setting lasts for the process: each
    /// case runs in its own process in BenchmarkDotNet's default (out-of-process) jobs, not with --quick.
    /// </summary>
    [Params(false, true)]
    public bool KeepFreedMemory { get; set; }

    /// <summary>Applies the allocator setting and fixes TorchSharp's thread count to <see cref="Threads.Count"/>.</summary>
    protected void Prepare()
    {
        if (KeepFreedMemory) NativeAllocator.keep_freed_memory();
        TorchSharp.torch.set_num_threads(Threads.Count);
    }
}
