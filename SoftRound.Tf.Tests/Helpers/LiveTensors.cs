using System;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Helpers;

/// <summary>TorchSharp's live tensor count, for leak tests.</summary>
internal static class LiveTensors
{
    /// <summary>
    /// <see cref="Tensor.TotalCount"/> once the wrappers that earlier tests left to the finalizer are gone; read without
    /// this, the count can drop while a test runs, when the finalizer thread disposes another test's tensors.
    /// </summary>
    public static long Count()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return Tensor.TotalCount;
    }
}
