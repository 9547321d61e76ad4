using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Entropy;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Entropy;

[TestClass]
public sealed class LogSpaceTests
{
    [TestMethod]
    public void Log1mexp_ValuesAndGradients_OnBothSidesOfMinusLn2()
    {
        using var scope = NewDisposeScope();
        // From e^t rounding to 1 (t = −1e−17) through the switch at −ln 2 to e^t near underflow.
        double[] ts = { -1e-17, -1e-9, -0.3, -0.6931, -0.6932, -2, -40, -700 };
        Tensor t = tensor(ts, ScalarType.Float64).requires_grad_(true);
        Tensor y = LogSpace.log1mexp(t);
        // log(1 − eᵗ) by other identities than the library's: log(−expm1(t)) with expm1(t) = 2·tanh(t/2)/(1 − tanh(t/2))
        // near 0, log1p(−eᵗ) with log1p(u) = 2·atanh(u/(2 + u)) below −1 (.NET's double.ExpM1 is eᵗ − 1, which cancels
        // near 0); the derivative −eᵗ/(1 − eᵗ).
        static double Expm1(double v) => 2 * Math.Tanh(v / 2) / (1 - Math.Tanh(v / 2));
        static double Log1mexp(double v) => v > -1 ? Math.Log(-Expm1(v)) : 2 * Math.Atanh(-Math.Exp(v) / (2 - Math.Exp(v)));
        TensorAssert.Close(ts.Select(Log1mexp).ToArray(), y, 1e-15, 1e-300);
        y.sum().backward();
        TensorAssert.Close(ts.Select(v => -Math.Exp(v) / -Expm1(v)).ToArray(), t.grad!, 1e-14, 1e-300);
    }
}
