using System;
using System.Linq;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;
using SoftRound.Tf.Benchmarks;

// --quick: a short in-process job over every case, the ratio table in about a minute.
// --profile: where the codec's and the QAT example's training steps spend their time (StepProfile);
//   with --keep-freed-memory, after NativeAllocator.keep_freed_memory().
// Otherwise BenchmarkDotNet's own command line (e.g. --filter '*SoftRound*').
if (args.Contains("--profile"))
{
    if (args.Contains("--keep-freed-memory")) Console.WriteLine($"keep_freed_memory: {SoftRound.Tf.Performance.NativeAllocator.keep_freed_memory()}");
    StepProfile.Run();
    return;
}
bool quick = args.Contains("--quick");
string[] rest = args.Where(a => a != "--quick").ToArray();

IConfig config = DefaultConfig.Instance
    .AddColumn(new PeakNativeColumn())
    .WithOptions(ConfigOptions.JoinSummary)
    .WithSummaryStyle(BenchmarkDotNet.Reports.SummaryStyle.Default.WithRatioStyle(RatioStyle.Trend));
if (quick)
{
    config = config.AddJob(Job.Dry
        .WithToolchain(InProcessEmitToolchain.Instance)
        .WithWarmupCount(1)
        .WithIterationCount(3)
        .WithIterationTime(TimeInterval.FromMilliseconds(25))
        .WithEvaluateOverhead(false)
        .WithStrategy(BenchmarkDotNet.Engines.RunStrategy.Throughput)
        .WithId("Quick"));
}

Console.WriteLine($"torch.set_num_threads({Threads.Count}); {Environment.ProcessorCount} cores; {System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}");
var summaries = BenchmarkSwitcher.FromAssembly(typeof(OpBenchmark).Assembly).Run(rest.Length == 0 ? new[] { "--filter", "*" } : rest, config);
RatioTable.Print(summaries);
