using BenchmarkDotNet.Attributes;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Benchmarks;

/// <summary>The input every benchmark shares: x ~ 3·N(0, 1), float32, of <see cref="N"/> elements, with TorchSharp's thread count fixed.</summary>
public abstract class SizedBenchmark
{
    /// <summary>The input.</summary>
    protected Tensor x = null!;

    /// <summary>Elements per tensor: 1K, 64K, 1M and 16M.</summary>
    [Params(1 << 10, 1 << 16, 1 << 20, 1 << 24)]
    public int N { get; set; }

    /// <summary>Creates x, fixing TorchSharp's thread count to <see cref="Threads.Count"/>.</summary>
    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(Threads.Count);
        manual_seed(1);
        x = (randn(N) * 3).detach();
    }

    /// <summary>Disposes x.</summary>
    [GlobalCleanup]
    public void Cleanup() => x.Dispose();
}
