using System;
using System.Collections.Generic;
using System.Linq;
using BenchmarkDotNet.Reports;

namespace SoftRound.Tf.Benchmarks;

/// <summary>
/// The table the README quotes, from one run's medians: for each op, size and mode, how many times faster the fused op
/// is than its composite formula, and how many clones' time it takes.
/// </summary>
public static class RatioTable
{
    /// <summary>Prints the table; rows missing a measurement are left out.</summary>
    public static void Print(IEnumerable<Summary> summaries)
    {
        var medians = new Dictionary<(string type, string method, int n, string mode), double>();
        foreach (BenchmarkReport report in summaries.SelectMany(s => s.Reports))
        {
            if (report.ResultStatistics is null) continue;
            var parameters = report.BenchmarkCase.Parameters;
            // Benchmarks without a size (the entropy coder's) report their own ratios in BenchmarkDotNet's table.
            if (!parameters.Items.Any(p => p.Name == nameof(SizedBenchmark.N))) continue;
            string mode = parameters.Items.Any(p => p.Name == nameof(OpBenchmark.Mode)) ? parameters[nameof(OpBenchmark.Mode)].ToString()! : "";
            medians[(report.BenchmarkCase.Descriptor.Type.Name, report.BenchmarkCase.Descriptor.WorkloadMethod.Name, (int)parameters[nameof(SizedBenchmark.N)], mode)] =
                report.ResultStatistics.Median;
        }
        Console.WriteLine();
        Console.WriteLine("| op | elements | pass | composite ÷ fused (× faster) | fused ÷ clone |");
        Console.WriteLine("|---|---:|---|---:|---:|");
        foreach (var key in medians.Keys.Where(k => k.method == nameof(OpBenchmark.Fused)).OrderBy(k => k.type).ThenBy(k => k.n).ThenBy(k => k.mode))
        {
            if (!medians.TryGetValue((key.type, nameof(OpBenchmark.CompositeFormula), key.n, key.mode), out double composite)) continue;
            double fused = medians[key];
            string clone = medians.TryGetValue((nameof(CloneBenchmark), nameof(CloneBenchmark.Clone), key.n, ""), out double c) ? $"{fused / c:0.0}" : "n/a";
            string op = key.type.Replace("Benchmark", "");
            Console.WriteLine($"| {op} | {Size(key.n)} | {(key.mode == nameof(Mode.Forward) ? "forward (no_grad)" : "forward + backward")} | {composite / fused:0.0} | {clone} |");
        }
    }

    private static string Size(int n) => n >= 1 << 20 ? $"{n >> 20}M" : $"{n >> 10}K";
}
