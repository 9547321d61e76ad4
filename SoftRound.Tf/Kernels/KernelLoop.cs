using System;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using SoftRound.Tf.Internals;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Kernels;

/// <summary>
/// Runs an <see cref="IRoundKernel"/> over contiguous CPU float32 or float64 tensors in one pass: y = f(x) forward,
/// dx = grad·f'(x) backward, in the tensor's dtype (the tail shorter than a vector takes the scalar reference).
/// </summary>
/// <remarks>
/// Work is cut into chunks of <see cref="ChunkLength"/> elements, a multiple of every vector width, and spread over
/// <c>torch.get_num_threads()</c> threads of <see cref="IntraOpPool"/> from <see cref="MinParallelLength"/> elements on. Every element therefore takes the same path (vector body or scalar tail)
/// whatever the thread count, so results are identical with 1 and with N threads. Each element is read before its
/// output is written, so in-place use (y aliasing x) would be correct; the entry points always allocate the output.
/// </remarks>
internal static unsafe class KernelLoop
{
    /// <summary>Elements per chunk of work; a multiple of every vector width.</summary>
    public const int ChunkLength = 1 << 15;

    /// <summary>
    /// Below this length one thread does all the work. Measured on 2 cores with libtorch operations interleaved:
    /// on libtorch's OpenMP team 64K elements ran 1.3× faster split in two (0.14 ms against 0.18 ms a step); on .NET's
    /// pool, which competes with OpenMP's spinning threads, splitting 64K cost more than it saved (0.21 ms against
    /// 0.15 ms), while 256K ran 2.8× faster split.
    /// </summary>
    public static int MinParallelLength => IntraOpPool.Current == IntraOpPool.Backend.OpenMp ? 2 * ChunkLength : 4 * ChunkLength;

    /// <summary>The widest vector step: float's.</summary>
    public static int Step => Vector<float>.Count;

    /// <summary>Whether a kernel can run on x: a CPU float32 or float64 tensor whose bytes a span can hold.</summary>
    public static bool Supports(Tensor x) =>
        x.device_type == DeviceType.CPU
        && x.dtype is ScalarType.Float32 or ScalarType.Float64
        && x.numel() * x.ElementSize <= int.MaxValue;

    /// <summary>
    /// y = f(x) into a new contiguous tensor, or into <paramref name="output"/> (contiguous, of x's dtype and element
    /// count, written over) when given; x must satisfy <see cref="Supports"/>.
    /// </summary>
    public static Tensor Forward<TKernel>(TKernel kernel, Tensor x, Tensor? output = null) where TKernel : struct, IRoundKernel
    {
        using Tensor input = x.contiguous();
        Tensor y = output ?? empty_like(input);
        Debug.Assert(y.is_contiguous() && y.dtype == x.dtype && y.numel() == x.numel());
        int n = (int)input.numel();
        if (x.dtype == ScalarType.Float32) Run<float, TKernel>(kernel, Pointer<float>(input), null, 0, Pointer<float>(y), n, backward: false);
        else Run<double, TKernel>(kernel, Pointer<double>(input), null, 0, Pointer<double>(y), n, backward: false);
        return y;
    }

    /// <summary>
    /// dx = grad·f'(x) into a new contiguous tensor of x's shape, or into <paramref name="output"/> (as for
    /// <see cref="Forward"/>) when given; grad broadcast from one value is not copied.
    /// </summary>
    public static Tensor Backward<TKernel>(TKernel kernel, Tensor x, Tensor grad, Tensor? output = null) where TKernel : struct, IRoundKernel
    {
        Tensor dx = output ?? empty(x.shape, x.dtype, x.device);
        Debug.Assert(dx.is_contiguous() && dx.dtype == x.dtype && dx.numel() == x.numel());
        using var scope = NewDisposeScope();
        Tensor input = x.contiguous();
        int n = (int)input.numel();
        bool uniform = grad.numel() == n && n > 0 && Array.TrueForAll(grad.stride(), s => s == 0);
        Tensor g = uniform ? grad : grad.to(x.dtype).expand(x.shape).contiguous();
        double gradValue = uniform ? Scalars.First(grad) : 0;
        if (x.dtype == ScalarType.Float32)
            Run<float, TKernel>(kernel, Pointer<float>(input), uniform ? null : Pointer<float>(g), gradValue, Pointer<float>(dx), n, backward: true);
        else
            Run<double, TKernel>(kernel, Pointer<double>(input), uniform ? null : Pointer<double>(g), gradValue, Pointer<double>(dx), n, backward: true);
        return dx;
    }

    private static T* Pointer<T>(Tensor t) where T : unmanaged =>
        t.numel() == 0 ? null : (T*)Unsafe.AsPointer(ref t.bytes.GetPinnableReference());

    private static void Run<T, TKernel>(TKernel kernel, T* x, T* grad, double gradValue, T* output, int n, bool backward)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TKernel : struct, IRoundKernel
    {
        int chunks = (n + ChunkLength - 1) / ChunkLength;
        int threads = n < MinParallelLength ? 1 : Math.Min(get_num_threads(), chunks);
        if (threads <= 1)
        {
            Chunk(kernel, x, grad, gradValue, output, 0, n, backward);
            return;
        }
        nint xp = (nint)x, gp = (nint)grad, op = (nint)output;
        IntraOpPool.For(chunks, threads, c =>
        {
            int start = c * ChunkLength;
            Chunk(kernel, (T*)xp, (T*)gp, gradValue, (T*)op, start, Math.Min(start + ChunkLength, n), backward);
        });
    }

    // Fully optimized from the first call: tier-0 code of these vector loops runs many times slower.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Chunk<T, TKernel>(TKernel kernel, T* x, T* grad, double gradValue, T* output, int start, int end, bool backward)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TKernel : struct, IRoundKernel
    {
        int i = start;
        var uniformGrad = new Vector<T>(T.CreateTruncating(gradValue));
        for (; i <= end - Vector<T>.Count; i += Vector<T>.Count)
        {
            Vector<T> xi = Vector.Load(x + i);
            Vector<T> yi = backward
                ? (grad != null ? Vector.Load(grad + i) : uniformGrad) * kernel.Derivative(xi)
                : kernel.Value(xi);
            yi.Store(output + i);
        }
        T scalarGrad = T.CreateTruncating(gradValue);
        for (; i < end; i++)
        {
            output[i] = backward ? (grad != null ? grad[i] : scalarGrad) * kernel.Derivative(x[i]) : kernel.Value(x[i]);
        }
    }
}
