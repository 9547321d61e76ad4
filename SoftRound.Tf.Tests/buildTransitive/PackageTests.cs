using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Tests.Helpers;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.BuildTransitive;

/// <summary>
/// The NuGet package as a user gets it: packed from this repository once, installed from a local folder feed into
/// scratch console apps that reference TorchSharp-cpu, built and run on this machine (Debian 12, whose libstdc++ lacks
/// GLIBCXX_3.4.32, so an app runs only if the package's buildTransitive fix works): a net10.0 app, a net8.0 app
/// (self-contained from the runtime pack, since no .NET 8 runtime need be installed) whose results must equal this
/// net10.0 build's bit for bit, and a net6.0 app, which restore must refuse.
/// </summary>
[TestClass]
public sealed class PackageTests
{
    private static string root = "", feed = "", version = "";

    /// <summary>The program each app runs: every op's values and gradients at fixed inputs, as hexadecimal bits.</summary>
    private const string Program = """
        using System;
        using System.Linq;
        using SoftRound.Tf;
        using static TorchSharp.torch;
        foreach (string line in Probe.Lines()) Console.WriteLine(line);
        """;

    [ClassInitialize]
    public static void Pack(TestContext _)
    {
        root = Path.Combine(Path.GetTempPath(), "softround-package-" + Guid.NewGuid().ToString("N"));
        feed = Path.Combine(root, "feed");
        version = "0.1.0-test." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff");
        Directory.CreateDirectory(root);
        Dotnet($"pack \"{Path.Combine(Repository.Root, "SoftRound.Tf", "SoftRound.Tf.csproj")}\" -c Release -o \"{feed}\" -p:Version={version}", root);
    }

    [ClassCleanup]
    public static void Clean()
    {
        if (Directory.Exists(root)) Directory.Delete(root, true);
    }

    [TestMethod]
    public void Package_HoldsBothFrameworks_ItsOwnReadme_AndTorchSharpPyBridgeAndProtobufAsItsOnlyDependencies()
    {
        string package = Path.Combine(feed, $"SoftRound.Tf.{version}.nupkg");
        Assert.IsTrue(File.Exists(Path.Combine(feed, $"SoftRound.Tf.{version}.snupkg")), "symbol package");
        using ZipArchive zip = ZipFile.OpenRead(package);
        string[] entries = zip.Entries.Select(e => e.FullName).ToArray();
        CollectionAssert.IsSubsetOf(new[] { "PackageReadme.md", "lib/net8.0/SoftRound.Tf.dll", "lib/net8.0/SoftRound.Tf.xml",
            "lib/net10.0/SoftRound.Tf.dll", "lib/net10.0/SoftRound.Tf.xml",
            "buildTransitive/net8.0/SoftRound.Tf.targets", "buildTransitive/net8.0/SoftRoundWeakenGlibcxxMarker.cs" }, entries);
        Assert.IsFalse(entries.Any(e => e.StartsWith("buildTransitive/SoftRound", StringComparison.Ordinal)), "no framework-less build files");
        using var nuspec = new StreamReader(zip.GetEntry("SoftRound.Tf.nuspec")!.Open());
        string text = nuspec.ReadToEnd();
        StringAssert.Contains(text, "<license type=\"expression\">MIT</license>");
        StringAssert.Contains(text, "<readme>PackageReadme.md</readme>");
        StringAssert.Contains(text, "<dependency id=\"TorchSharp\" version=\"0.107.0\"");
        // TorchSharp.PyBridge reads the state dicts CompressAI saved (CompressionModel.load_compressai).
        StringAssert.Contains(text, "<dependency id=\"TorchSharp.PyBridge\" version=\"1.4.4\"");
        // Google.Protobuf writes the ONNX models (OnnxExport); Grpc.Tools (protoc) is a build-time tool only.
        StringAssert.Contains(text, "<dependency id=\"Google.Protobuf\" version=\"3.36.2\"");
        Assert.IsFalse(text.Contains("Grpc.Tools"), "protoc is not a dependency");
        Assert.AreEqual(6, text.Split("<dependency ").Length - 1, "TorchSharp, TorchSharp.PyBridge and Google.Protobuf are the only dependencies, once per framework");
        using var readme = new StreamReader(zip.GetEntry("PackageReadme.md")!.Open());
        string readmeText = readme.ReadToEnd();
        Assert.IsFalse(readmeText.Contains("](docs/") || readmeText.Contains("](examples/") || readmeText.Contains("![]("),
            "the package readme has no relative links or pictures");
    }

    [TestMethod]
    public void Net10App_InstallsBuildsAndRuns_WithThisBuildsResults()
    {
        string output = RunApp("net10.0", selfContained: false);
        CollectionAssert.AreEqual(Probe.Lines().ToArray(), ProbeLines(output));
    }

    [TestMethod]
    public void Net8App_RunsSelfContained_WithThisBuildsResultsBitForBit()
    {
        string output = RunApp("net8.0", selfContained: true);
        CollectionAssert.AreEqual(Probe.Lines().ToArray(), ProbeLines(output));
    }

    [TestMethod]
    public void Net6App_IsRefusedAtRestore()
    {
        string app = WriteApp("net6.0", selfContained: false);
        (int exit, string output) = Run("restore", app);
        Assert.AreNotEqual(0, exit, output);
        StringAssert.Contains(output, "NU1202");
    }

    private static string[] ProbeLines(string output) => output.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("probe ", StringComparison.Ordinal)).ToArray();

    private static string RunApp(string framework, bool selfContained) => Dotnet("run", WriteApp(framework, selfContained));

    private static string WriteApp(string framework, bool selfContained)
    {
        string app = Path.Combine(root, "app-" + framework);
        Directory.CreateDirectory(app);
        // The app's own package folder, falling back to the machine's for TorchSharp: nothing is added to that cache.
        File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources><add key="local" value="{feed}" /></packageSources>
            </configuration>
            """);
        string runtime = selfContained ? "<RuntimeIdentifier>linux-x64</RuntimeIdentifier><SelfContained>true</SelfContained>" : "";
        File.WriteAllText(Path.Combine(app, "app.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>{framework}</TargetFramework>
                <Nullable>enable</Nullable>
                {runtime}
                <RestorePackagesPath>{Path.Combine(root, "packages")}</RestorePackagesPath>
                <RestoreFallbackFolders>{GlobalPackages()}</RestoreFallbackFolders>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="SoftRound.Tf" Version="{version}" />
                <PackageReference Include="TorchSharp-cpu" Version="0.107.0" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(app, "Program.cs"), Program);
        File.Copy(Path.Combine(Repository.Root, "SoftRound.Tf.Tests", "buildTransitive", "Probe.cs"), Path.Combine(app, "Probe.cs"), overwrite: true);
        return app;
    }

    private static string GlobalPackages() =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } set
            ? set
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    private static string Dotnet(string arguments, string workingDirectory)
    {
        (int exit, string output) = Run(arguments, workingDirectory);
        Assert.AreEqual(0, exit, $"dotnet {arguments}\n{output}");
        return output;
    }

    private static (int exit, string output) Run(string arguments, string workingDirectory)
    {
        var start = new ProcessStartInfo("dotnet", arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // Run as a user would: not inside this test host's MSBuild or test environment.
        foreach (string key in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(key);
        }
        using Process process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEndAsync().Result + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output);
    }
}
