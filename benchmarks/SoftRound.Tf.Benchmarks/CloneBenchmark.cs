using BenchmarkDotNet.Attributes;
using static TorchSharp.torch;

namespace SoftRound.Tf.Benchmarks;

/// <summary>The memory-bandwidth yardstick: <c>x.clone()</c>, one read and one write of x.</summary>
public class CloneBenchmark : SizedBenchmark
{
    /// <summary>x.clone().</summary>
    [Benchmark]
    public double Clone()
    {
        using Tensor copy = x.clone();
        return copy.numel();
    }
}
