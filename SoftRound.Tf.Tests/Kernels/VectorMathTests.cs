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
}
