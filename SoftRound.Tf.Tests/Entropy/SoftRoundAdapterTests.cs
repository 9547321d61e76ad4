using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Entropy;
using SoftRound.Tf.Tests.Helpers;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Entropy;

[TestClass]
public sealed class SoftRoundAdapterTests
{
    private static readonly double[] Points = { -2.93, -1.5, -0.61, -0.02, 0.0, 0.3, 0.5, 0.77, 1.49, 2.2 };

    private static IDensity Base() => new LogisticDensity(tensor(0.3, ScalarType.Float64), tensor(0.8, ScalarType.Float64));

    [TestMethod]
    [DataRow(0.5)]
    [DataRow(4.0)]
    [DataRow(12.0)]
    public void Cdf_OfTheSoftRoundedValue_IsTheBaseCdf(double alpha)
    {
        using var scope = NewDisposeScope();
        IDensity x = Base();
        var z = new SoftRoundAdapter(x, alpha);
        Tensor v = tensor(Points, ScalarType.Float64);
        Tensor rounded = tensor(Points.Select(p => Reference.SoftRound(p, alpha)).ToArray(), ScalarType.Float64);
        TensorAssert.Close(x.cdf(v).data<double>().ToArray(), z.cdf(rounded), 1e-12);
        TensorAssert.Close(x.log_cdf(v).data<double>().ToArray(), z.log_cdf(rounded), 1e-12);
        TensorAssert.Close(x.log_survival(v).data<double>().ToArray(), z.log_survival(rounded), 1e-12);
        Tensor p = tensor(new[] { 0.01, 0.3, 0.5, 0.9 }, ScalarType.Float64);
        TensorAssert.Close(x.quantile(p).data<double>().Select(q => Reference.SoftRound(q, alpha)).ToArray(), z.quantile(p), 1e-12);
    }

    [TestMethod]
    [DataRow(1e-3)]
    [DataRow(0.5)]
    [DataRow(4.0)]
    [DataRow(12.0)]
    public void LogProb_IsTheBaseDensityOverTheSlope(double alpha)
    {
        // f_Z(z) = f_X(u)/soft_round'(u), u = soft_round_inverse(z), with soft_round' from the reference formula (z is
        // rounded, and 1/soft_round' ≈ 10⁴ near integers at α = 12 magnifies that in u: hence 1e−10); and
        // the central difference of F_Z agrees to its own truncation error, away from the sharp peaks at integers.
        using var scope = NewDisposeScope();
        IDensity x = Base();
        var z = new SoftRoundAdapter(x, alpha);
        foreach (double p in Points)
        {
            double at = Reference.SoftRound(p, alpha), h = 1e-6;
            double expected = Math.Exp(x.log_prob(tensor(p, ScalarType.Float64)).item<double>()) / Reference.SoftRoundDx(p, alpha);
            double f = z.log_prob(tensor(at, ScalarType.Float64)).exp().item<double>();
            Assert.AreEqual(expected, f, 1e-10 * expected, $"z = {at} (x = {p}), α = {alpha}");
            double fd = (z.cdf(tensor(at + h, ScalarType.Float64)).item<double>() - z.cdf(tensor(at - h, ScalarType.Float64)).item<double>()) / (2 * h);
            if (expected < 50) Assert.AreEqual(fd, f, 1e-3 * fd, $"z = {at} (x = {p}), α = {alpha}");
        }
    }

    [TestMethod]
    [DataRow(0.5)]
    [DataRow(7.0)]
    public void IntervalMass_IsTheDifferenceOfTheCdf_AndTheBaseMassAtIntegers(double alpha)
    {
        using var scope = NewDisposeScope();
        IDensity x = Base();
        var z = new SoftRoundAdapter(x, alpha);
        foreach (double at in new[] { -4.2, -1.0, 0.0, 0.35, 1.0, 3.0, 6.6 })
        {
            Tensor t = tensor(at, ScalarType.Float64);
            double expected = z.cdf(t + 0.5).item<double>() - z.cdf(t - 0.5).item<double>();
            Assert.AreEqual(expected, z.interval_mass(t).item<double>(), 1e-13, $"z = {at}");
            Assert.AreEqual(Math.Log(expected), z.log_interval_mass(t).item<double>(), 1e-11, $"z = {at}");
            if (at == Math.Round(at)) Assert.AreEqual(x.interval_mass(t).item<double>(), z.interval_mass(t).item<double>(), 1e-15, $"integer {at}");
        }
        // The far upper tail is taken as S(a) − S(b): positive where F(b) − F(a) is 0.
        Assert.IsTrue(z.interval_mass(tensor(40.0, ScalarType.Float64)).item<double>() > 1e-30);
    }

    [TestMethod]
    public void BelowTheIdentityThreshold_ItIsTheBase()
    {
        using var scope = NewDisposeScope();
        IDensity x = Base();
        var z = new SoftRoundAdapter(x, 1e-4);
        Tensor v = tensor(Points, ScalarType.Float64);
        TensorAssert.Close(x.log_prob(v).data<double>().ToArray(), z.log_prob(v), 1e-15);
    }

    [TestMethod]
    public void BadArguments()
    {
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new SoftRoundAdapter(Base(), -1)).Message, "SoftRoundAdapter: alpha must be finite and at least 0; got -1.");
        Assert.ThrowsExactly<ArgumentNullException>(() => new SoftRoundAdapter(null!, 1));
    }
}
