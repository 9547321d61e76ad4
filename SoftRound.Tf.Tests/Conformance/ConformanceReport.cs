using System;
using System.Collections.Concurrent;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace SoftRound.Tf.Tests.Conformance;

/// <summary>
/// Counts the conformance cases tried and failed per category, and prints them when the test run ends.
/// </summary>
[TestClass]
public static class ConformanceReport
{
    private static readonly ConcurrentDictionary<string, (int tried, int failed)> Counts = new();

    /// <summary>Runs one case of <paramref name="category"/>, counting it, and rethrows its failure.</summary>
    public static void Case(string category, Action check)
    {
        try
        {
            check();
            Counts.AddOrUpdate(category, (1, 0), (_, c) => (c.tried + 1, c.failed));
        }
        catch
        {
            Counts.AddOrUpdate(category, (1, 1), (_, c) => (c.tried + 1, c.failed + 1));
            throw;
        }
    }

    /// <summary>Prints the counts, one line per category.</summary>
    [AssemblyCleanup]
    public static void Print()
    {
        if (Counts.IsEmpty) return;
        Console.Error.WriteLine("Conformance cases (tried, failed):");
        foreach (var (category, (tried, failed)) in Counts.OrderBy(kv => kv.Key).Select(kv => (kv.Key, kv.Value)))
        {
            Console.Error.WriteLine($"  {category}: {tried} tried, {failed} failed");
        }
    }
}
