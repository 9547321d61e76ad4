using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Kernels;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Kernels;

[TestClass]
public sealed unsafe class FakeQuantizeKernelTests
{
    /// <summary>Inputs on ties, grid edges, ±∞, NaN, ±0, huge values and random ones; 1,003 of them so the scalar tail runs too.</summary>
    private static double[] Inputs(double scale, int qmin, int qmax, int zero)
    {
        var random = new Random(11);
        var special = new[] { 0.0, -0.0, double.PositiveInfinity, double.NegativeInfinity, double.NaN, 1e30, -1e30, 2.5 * scale, -2.5 * scale, 3.5 * scale }
            .Concat(new[] { qmin - zero, qmax - zero }.SelectMany(e => new[] { -1.5, -0.5, 0.0, 0.5, 1.5 }.Select(d => (e + d) * scale)));
        return special.Concat(Enumerable.Range(0, 1003).Select(_ => (random.NextDouble() - 0.5) * (qmax - qmin + 6) * scale)).Take(1003).ToArray();
    }

    private static void CompareWithScalar<T, TSurrogate>(TSurrogate surrogate) where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T> where TSurrogate : struct, IRoundKernel
    {
        foreach ((double scale, int qmin, int qmax, int zero) in new[] { (0.1, -128, 127, 0), (0.37, 0, 15, 6), (1.0, -2, 1, 0), (0.003, 0, 65535, 40000) })
        {
            T[] x = Inputs(scale, qmin, qmax, zero).Select(T.CreateTruncating).ToArray();
            T[] dy = x.Select((_, i) => T.CreateTruncating(Math.Sin(i) * 2)).ToArray();
            var grid = new FakeQuantizeKernel.Grid<T>(scale, zero, qmin, qmax);
            var y = new T[x.Length];
            var dx = new T[x.Length];
            double scaleSum, zeroSum;
            fixed (T* xp = x, yp = y, dyp = dy, dxp = dx)
            {
                FakeQuantizeKernel.Forward(xp, yp, x.Length, grid);
                (scaleSum, zeroSum) = FakeQuantizeKernel.Backward(xp, dyp, 0, dxp, x.Length, grid, surrogate);
            }
            double expectedScale = 0, expectedZero = 0, magnitude = 0;
            for (int i = 0; i < x.Length; i++)
            {
                Assert.AreEqual(FakeQuantizeKernel.Value(x[i], grid), y[i], $"y at x = {x[i]}, {typeof(T).Name}, grid [{qmin}, {qmax}]");
                (T d, T s, T z) = FakeQuantizeKernel.Gradient(x[i], dy[i], grid, surrogate);
                // Straight through: the same bits; a surrogate's slope: within the few ulps its own vector path allows.
                if (typeof(TSurrogate) == typeof(RoundStKernel)) Assert.AreEqual(BitConverter.DoubleToInt64Bits(double.CreateTruncating(d)), BitConverter.DoubleToInt64Bits(double.CreateTruncating(dx[i])), $"dx at x = {x[i]}");
                else Assert.AreEqual(double.CreateTruncating(d), double.CreateTruncating(dx[i]), 4 * Math.Abs(double.CreateTruncating(d)) * (typeof(T) == typeof(float) ? 1.1920928955078125e-7 : 2.220446049250313e-16), $"dx at x = {x[i]}");
                expectedScale += double.CreateTruncating(s);
                magnitude += Math.Abs(double.CreateTruncating(s));
                expectedZero += double.CreateTruncating(z);
            }
            // The vector path adds the same terms in another order; a surrogate's terms may differ by its slope's ulps.
            double eps = typeof(T) == typeof(float) ? 1.1920928955078125e-7 : 2.220446049250313e-16;
            Assert.AreEqual(expectedScale, scaleSum, (typeof(TSurrogate) == typeof(RoundStKernel) ? 1e-15 * x.Length : 8 * eps) * magnitude);
            Assert.AreEqual(expectedZero, zeroSum, 1e-12 * x.Length);
        }
    }

    [TestMethod]
    public void VectorPath_EqualsTheScalarReference_EveryDtypeAndSurrogate()
    {
        CompareWithScalar<float, RoundStKernel>(new RoundStKernel(null));
        CompareWithScalar<double, RoundStKernel>(new RoundStKernel(null));
        CompareWithScalar<float, SteSoftRoundKernel>(new SteSoftRoundKernel(4));
        CompareWithScalar<double, SteSoftRoundKernel>(new SteSoftRoundKernel(4));
        CompareWithScalar<float, DifferentiableRoundKernel>(new DifferentiableRoundKernel(10));
        CompareWithScalar<double, DifferentiableRoundKernel>(new DifferentiableRoundKernel(10));
    }

    [TestMethod]
    public void ScalarReference_SpecialValues()
    {
        var g = new FakeQuantizeKernel.Grid<float>(0.5, 3, 0, 15);
        Assert.AreEqual(6f, FakeQuantizeKernel.Value(float.PositiveInfinity, g));
        Assert.AreEqual(-1.5f, FakeQuantizeKernel.Value(float.NegativeInfinity, g));
        Assert.IsTrue(float.IsNaN(FakeQuantizeKernel.Value(float.NaN, g)));
        // 1.25/0.5 = 2.5 rounds to 2 (half to even); 1.75/0.5 = 3.5 to 4.
        Assert.AreEqual(1f, FakeQuantizeKernel.Value(1.25f, g));
        Assert.AreEqual(2f, FakeQuantizeKernel.Value(1.75f, g));
        // Outside: dx = dy·0 (−0 for dy < 0), the scale's term dy·(qmax − Z) above and dy·(qmin − Z) below, the zero point's dy.
        Assert.AreEqual((-0f, -24f, -2f), FakeQuantizeKernel.Gradient(100f, -2f, g, new RoundStKernel(null)));
        Assert.AreEqual((0f, -6f, 2f), FakeQuantizeKernel.Gradient(-100f, 2f, g, new RoundStKernel(null)));
        Assert.IsTrue(float.IsNegative(FakeQuantizeKernel.Gradient(100f, -2f, g, new RoundStKernel(null)).dx));
        // Inside: dx = dy, the scale's dy·(y − x)/s: x = 1.2, y = 1.0 → 2·(−0.2)/0.5 = −0.8.
        (float dx, float ds, float dz) = FakeQuantizeKernel.Gradient(1.2f, 2f, g, new RoundStKernel(null));
        Assert.AreEqual(2f, dx);
        Assert.AreEqual(-0.8f, ds, 1e-6f);
        Assert.AreEqual(0f, dz);
    }

    [TestMethod]
    public void Backward_WithoutDx_AndWithAUniformGradient_GivesTheSameSums()
    {
        double[] x = Inputs(0.2, -8, 7, 0).Where(double.IsFinite).ToArray();
        var grid = new FakeQuantizeKernel.Grid<double>(0.2, 0, -8, 7);
        double[] ones = Enumerable.Repeat(1.5, x.Length).ToArray();
        var dx = new double[x.Length];
        fixed (double* xp = x, op = ones, dxp = dx)
        {
            (double s1, double z1) = FakeQuantizeKernel.Backward(xp, op, 0, dxp, x.Length, grid, new RoundStKernel(null));
            (double s2, double z2) = FakeQuantizeKernel.Backward(xp, null, 1.5, null, x.Length, grid, new RoundStKernel(null));
            Assert.AreEqual(s1, s2, 1e-12);
            Assert.AreEqual(z1, z2, 1e-12);
            Assert.AreNotEqual(0.0, s1);
            Assert.AreNotEqual(0.0, z1);
            // Sums not wanted are not formed (0); the one wanted and dx are unchanged.
            var dx2 = new double[x.Length];
            fixed (double* dx2p = dx2)
            {
                Assert.AreEqual((s1, 0.0), FakeQuantizeKernel.Backward(xp, op, 0, dx2p, x.Length, grid, new RoundStKernel(null), wantZero: false));
                Assert.AreEqual((0.0, z1), FakeQuantizeKernel.Backward(xp, op, 0, dx2p, x.Length, grid, new RoundStKernel(null), wantScale: false));
            }
            CollectionAssert.AreEqual(dx, dx2);
        }
    }

    [TestMethod]
    public void ManyThreads_GiveTheSameBitsAsOne()
    {
        using var scope = NewDisposeScope();
        int before = get_num_threads();
        int n = 3 * KernelLoop.MinParallelLength + 17;
        double[] x = Enumerable.Range(0, n).Select(i => Math.Sin(i * 0.37) * 3).ToArray();
        double[] dy = Enumerable.Range(0, n).Select(i => Math.Cos(i * 0.11)).ToArray();
        var grid = new FakeQuantizeKernel.Grid<double>(0.13, 2, 0, 31);
        (double[] y, double[] dx, double s, double z) Run(int threads)
        {
            set_num_threads(threads);
            var y = new double[n];
            var dx = new double[n];
            fixed (double* xp = x, yp = y, dyp = dy, dxp = dx)
            {
                FakeQuantizeKernel.Forward(xp, yp, n, grid);
                (double s, double z) = FakeQuantizeKernel.Backward(xp, dyp, 0, dxp, n, grid, new SteSoftRoundKernel(3));
                return (y, dx, s, z);
            }
        }
        try
        {
            var one = Run(1);
            var two = Run(2);
            CollectionAssert.AreEqual(one.y, two.y);
            CollectionAssert.AreEqual(one.dx, two.dx);
            Assert.AreEqual(one.s, two.s);
            Assert.AreEqual(one.z, two.z);
            // And every chunk is the right one: each element and the sums against the scalar reference.
            var surrogate = new SteSoftRoundKernel(3);
            double scaleSum = 0, zeroSum = 0, magnitude = 0;
            for (int i = 0; i < n; i++)
            {
                Assert.AreEqual(FakeQuantizeKernel.Value(x[i], grid), one.y[i], $"y[{i}]");
                (double d, double ts, double tz) = FakeQuantizeKernel.Gradient(x[i], dy[i], grid, surrogate);
                Assert.AreEqual(d, one.dx[i], 4 * 2.220446049250313e-16 * Math.Abs(d), $"dx[{i}]");
                scaleSum += ts;
                zeroSum += tz;
                magnitude += Math.Abs(ts) + Math.Abs(tz);
            }
            Assert.AreEqual(scaleSum, one.s, 1e-13 * magnitude);
            Assert.AreEqual(zeroSum, one.z, 1e-13 * magnitude);
            Assert.AreNotEqual(0.0, one.z);
        }
        finally
        {
            set_num_threads(before);
        }
    }
}
