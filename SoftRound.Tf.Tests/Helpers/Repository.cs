using System;
using System.IO;

namespace SoftRound.Tf.Tests.Helpers;

/// <summary>Where this repository's checkout is, found from the test output folder.</summary>
internal static class Repository
{
    /// <summary>The folder that holds SoftRound.Tf.sln.</summary>
    public static string Root
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "SoftRound.Tf.sln"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("SoftRound.Tf.sln not found above the test output");
        }
    }
}
