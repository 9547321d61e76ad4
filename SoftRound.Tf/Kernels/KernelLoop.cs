using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;
using SoftRound.Tf.Internals;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Kernels;

/// <summary>
/// Runs an <see cref="IRoundKernel"/> over contiguous CPU float32 or float64 tensors in one pass: y = f(x) forward,
/// dx = grad·f'(x) backward, with value and derivative computed in double.
/// </summary>
/// <remarks>
/// Work is cut into chunks of <see cref="ChunkLength"/> elements, a multiple of the vector step, and spread over
/// <c>torch.get_num_threads()</c> threads. Every element therefore takes the same path (vector body or scalar tail)
/// whatever the thread count, so results are identical with 1 and with N threads. Each element is read before its
/// output is written, so in-place use (y aliasing x) is correct.
/// </remarks>
internal static unsafe class KernelLoop
{
    /// <summary>Elements per chunk of work; a multiple of every vector step.</summary>
    public const int ChunkLength = 1 << 15;

    /// <summary>Elements per vector step: two double vectors, or one float vector widened into two.</summary>
    public static int Step => 2 * Vector<double>.Count;

    /// <summary>Whether a kernel can run on x: a CPU float32 or float64 tensor whose bytes a span can hold.</summary>
    public static bool Supports(Tensor x) =>
        x.device_type == DeviceType.CPU
        && x.dtype is ScalarType.Float32 or ScalarType.Float64
        && x.numel() * x.ElementSize <= int.MaxValue;

    /// <summary>y = f(x) into a new contiguous tensor; x must satisfy <see cref="Supports"/>.</summary>
    public static Tensor Forward<TKernel>(TKernel kernel, Tensor x) where TKernel : struct, IRoundKernel
    {
        using Tensor input = x.contiguous();
        Tensor y = empty_like(input);
        if (x.dtype == ScalarType.Float32) Run<float, TKernel>(kernel, Pointer<float>(input), null, 0, Pointer<float>(y), (int)input.numel(), backward: false);
        else Run<double, TKernel>(kernel, Pointer<double>(input), null, 0, Pointer<double>(y), (int)input.numel(), backward: false);
        return y;
    }

    /// <summary>dx = grad·f'(x) into a new contiguous tensor of x's shape; grad broadcast from one value is not copied.</summary>
    public static Tensor Backward<TKernel>(TKernel kernel, Tensor x, Tensor grad) where TKernel : struct, IRoundKernel
    {
        using var scope = NewDisposeScope();
        Tensor input = x.contiguous();
        Tensor dx = empty_like(input);
        int n = (int)input.numel();
        bool uniform = grad.numel() == n && n > 0 && Array.TrueForAll(grad.stride(), s => s == 0);
        Tensor g = uniform ? grad : grad.to(x.dtype).expand(x.shape).contiguous();
        double gradValue = uniform ? Scalars.First(grad) : 0;
        if (x.dtype == ScalarType.Float32)
            Run<float, TKernel>(kernel, Pointer<float>(input), uniform ? null : Pointer<float>(g), gradValue, Pointer<float>(dx), n, backward: true);
        else
            Run<double, TKernel>(kernel, Pointer<double>(input), uniform ? null : Pointer<double>(g), gradValue, Pointer<double>(dx), n, backward: true);
        return dx.MoveToOuterDisposeScope();
    }

    private static T* Pointer<T>(Tensor t) where T : unmanaged =>
        t.numel() == 0 ? null : (T*)Unsafe.AsPointer(ref t.bytes.GetPinnableReference());

    private static void Run<T, TKernel>(TKernel kernel, T* x, T* grad, double gradValue, T* output, int n, bool backward)
        where T : unmanaged where TKernel : struct, IRoundKernel
    {
        int chunks = (n + ChunkLength - 1) / ChunkLength;
        int threads = Math.Min(get_num_threads(), chunks);
        if (threads <= 1)
        {
            Chunk(kernel, x, grad, gradValue, output, 0, n, backward);
            return;
        }
        nint xp = (nint)x, gp = (nint)grad, op = (nint)output;
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads }, c =>
        {
            int start = c * ChunkLength;
            Chunk(kernel, (T*)xp, (T*)gp, gradValue, (T*)op, start, Math.Min(start + ChunkLength, n), backward);
        });
    }

    private static void Chunk<T, TKernel>(TKernel kernel, T* x, T* grad, double gradValue, T* output, int start, int end, bool backward)
        where T : unmanaged where TKernel : struct, IRoundKernel
    {
        int i = start;
        var uniformGrad = new Vector<double>(gradValue);
        for (; i <= end - Step; i += Step)
        {
            Load(x + i, out Vector<double> lo, out Vector<double> hi);
            if (backward)
            {
                Vector<double> glo = uniformGrad, ghi = uniformGrad;
                if (grad != null) Load(grad + i, out glo, out ghi);
                Store(output + i, glo * kernel.Derivative(lo), ghi * kernel.Derivative(hi));
            }
            else
            {
                Store(output + i, kernel.Value(lo), kernel.Value(hi));
            }
        }
        for (; i < end; i++)
        {
            double xi = ToDouble(x[i]);
            output[i] = FromDouble<T>(backward ? (grad != null ? ToDouble(grad[i]) : gradValue) * kernel.Derivative(xi) : kernel.Value(xi));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Load<T>(T* p, out Vector<double> lo, out Vector<double> hi) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            Vector.Widen(Vector.Load((float*)p), out lo, out hi);
        }
        else
        {
            lo = Vector.Load((double*)p);
            hi = Vector.Load((double*)p + Vector<double>.Count);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<T>(T* p, Vector<double> lo, Vector<double> hi) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            Vector.Narrow(lo, hi).Store((float*)p);
        }
        else
        {
            lo.Store((double*)p);
            hi.Store((double*)p + Vector<double>.Count);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double ToDouble<T>(T v) where T : unmanaged => typeof(T) == typeof(float) ? Unsafe.As<T, float>(ref v) : Unsafe.As<T, double>(ref v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T FromDouble<T>(double v) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            float f = (float)v;
            return Unsafe.As<float, T>(ref f);
        }
        return Unsafe.As<double, T>(ref v);
    }
}
