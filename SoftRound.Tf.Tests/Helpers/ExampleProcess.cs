using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace SoftRound.Tf.Tests.Helpers;

/// <summary>Runs an example as a user would: its build output (the tests' configuration and framework) under <c>dotnet</c>.</summary>
internal static class ExampleProcess
{
    /// <summary>The exit code and the standard output followed by the standard error.</summary>
    public static (int exitCode, string output) Run(string project, string arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        string framework = new DirectoryInfo(AppContext.BaseDirectory).Name;
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        string dll = Path.Combine(Repository.Root, "examples", project, "bin", configuration, framework, project + ".dll");
        Assert.IsTrue(File.Exists(dll), $"{dll} is not built");
        var start = new ProcessStartInfo("dotnet", $"\"{dll}\" {arguments}") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach ((string name, string value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        using Process process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEndAsync().Result + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output);
    }
}
