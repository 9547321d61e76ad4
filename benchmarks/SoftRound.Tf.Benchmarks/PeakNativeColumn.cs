using System;
using System.Linq;
using System.Reflection;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace SoftRound.Tf.Benchmarks;

/// <summary>
/// A column with the peak native bytes of one call (<see cref="NativePeak"/>), which BenchmarkDotNet's memory
/// diagnoser cannot see. Measured in the host process after the runs, with the benchmark's parameters set.
/// </summary>
public sealed class PeakNativeColumn : IColumn
{
    /// <inheritdoc />
    public string Id => nameof(PeakNativeColumn);

    /// <inheritdoc />
    public string ColumnName => "Peak native/call";

    /// <inheritdoc />
    public bool AlwaysShow => true;

    /// <inheritdoc />
    public ColumnCategory Category => ColumnCategory.Custom;

    /// <inheritdoc />
    public int PriorityInCategory => 0;

    /// <inheritdoc />
    public bool IsNumeric => true;

    /// <inheritdoc />
    public UnitType UnitType => UnitType.Size;

    /// <inheritdoc />
    public string Legend => "Peak native memory one call adds (peak RSS after malloc_trim)";

    /// <inheritdoc />
    public bool IsAvailable(Summary summary) => true;

    /// <inheritdoc />
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        Type type = benchmarkCase.Descriptor.Type;
        // Only the tensor benchmarks allocate native memory worth measuring (the entropy coder's is managed).
        if (!typeof(SizedBenchmark).IsAssignableFrom(type)) return "n/a";
        object instance = Activator.CreateInstance(type)!;
        foreach (var parameter in benchmarkCase.Parameters.Items)
        {
            type.GetProperty(parameter.Name)!.SetValue(instance, parameter.Value);
        }
        MethodInfo setup = type.GetMethod(nameof(SizedBenchmark.Setup))!, cleanup = type.GetMethod(nameof(SizedBenchmark.Cleanup))!;
        MethodInfo workload = benchmarkCase.Descriptor.WorkloadMethod;
        setup.Invoke(instance, null);
        try
        {
            workload.Invoke(instance, null);
            long? bytes = NativePeak.Measure(() => workload.Invoke(instance, null));
            return bytes is null ? "n/a" : $"{bytes.Value / (1024.0 * 1024.0):0.0} MiB";
        }
        finally
        {
            cleanup.Invoke(instance, null);
        }
    }

    /// <inheritdoc />
    public override string ToString() => ColumnName;
}
