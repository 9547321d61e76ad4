using System;
using System.Numerics;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Kernels;

namespace SoftRound.Tf.Tests.Kernels;

[TestClass]
public sealed class VectorMathTests
{
    [TestMethod]
    public void ExpNonPositive_Float_UnderflowsGradually()
    {
        for (double x = -106; x <= 0; x += 0.0137)
        {
            float xf = (float)x, expected = MathF.Exp(xf);
            float actual = VectorMath.ExpNonPositive(new Vector<float>(xf))[0];
            // Within 1 ulp of the result, or of the subnormal spacing below the smallest normal.
            float ulp = MathF.Max(MathF.BitIncrement(expected) - expected, float.Epsilon);
            Assert.IsTrue(MathF.Abs(actual - expected) <= ulp, $"exp({xf:R}) = {expected:R}, got {actual:R}");
        }
        Assert.AreEqual(0f, VectorMath.ExpNonPositive(new Vector<float>(-104f))[0]);
        Assert.AreNotEqual(0f, VectorMath.ExpNonPositive(new Vector<float>(-103f))[0]);
    }

    [TestMethod]
    public void ExpNonPositive_Double_UnderflowsGradually()
    {
        for (double x = -750; x <= 0; x += 0.0731)
        {
            double expected = Math.Exp(x);
            double actual = VectorMath.ExpNonPositive(new Vector<double>(x))[0];
            double ulp = Math.Max(Math.BitIncrement(expected) - expected, double.Epsilon);
            Assert.IsTrue(Math.Abs(actual - expected) <= ulp, $"exp({x:R}) = {expected:R}, got {actual:R}");
        }
        Assert.AreEqual(0.0, VectorMath.ExpNonPositive(new Vector<double>(-746.0))[0]);
        Assert.AreNotEqual(0.0, VectorMath.ExpNonPositive(new Vector<double>(-744.0))[0]);
    }

    [TestMethod]
    public void Log_IsWithinTwoUlpOfTheRuntimes_FromSubnormalsToLargeValues()
    {
        foreach (double x in new[] { 1e-45, 3e-42, 1e-39, 1.17e-38, 1e-30, 0.1, 0.7, 1, 1.3, 2, 1e10, 3e38 })
        {
            float xf = (float)x, expected = MathF.Log(xf), actual = VectorMath.Log(new Vector<float>(xf))[0];
            Assert.IsTrue(MathF.Abs(actual - expected) <= 2 * (MathF.BitIncrement(MathF.Abs(expected)) - MathF.Abs(expected)), $"log({xf:R}) = {expected:R}, got {actual:R}");
        }
        foreach (double x in new[] { 5e-324, 1e-310, 2.2e-308, 1e-300, 0.1, 0.7, 1, 1.3, 2, 1e10, 1e300 })
        {
            double expected = Math.Log(x), actual = VectorMath.Log(new Vector<double>(x))[0];
            Assert.IsTrue(Math.Abs(actual - expected) <= 2 * (Math.BitIncrement(Math.Abs(expected)) - Math.Abs(expected)), $"log({x:R}) = {expected:R}, got {actual:R}");
        }
        for (double x = 0.05; x < 20; x *= 1.0137)
        {
            float xf = (float)x, expected = MathF.Log(xf), actual = VectorMath.Log(new Vector<float>(xf))[0];
            float ulp = MathF.Max(MathF.BitIncrement(MathF.Abs(expected)) - MathF.Abs(expected), 1e-9f);
            Assert.IsTrue(MathF.Abs(actual - expected) <= 2 * ulp, $"log({xf:R}) = {expected:R}, got {actual:R}");
        }
    }

    [TestMethod]
    public void Log_SpecialValues()
    {
        Assert.AreEqual(float.NegativeInfinity, VectorMath.Log(new Vector<float>(0f))[0]);
        Assert.AreEqual(float.PositiveInfinity, VectorMath.Log(new Vector<float>(float.PositiveInfinity))[0]);
        Assert.IsTrue(float.IsNaN(VectorMath.Log(new Vector<float>(-1f))[0]));
        Assert.IsTrue(float.IsNaN(VectorMath.Log(new Vector<float>(float.NaN))[0]));
        Assert.IsTrue(double.IsNaN(VectorMath.Log(new Vector<double>(-1e-300))[0]));
        Assert.AreEqual(double.NegativeInfinity, VectorMath.Log(new Vector<double>(0.0))[0]);
    }

    [TestMethod]
    public void Expm1NonPositive_IsWithinTwoUlpOfAHighPrecisionValue()
    {
        for (double x = -40; x <= 0; x += 0.0173)
        {
            float xf = (float)x;
            double exact = Math.Exp((double)xf) - 1;   // in double, far more accurate than float's ulp here unless |x| is tiny
            if (Math.Abs(xf) < 1e-3) continue;
            float actual = VectorMath.Expm1NonPositive(new Vector<float>(xf))[0];
            double ulp = MathF.BitIncrement(MathF.Abs((float)exact)) - MathF.Abs((float)exact);
            Assert.IsTrue(Math.Abs(actual - exact) <= 2 * ulp, $"expm1({xf:R}) = {exact:R}, got {actual:R}");
        }
        foreach (double x in new[] { -1e-20, -1e-10, -1e-5 })
        {
            Assert.AreEqual(x + x * x / 2 + x * x * x / 6, VectorMath.Expm1NonPositive(new Vector<double>(x))[0], Math.Abs(x) * 1e-15);
        }
    }
}
