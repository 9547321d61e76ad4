using System;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Entropy;
using SoftRound.Tf.Tests.Helpers;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Entropy;

[TestClass]
public sealed class UniformNoiseAdapterTests
{
    [TestMethod]
    public void Density_IsTheConvolution()
    {
        // p_Y(y) = ∫ f_X(y − u) du over (−½, ½): checked against a 20,001-point midpoint rule of the base density.
        using var scope = NewDisposeScope();
        var x = new LaplaceDensity(tensor(0.4, ScalarType.Float64), tensor(0.7, ScalarType.Float64));
        var y = new UniformNoiseAdapter(x);
        foreach (double at in new[] { -3.1, -0.2, 0.4, 0.9, 2.75 })
        {
            const int N = 20001;
            Tensor u = linspace(-0.5 + 0.5 / N, 0.5 - 0.5 / N, N, ScalarType.Float64);
            double integral = x.log_prob(at - u).exp().mean().item<double>();
            Assert.AreEqual(integral, y.prob(tensor(at, ScalarType.Float64)).item<double>(), 1e-8 * integral, $"y = {at}");
            Assert.AreEqual(Math.Log(integral), y.log_prob(tensor(at, ScalarType.Float64)).item<double>(), 1e-8, $"y = {at}");
        }
        Assert.AreSame(x, y.base_density);
        Assert.ThrowsExactly<ArgumentNullException>(() => new UniformNoiseAdapter(null!));
    }
}
