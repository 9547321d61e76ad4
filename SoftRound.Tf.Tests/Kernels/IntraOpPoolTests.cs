using System;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Kernels;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Kernels;

/// <summary>The kernels' thread pool: libtorch's OpenMP team on Linux, .NET's pool elsewhere, the same results on both.</summary>
[TestClass]
public sealed unsafe class IntraOpPoolTests
{
    private static readonly IntraOpPool.Backend[] Backends = { IntraOpPool.Backend.OpenMp, IntraOpPool.Backend.DotNet };

    [TestMethod]
    public void OnLinux_LibtorchsOpenMpRuntimeIsFoundAndUsed()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64) Assert.Inconclusive("libtorch ships GNU OpenMP on linux-x64 only.");
        Assert.IsTrue(IntraOpPool.HasOpenMp);
        Assert.AreEqual(IntraOpPool.Backend.OpenMp, IntraOpPool.Current);
    }

    [TestMethod]
    public void For_RunsEveryIndexOnce_OnSeveralThreads_OnBothBackends()
    {
        foreach (IntraOpPool.Backend backend in Backends)
        {
            Using(backend, () =>
            {
                const int count = 1000;
                var runs = new int[count];
                var threadIds = new System.Collections.Concurrent.ConcurrentDictionary<int, bool>();
                int running = 0, most = 0;
                IntraOpPool.For(count, 2, c =>
                {
                    int now = Interlocked.Increment(ref running);
                    int seen;
                    while (now > (seen = Volatile.Read(ref most)) && Interlocked.CompareExchange(ref most, now, seen) != seen) { }
                    Interlocked.Increment(ref runs[c]);
                    threadIds[Environment.CurrentManagedThreadId] = true;
                    Thread.SpinWait(2000);
                    Interlocked.Decrement(ref running);
                });
                Assert.IsTrue(runs.All(r => r == 1), $"{backend}: every index once");
                Assert.IsTrue(most <= 2, $"{backend}: {most} chunks ran at once on 2 threads");
                if (Environment.ProcessorCount > 1) Assert.IsTrue(threadIds.Count >= 2, $"{backend}: {threadIds.Count} thread(s) ran the work");
            });
        }
    }

    [TestMethod]
    public void OnTheOpenMpBackend_ChunksRunInsideAnOpenMpTeamOfTheAskedSize_OnDotNetOutsideAny()
    {
        if (!IntraOpPool.HasOpenMp) Assert.Inconclusive("no OpenMP runtime found.");
        nint library = NativeLibrary.Load(IntraOpPool.OpenMpLibrary!);
        var threadNumber = (delegate* unmanaged<int>)NativeLibrary.GetExport(library, "omp_get_thread_num");
        var teamSize = (delegate* unmanaged<int>)NativeLibrary.GetExport(library, "omp_get_num_threads");
        foreach (IntraOpPool.Backend backend in Backends)
        {
            Using(backend, () =>
            {
                var seen = new System.Collections.Concurrent.ConcurrentBag<(int number, int size)>();
                IntraOpPool.For(200, 2, c =>
                {
                    seen.Add((threadNumber(), teamSize()));
                    Thread.SpinWait(2000);
                });
                if (backend == IntraOpPool.Backend.OpenMp)
                {
                    Assert.IsTrue(seen.All(s => s.size == 2), "a team of the two threads asked for");
                    CollectionAssert.AreEquivalent(new[] { 0, 1 }, seen.Select(s => s.number).Distinct().ToArray(), "both of its threads ran chunks");
                }
                else
                {
                    Assert.IsTrue(seen.All(s => s == (0, 1)), ".NET's pool runs outside any OpenMP region");
                }
            });
        }
    }

    [TestMethod]
    public void For_OneThreadOrOneIndex_RunsInOrderOnTheCallingThread()
    {
        int caller = Environment.CurrentManagedThreadId;
        foreach ((int count, int threads) in new[] { (5, 1), (1, 4), (0, 4) })
        {
            var order = new System.Collections.Generic.List<int>();
            IntraOpPool.For(count, threads, c =>
            {
                Assert.AreEqual(caller, Environment.CurrentManagedThreadId);
                order.Add(c);
            });
            CollectionAssert.AreEqual(Enumerable.Range(0, count).ToArray(), order.ToArray(), $"count {count}, threads {threads}");
        }
    }

    [TestMethod]
    public void For_AnExceptionOnAWorker_IsRethrownToTheCaller_AndThePoolStillWorks()
    {
        foreach (IntraOpPool.Backend backend in Backends)
        {
            Using(backend, () =>
            {
                Exception? caught = null;
                try
                {
                    IntraOpPool.For(64, 2, c => { if (c == 37) throw new InvalidOperationException("chunk 37"); });
                }
                catch (Exception e)
                {
                    caught = e is AggregateException a ? a.InnerExceptions.Single() : e;
                }
                Assert.IsInstanceOfType(caught, typeof(InvalidOperationException), backend.ToString());
                Assert.AreEqual("chunk 37", caught!.Message);
                int sum = 0;
                IntraOpPool.For(64, 2, c => Interlocked.Add(ref sum, c));
                Assert.AreEqual(64 * 63 / 2, sum, backend.ToString());
            });
        }
    }

    [TestMethod]
    public void Kernels_GiveTheSameBits_OnBothBackends_AndOnOneThread()
    {
        int before = get_num_threads();
        try
        {
            using var scope = NewDisposeScope();
            Tensor x = linspace(-40, 40, 3 * KernelLoop.MinParallelLength + 17, dtype: ScalarType.Float32);
            Tensor grad = cos(x);
            float[] Run(int threads, IntraOpPool.Backend backend)
            {
                float[] result = Array.Empty<float>();
                set_num_threads(threads);
                Using(backend, () =>
                {
                    var kernel = new SoftRoundKernel(3);
                    using Tensor y = KernelLoop.Forward(kernel, x);
                    using Tensor dx = KernelLoop.Backward(kernel, x, grad);
                    result = y.data<float>().Concat(dx.data<float>()).ToArray();
                });
                return result;
            }
            float[] one = Run(1, IntraOpPool.Backend.OpenMp);
            CollectionAssert.AreEqual(one, Run(2, IntraOpPool.Backend.OpenMp));
            CollectionAssert.AreEqual(one, Run(2, IntraOpPool.Backend.DotNet));
        }
        finally
        {
            set_num_threads(before);
        }
    }

    private static void Using(IntraOpPool.Backend backend, Action body)
    {
        IntraOpPool.Backend before = IntraOpPool.Current;
        if (backend == IntraOpPool.Backend.OpenMp && !IntraOpPool.HasOpenMp) return;
        IntraOpPool.Current = backend;
        try
        {
            body();
        }
        finally
        {
            IntraOpPool.Current = before;
        }
    }
}
