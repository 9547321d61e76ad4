using System.Linq;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Tests.Helpers;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Conformance;

/// <summary>8 threads × 1,000 forward+backward calls, cycling through every op, give results bitwise identical to the same calls made serially.</summary>
[TestClass]
public sealed class ConcurrencyTests
{
    private const int Threads = 8, Calls = 1000, Elements = 64;

    private static (double[] y, double[] grad) Call(int thread, int call)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)(thread * Calls + call));
        Tensor x = (randn(Elements, ScalarType.Float32, generator: generator) * 4).requires_grad_(true);
        Tensor y = OpCase.All[(thread + call) % OpCase.All.Length].Apply(x);
        y.sum().backward();
        return (Reference.Values(y), Reference.Values(x.grad!));
    }

    [TestMethod]
    public void ConcurrentCalls_MatchSerialCallsBitwise()
    {
        var serial = new (double[] y, double[] grad)[Threads, Calls];
        for (int t = 0; t < Threads; t++)
            for (int c = 0; c < Calls; c++)
                serial[t, c] = Call(t, c);

        var concurrent = new (double[] y, double[] grad)[Threads, Calls];
        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, t =>
        {
            for (int c = 0; c < Calls; c++) concurrent[t, c] = Call(t, c);
        });

        for (int t = 0; t < Threads; t++)
        {
            for (int c = 0; c < Calls; c++)
            {
                int thread = t, call = c;
                ConformanceReport.Case("concurrency", () =>
                {
                    CollectionAssert.AreEqual(serial[thread, call].y, concurrent[thread, call].y, $"thread {thread} call {call}: values");
                    CollectionAssert.AreEqual(serial[thread, call].grad, concurrent[thread, call].grad, $"thread {thread} call {call}: gradients");
                });
            }
        }
    }
}
