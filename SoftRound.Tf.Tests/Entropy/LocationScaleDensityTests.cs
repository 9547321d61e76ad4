using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Entropy;
using SoftRound.Tf.Tests.Helpers;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Entropy;

[TestClass]
public sealed class LocationScaleDensityTests
{
    /// <summary>Relative error, with values below <paramref name="tiny"/> counted as absolute.</summary>
    private static double Error(double expected, double actual, double tiny) =>
        Math.Abs(actual - expected) / Math.Max(Math.Abs(expected), tiny);

    private static void AgainstReference(string density, ScalarType dtype, double tolerance, Func<LocationScaleDensity, Tensor, Tensor> f,
        Func<DensityReference.Row, double> expected, string what)
    {
        // Near the bottom of the normal range erfc keeps fewer bits; below these the error is measured absolutely.
        double tiny = dtype == ScalarType.Float64 ? 1e-290 : 1e-30;
        var failures = new List<string>();
        foreach (DensityReference.Row row in DensityReference.Rows.Where(r => r.Kind == (what == "quantile" ? "p" : "x") && r.Density == density))
        {
            using var scope = NewDisposeScope();
            LocationScaleDensity d = DensityReference.Create(density, row.Loc, row.Scale, dtype);
            double input = dtype == ScalarType.Float64 ? row.Input : (float)row.Input;
            if (dtype == ScalarType.Float32 && input != row.Input) continue;
            double actual = f(d, tensor(input, dtype)).to(ScalarType.Float64).item<double>();
            double want = expected(row);
            if (dtype == ScalarType.Float32 && Math.Abs(want) > float.MaxValue) continue;
            if (Math.Abs(want) < tiny && Math.Abs(actual) < tiny) continue;
            if (!(Error(want, actual, tiny) <= tolerance)) failures.Add($"{what}({input}; {row.Loc}, {row.Scale}) = {actual:R}, expected {want:R}");
        }
        if (failures.Count > 0) Assert.Fail($"{density} {dtype}:\n" + string.Join("\n", failures));
    }

    public static IEnumerable<object[]> Cases() =>
        from density in new[] { "logistic", "normal", "laplace" }
        from dtype in new[] { ScalarType.Float64, ScalarType.Float32 }
        select new object[] { density, dtype };

    /// <summary>
    /// In float32, z = (x − μ)/s is itself rounded, and e^z carries that as a relative error of |z|·ε: up to 3e−6 at
    /// 50 scales. The float64 bound holds there too (|z|·ε ≈ 1e−14).
    /// </summary>
    private static double Tolerance(ScalarType dtype, double float64 = 1e-13) => dtype == ScalarType.Float64 ? float64 : 1e-5;

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void Cdf(string density, ScalarType dtype) =>
        AgainstReference(density, dtype, Tolerance(dtype), (d, x) => d.cdf(x), r => r.Cdf, "cdf");

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void LogCdf_AndLogSurvival_InBothTails(string density, ScalarType dtype)
    {
        AgainstReference(density, dtype, Tolerance(dtype), (d, x) => d.log_cdf(x), r => r.LogCdf, "log_cdf");
        AgainstReference(density, dtype, Tolerance(dtype), (d, x) => d.log_survival(x), r => r.LogSurvival, "log_survival");
    }

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void LogProb(string density, ScalarType dtype) =>
        AgainstReference(density, dtype, Tolerance(dtype), (d, x) => d.log_prob(x), r => r.LogProb, "log_prob");

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void IntervalMass_IsAccurateOutTo50Scales(string density, ScalarType dtype)
    {
        // The mass from the exp of the log in the far tails costs |log m|·ε: 1e−12 covers |log m| ≤ 1250 in float64.
        AgainstReference(density, dtype, Tolerance(dtype, 1e-12), (d, x) => d.interval_mass(x), r => r.Mass, "interval_mass");
        AgainstReference(density, dtype, Tolerance(dtype), (d, x) => d.log_interval_mass(x), r => r.LogMass, "log_interval_mass");
    }

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void Quantile(string density, ScalarType dtype) =>
        AgainstReference(density, dtype, Tolerance(dtype, 1e-12), (d, p) => d.quantile(p), r => r.Quantile, "quantile");

    [TestMethod]
    [DataRow("logistic")]
    [DataRow("normal")]
    [DataRow("laplace")]
    public void NaiveDifference_FailsWhereTheFoldedMassDoesNot(string density)
    {
        // Far enough above the location (40 scales; 20 for the normal, whose mass underflows at 40), F(x + ½) − F(x − ½)
        // is 1 − 1 = 0 in float64; the mass folded into the lower tail is the true, positive value.
        using var scope = NewDisposeScope();
        LocationScaleDensity d = DensityReference.Create(density, 0, 1, ScalarType.Float64);
        Tensor x = tensor(density == "normal" ? 20.0 : 40.0, ScalarType.Float64);
        double naive = (d.cdf(x + 0.5) - d.cdf(x - 0.5)).item<double>();
        Assert.AreEqual(0.0, naive);
        Assert.IsTrue(d.interval_mass(x).item<double>() > 1e-100);
        // Far beyond where the mass underflows, its log is still finite.
        Assert.IsTrue(double.IsFinite(d.log_interval_mass(tensor(1e3, ScalarType.Float64)).item<double>()));
    }

    [TestMethod]
    [DataRow("logistic")]
    [DataRow("normal")]
    [DataRow("laplace")]
    public void Gradients_MatchFiniteDifferences(string density)
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(new[] { -7.3, -1.2, -0.3, 0.0, 0.45, 2.6, 9.1 }, ScalarType.Float64).requires_grad_(true);
        Tensor loc = tensor(new[] { 0.2 }, ScalarType.Float64).requires_grad_(true);
        Tensor scale = tensor(new[] { 1.7 }, ScalarType.Float64).requires_grad_(true);
        LocationScaleDensity Make(Tensor[] v) => DensityReference.Create(density, 0, 1, ScalarType.Float64) switch
        {
            LogisticDensity => new LogisticDensity(v[1], v[2]),
            NormalDensity => new NormalDensity(v[1], v[2]),
            _ => new LaplaceDensity(v[1], v[2]),
        };
        foreach (Func<LocationScaleDensity, Tensor, Tensor> f in new Func<LocationScaleDensity, Tensor, Tensor>[]
                 { (d, t) => d.cdf(t), (d, t) => d.log_cdf(t), (d, t) => d.log_survival(t), (d, t) => d.log_prob(t), (d, t) => d.interval_mass(t), (d, t) => d.log_interval_mass(t) })
        {
            GradCheck.Assert(v => f(Make(v), v[0]), x, loc, scale);
        }
    }

    [TestMethod]
    public void PerElementParameters_Broadcast()
    {
        using var scope = NewDisposeScope();
        var d = new NormalDensity(tensor(new[] { 0f, 1f, -2f }), tensor(new[] { 1f, 0.5f, 2f }));
        Tensor x = tensor(new[] { 0f, 1f, -2f }).reshape(1, 3).expand(2, 3);
        TensorAssert.Close(Enumerable.Repeat(0.5, 6).ToArray(), d.cdf(x), 1e-7);
        Assert.AreEqual(ScalarType.Float32, d.cdf(x).dtype);
        Assert.AreEqual(ScalarType.Float64, d.cdf(x.to(ScalarType.Float64)).dtype);
    }

    [TestMethod]
    public void BadParameters_NameTheMemberAndValue()
    {
        using var scope = NewDisposeScope();
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new NormalDensity(tensor(0.0), tensor(new[] { 1.0, 0.0 })));
        StringAssert.Contains(e.Message, "NormalDensity: scale must be finite and greater than 0; got 0.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new LaplaceDensity(tensor(double.NaN), tensor(1.0))).Message,
            "LaplaceDensity: loc must be finite; got NaN.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => new LogisticDensity(tensor(new[] { 0.0, 1.0 }), tensor(new[] { 1.0, 1.0, 1.0 }))).Message,
            "LogisticDensity: scale has shape (3), which does not broadcast");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => new LogisticDensity(tensor(0.0), tensor(1.0)).cdf(tensor(new[] { 1, 2 }))).Message,
            "LogisticDensity.cdf: x has dtype Int32");
        Assert.ThrowsExactly<ArgumentNullException>(() => new LogisticDensity(null!, tensor(1.0)));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentNullException>(() => new LogisticDensity(tensor(0.0), null!)).Message, "LogisticDensity: scale is null.");
        var normal = new NormalDensity(tensor(0.0), tensor(1.0));
        Tensor integers = tensor(new[] { 1, 2 });
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => normal.quantile(integers)).Message, "NormalDensity.quantile: p has dtype Int32");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => normal.log_prob(integers)).Message, "NormalDensity.log_prob: x has dtype Int32");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => normal.interval_mass(integers)).Message, "NormalDensity.interval_mass: x has dtype Int32");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => normal.log_interval_mass(integers)).Message, "NormalDensity.log_interval_mass: x has dtype Int32");
    }
}
