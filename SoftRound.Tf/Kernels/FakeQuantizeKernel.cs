using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using static TorchSharp.torch;

namespace SoftRound.Tf.Kernels;

/// <summary>
/// Fake quantization of contiguous CPU float32/float64 data in blocks that share one scale s and zero point Z
/// (one block per tensor, or one per channel slice): y = (clamp(round(x·(1/s)) + Z, qmin, qmax) − Z)·s forward, and
/// backward dx = dy·(r′·[inside]) (so −0 where dy &lt; 0 outside, as PyTorch's), the LSQ sum Σ dy·((y − x·r′)·(1/s)) over the inside and Σ dy·(qmin − Z or qmax − Z)
/// outside, and Σ dy over the outside (the zero point's). r′ is the rounding surrogate's slope at x·(1/s) (1 for
/// straight through). 1/s is rounded to the data's dtype first, as PyTorch's kernels do, and every per-element term
/// is evaluated in the data's dtype in PyTorch's order; the sums are accumulated in double.
/// </summary>
/// <remarks>
/// A block is cut into chunks of <see cref="KernelLoop.ChunkLength"/>; chunks run on several threads from
/// <see cref="KernelLoop.MinParallelLength"/> elements on, and their sums are added in chunk order, so results do not
/// depend on the thread count. NaN gives NaN forward and counts as outside, above qmax, backward.
/// </remarks>
internal static unsafe class FakeQuantizeKernel
{
    /// <summary>One block's quantizer: scale, its reciprocal, zero point and the grid, in T.</summary>
    internal readonly struct Grid<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        public readonly T Scale, Inverse, Zero, Min, Max, BelowTerm, AboveTerm;

        /// <summary>The grid for scale <paramref name="scale"/> (rounded to T) and integer zero point <paramref name="zero"/>.</summary>
        public Grid(double scale, int zero, int qmin, int qmax)
        {
            Scale = T.CreateTruncating(scale);
            Inverse = T.One / Scale;
            Zero = T.CreateTruncating(zero);
            Min = T.CreateTruncating(qmin);
            Max = T.CreateTruncating(qmax);
            BelowTerm = T.CreateTruncating(qmin - zero);
            AboveTerm = T.CreateTruncating(qmax - zero);
        }
    }

    /// <summary>The integer code of one finite x: clamp(round(x·(1/s)) + Z, qmin, qmax), what integer inference stores.</summary>
    public static T Code<T>(T x, in Grid<T> g) where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        T.Min(T.Max(T.Round(x * g.Inverse) + g.Zero, g.Min), g.Max);

    /// <summary>The scalar reference: y at one x, (code − Z)·s.</summary>
    public static T Value<T>(T x, in Grid<T> g) where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        T.IsNaN(x) ? x : (Code(x, g) - g.Zero) * g.Scale;

    /// <summary>The scalar reference of the backward pass at one x: dx, the scale's term and the zero point's term.</summary>
    public static (T dx, T scaleTerm, T zeroTerm) Gradient<T, TSurrogate>(T x, T dy, in Grid<T> g, TSurrogate surrogate)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TSurrogate : struct, IRoundKernel
    {
        T u = x * g.Inverse;
        T q = T.Round(u) + g.Zero;
        if (q >= g.Min && q <= g.Max)
        {
            T slope = surrogate.Derivative(u);
            T y = (q - g.Zero) * g.Scale;
            return (dy * slope, dy * (y - x * slope) * g.Inverse, T.Zero);
        }
        return (dy * T.Zero, dy * (q < g.Min ? g.BelowTerm : g.AboveTerm), dy);
    }

    /// <summary>y for <paramref name="n"/> elements of one block.</summary>
    public static void Forward<T>(T* x, T* y, long n, Grid<T> g) where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        ForChunks(n, (start, end) => { ForwardChunk(x, y, start, end, g); return (0, 0); });

    /// <summary>
    /// dx (when <paramref name="dx"/> is not null) and the block's two sums for <paramref name="n"/> elements (each
    /// only when wanted, else 0); dy is read from <paramref name="dy"/>, or is <paramref name="dyValue"/> everywhere
    /// when that is null.
    /// </summary>
    public static (double scaleSum, double zeroSum) Backward<T, TSurrogate>(T* x, T* dy, double dyValue, T* dx, long n, Grid<T> g, TSurrogate surrogate,
        bool wantScale = true, bool wantZero = true)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TSurrogate : struct, IRoundKernel =>
        ForChunks(n, (start, end) => BackwardChunk(x, dy, dyValue, dx, start, end, g, surrogate, wantScale, wantZero));

    private static (double, double) ForChunks(long n, Func<int, int, (double, double)> chunk)
    {
        int chunks = (int)((n + KernelLoop.ChunkLength - 1) / KernelLoop.ChunkLength);
        if (chunks <= 1) return chunk(0, (int)n);
        int threads = n < KernelLoop.MinParallelLength ? 1 : Math.Min(get_num_threads(), chunks);
        var sums = new (double, double)[chunks];
        void Run(int c)
        {
            int start = c * KernelLoop.ChunkLength;
            sums[c] = chunk(start, (int)Math.Min(start + KernelLoop.ChunkLength, n));
        }
        IntraOpPool.For(chunks, threads, Run);
        (double a, double b) total = (0, 0);
        foreach ((double a, double b) in sums) total = (total.a + a, total.b + b);
        return total;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (double, double) ForwardChunk<T>(T* x, T* y, int start, int end, Grid<T> g) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var inverse = new Vector<T>(g.Inverse);
        var zero = new Vector<T>(g.Zero);
        var min = new Vector<T>(g.Min);
        var max = new Vector<T>(g.Max);
        var scale = new Vector<T>(g.Scale);
        int i = start;
        for (; i <= end - Vector<T>.Count; i += Vector<T>.Count)
        {
            Vector<T> xi = Vector.Load(x + i);
            Vector<T> q = VectorMath.Round(xi * inverse) + zero;
            Vector<T> yi = (Vector.Min(Vector.Max(q, min), max) - zero) * scale;
            Vector.ConditionalSelect(Vector.Equals(xi, xi), yi, xi).Store(y + i);
        }
        for (; i < end; i++) y[i] = Value(x[i], g);
        return (0, 0);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (double, double) BackwardChunk<T, TSurrogate>(T* x, T* dy, double dyValue, T* dx, int start, int end, Grid<T> g, TSurrogate surrogate,
        bool wantScale, bool wantZero)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TSurrogate : struct, IRoundKernel
    {
        var inverse = new Vector<T>(g.Inverse);
        var zero = new Vector<T>(g.Zero);
        var min = new Vector<T>(g.Min);
        var max = new Vector<T>(g.Max);
        var scale = new Vector<T>(g.Scale);
        var below = new Vector<T>(g.BelowTerm);
        var above = new Vector<T>(g.AboveTerm);
        T uniform = T.CreateTruncating(dyValue);
        var uniformVector = new Vector<T>(uniform);
        Vector<double> scaleSum = Vector<double>.Zero, zeroSum = Vector<double>.Zero;
        int i = start;
        for (; i <= end - Vector<T>.Count; i += Vector<T>.Count)
        {
            Vector<T> xi = Vector.Load(x + i);
            Vector<T> gi = dy != null ? Vector.Load(dy + i) : uniformVector;
            Vector<T> u = xi * inverse;
            Vector<T> q = VectorMath.Round(u) + zero;
            Vector<T> inside = Vector.BitwiseAnd(Vector.GreaterThanOrEqual(q, min), Vector.LessThanOrEqual(q, max));
            Vector<T> slope = surrogate.Derivative(u);
            if (dx != null) (gi * Vector.ConditionalSelect(inside, slope, Vector<T>.Zero)).Store(dx + i);
            if (wantScale)
            {
                Vector<T> y = (q - zero) * scale;
                Vector<T> insideTerm = gi * (y - xi * slope) * inverse;
                Vector<T> outsideTerm = gi * Vector.ConditionalSelect(Vector.LessThan(q, min), below, above);
                Accumulate(Vector.ConditionalSelect(inside, insideTerm, outsideTerm), ref scaleSum);
            }
            if (wantZero) Accumulate(Vector.ConditionalSelect(inside, Vector<T>.Zero, gi), ref zeroSum);
        }
        double scaleTotal = Vector.Sum(scaleSum), zeroTotal = Vector.Sum(zeroSum);
        for (; i < end; i++)
        {
            (T d, T s, T z) = Gradient(x[i], dy != null ? dy[i] : uniform, g, surrogate);
            if (dx != null) dx[i] = d;
            scaleTotal += double.CreateTruncating(s);
            zeroTotal += double.CreateTruncating(z);
        }
        return (wantScale ? scaleTotal : 0, wantZero ? zeroTotal : 0);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Accumulate<T>(Vector<T> terms, ref Vector<double> sum) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
        {
            Vector.Widen(Vector.As<T, float>(terms), out Vector<double> low, out Vector<double> high);
            sum += low + high;
        }
        else
        {
            sum += Vector.As<T, double>(terms);
        }
    }
}
