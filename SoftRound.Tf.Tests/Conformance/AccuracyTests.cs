using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Numerics;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Tests.Helpers;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Conformance;

/// <summary>
/// The smooth ops against a 50-digit reference table (Reference/accuracy-reference.csv, made by Reference/generate.py
/// with mpmath): values and derivatives in ulps of the dtype, on the fused kernel and on the composite path, and row
/// by row no worse than the textbook formula evaluated in the same dtype with the runtime's libm (what
/// tensorflow_compression and a Keras snippet compute).
/// </summary>
[TestClass]
public sealed class AccuracyTests
{
    private sealed record Row(string Op, string Dtype, double Steepness, double X, double Value, double Derivative);

    /// <summary>Max ulps allowed, per op and dtype, for values and derivatives (fused kernel and composite path alike).</summary>
    private static readonly Dictionary<string, (double value, double derivative)> Bounds = new()
    {
        ["differentiable_round"] = (2, 4),
        ["soft_round"] = (4, 4),
        ["soft_round_inverse"] = (3, 6),
        ["soft_round_conditional_mean"] = (3, 6),
    };

    /// <summary>
    /// Below this many ulps an error is rounding noise: a row is worse than the textbook form only when its error is
    /// above both this and the textbook form's error + 1 ulp.
    /// </summary>
    private const double NoiseFloor = 4;

    private static readonly Lazy<Row[]> Rows = new(() =>
        File.ReadLines(Path.Combine(Repository.Root, "SoftRound.Tf.Tests", "Reference", "accuracy-reference.csv")).Skip(1)
            .Select(line => line.Split(','))
            .Select(f => new Row(f[0], f[1], Parse(f[2]), Parse(f[3]), Parse(f[4]), Parse(f[5])))
            .ToArray());

    private static double Parse(string s) => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);

    private static readonly Dictionary<string, Func<Tensor, double, Tensor>> NumberOps = new()
    {
        ["differentiable_round"] = SoftRoundOps.differentiable_round,
        ["soft_round"] = SoftRoundOps.soft_round,
        ["soft_round_inverse"] = SoftRoundOps.soft_round_inverse,
        ["soft_round_conditional_mean"] = SoftRoundOps.soft_round_conditional_mean,
    };

    private static readonly Dictionary<string, Func<Tensor, Tensor, Tensor>> TensorOps = new()
    {
        ["differentiable_round"] = SoftRoundOps.differentiable_round,
        ["soft_round"] = SoftRoundOps.soft_round,
        ["soft_round_inverse"] = SoftRoundOps.soft_round_inverse,
        ["soft_round_conditional_mean"] = SoftRoundOps.soft_round_conditional_mean,
    };

    public static IEnumerable<object[]> Cases =>
        from op in NumberOps.Keys from dtype in new[] { "float32", "float64" } from path in new[] { "kernel", "composite" }
        select new object[] { op, dtype, path };

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void ValuesAndDerivatives_AreWithinTheirUlpBound_AndNoWorseThanTheTextbookForm(string op, string dtype, string path)
    {
        var (valueBound, derivativeBound) = Bounds[op];
        double worstValue = 0, worstDerivative = 0, textbookValue = 0, textbookDerivative = 0;
        int rowCount = 0, textbookRowsOff = 0;
        var failures = new List<string>();
        foreach (var group in Rows.Value.Where(r => r.Op == op && r.Dtype == dtype).GroupBy(r => r.Steepness))
        {
            Row[] rows = group.ToArray();
            (double[] values, double[] derivatives) = Evaluate(op, dtype, path, group.Key, rows.Select(r => r.X).ToArray());
            for (int i = 0; i < rows.Length; i++)
            {
                Row r = rows[i];
                double ev = Ulps(values[i], r.Value, dtype), ed = Ulps(derivatives[i], r.Derivative, dtype);
                (double tv, double td) = Textbook(op, dtype, r.Steepness, r.X);
                double etv = Ulps(tv, r.Value, dtype), etd = Ulps(td, r.Derivative, dtype);
                rowCount++;
                if (etv > NoiseFloor || etd > NoiseFloor) textbookRowsOff++;
                worstValue = Math.Max(worstValue, ev);
                worstDerivative = Math.Max(worstDerivative, ed);
                textbookValue = Math.Max(textbookValue, etv);
                textbookDerivative = Math.Max(textbookDerivative, etd);
                string at = $"x = {r.X:R}, steepness {r.Steepness}";
                if (ev > valueBound) failures.Add($"{at}: value {values[i]:R}, exact {r.Value:R}, {ev:F1} ulp");
                if (ed > derivativeBound) failures.Add($"{at}: derivative {derivatives[i]:R}, exact {r.Derivative:R}, {ed:F1} ulp");
                if (ev > Math.Max(etv + 1, NoiseFloor)) failures.Add($"{at}: value {ev:F1} ulp, worse than the textbook form's {etv:F1}");
                if (ed > Math.Max(etd + 1, NoiseFloor)) failures.Add($"{at}: derivative {ed:F1} ulp, worse than the textbook form's {etd:F1}");
            }
        }
        // One row of the README's accuracy table: max ulps of values and derivatives, here and in the textbook form, and
        // how many of the inputs the textbook form gets more than NoiseFloor ulp wrong.
        Console.WriteLine($"| {op} | {dtype} | {path} | {worstValue:F1} | {worstDerivative:F1} | {textbookValue:G3} | {textbookDerivative:G3} | {textbookRowsOff} of {rowCount} |");
        ConformanceReport.Case("accuracy", () =>
        {
            if (failures.Count > 0) Assert.Fail($"{failures.Count} failures; first ones:\n" + string.Join("\n", failures.Take(12)));
        });
    }

    /// <summary>Values and dy/dx of <paramref name="op"/> at <paramref name="xs"/>, by the fused kernel (a number steepness) or the composite path (a tensor steepness of x's shape).</summary>
    private static (double[] values, double[] derivatives) Evaluate(string op, string dtype, string path, double steepness, double[] xs)
    {
        using var scope = NewDisposeScope();
        ScalarType type = dtype == "float32" ? ScalarType.Float32 : ScalarType.Float64;
        Tensor x = tensor(xs, ScalarType.Float64).to(type).requires_grad_(true);
        Tensor y = path == "kernel" ? NumberOps[op](x, steepness) : TensorOps[op](x, full(xs.Length, steepness, type));
        y.sum().backward();
        return (Reference.Values(y), Reference.Values(x.grad!));
    }

    /// <summary>|actual − exact| in ulps of exact in the dtype (a subnormal's ulp is the smallest subnormal).</summary>
    private static double Ulps(double actual, double exact, string dtype)
    {
        // An exact value beyond the dtype's range rounds to ±∞ there.
        if (dtype == "float32" && float.IsInfinity((float)exact)) exact = (float)exact;
        if (actual == exact) return 0;
        if (!double.IsFinite(actual) || !double.IsFinite(exact)) return double.PositiveInfinity;
        double ulp = dtype == "float32"
            ? MathF.BitIncrement(MathF.Abs((float)exact)) - (double)MathF.Abs((float)exact)
            : Math.BitIncrement(Math.Abs(exact)) - Math.Abs(exact);
        return Math.Abs(actual - exact) / ulp;
    }

    private static (double value, double derivative) Textbook(string op, string dtype, double steepness, double x) =>
        dtype == "float32" ? Textbook((float)steepness, (float)x, op) : Textbook(steepness, x, op);

    /// <summary>
    /// The formulas as tensorflow_compression and the Keras sigmoid-round snippet write them, evaluated in T with the
    /// runtime's libm, and their automatic derivatives (the inverse's clip stops the gradient where atanh is ±∞).
    /// </summary>
    private static (double value, double derivative) Textbook<T>(T a, T x, string op) where T : IBinaryFloatingPointIeee754<T>
    {
        T half = T.CreateTruncating(0.5), two = T.CreateTruncating(2);
        switch (op)
        {
            case "differentiable_round":
            {
                T f = T.Floor(x), z = a * (x - f - half);
                T s = T.One / (T.One + T.Exp(-z)), sm = T.One / (T.One + T.Exp(z));
                return (double.CreateTruncating(f + s), double.CreateTruncating(a * s * sm));
            }
            case "soft_round":
            {
                T m = T.Floor(x) + half, t = T.Tanh(a * (x - m)), d = two * T.Tanh(a / two);
                return (double.CreateTruncating(m + t / d), double.CreateTruncating(a * (T.One - t * t) / d));
            }
            case "soft_round_inverse":
                return Inverse(a, x);
            default:
            {
                (double v, double dv) = Inverse(a, x - half);
                return (double.CreateTruncating(T.CreateTruncating(v) + half), dv);
            }
        }

        static (double, double) Inverse(T a, T y)
        {
            T half = T.CreateTruncating(0.5), two = T.CreateTruncating(2);
            T m = T.Floor(y) + half, th = T.Tanh(a / two), s = two * (y - m) * th, r = T.Atanh(s) / a;
            T derivative = T.Abs(r) > half || T.IsInfinity(r) ? T.Zero : two * th / (a * (T.One - s * s));
            return (double.CreateTruncating(m + T.Clamp(r, -half, half)), double.CreateTruncating(derivative));
        }
    }
}
