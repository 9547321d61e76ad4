using System;
using System.Diagnostics;
using System.IO;
using System.IO.Compression;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Tests.Helpers;

namespace SoftRound.Tf.Tests.BuildTransitive;

/// <summary>
/// The NuGet package as a user gets it: packed from this repository, installed from a local folder feed into a scratch
/// console app that references TorchSharp-cpu, built and run on this machine (Debian 12, whose libstdc++ lacks
/// GLIBCXX_3.4.32, so the app runs only if the package's buildTransitive fix works).
/// </summary>
[TestClass]
public sealed class PackageTests
{
    private static string GlobalPackages() =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } set
            ? set
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    private static string Dotnet(string arguments, string workingDirectory)
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
        Assert.AreEqual(0, process.ExitCode, $"dotnet {arguments}\n{output}");
        return output;
    }

    [TestMethod]
    public void PackedLibrary_InstallsBuildsAndRunsInAScratchApp()
    {
        string root = Path.Combine(Path.GetTempPath(), "softround-package-" + Guid.NewGuid().ToString("N"));
        string feed = Path.Combine(root, "feed"), app = Path.Combine(root, "app");
        Directory.CreateDirectory(app);
        string version = "0.1.0-test." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff");
        try
        {
            Dotnet($"pack \"{Path.Combine(Repository.Root, "SoftRound.Tf", "SoftRound.Tf.csproj")}\" -c Release -o \"{feed}\" -p:Version={version}", root);
            string package = Path.Combine(feed, $"SoftRound.Tf.{version}.nupkg");
            Assert.IsTrue(File.Exists(Path.Combine(feed, $"SoftRound.Tf.{version}.snupkg")), "symbol package");
            using (ZipArchive zip = ZipFile.OpenRead(package))
            {
                string[] entries = zip.Entries.Select(e => e.FullName).ToArray();
                CollectionAssert.IsSubsetOf(new[] { "README.md", "lib/net10.0/SoftRound.Tf.dll", "lib/net10.0/SoftRound.Tf.xml",
                    "buildTransitive/SoftRound.Tf.targets", "buildTransitive/SoftRoundWeakenGlibcxxMarker.cs" }, entries);
                using var nuspec = new StreamReader(zip.GetEntry("SoftRound.Tf.nuspec")!.Open());
                string text = nuspec.ReadToEnd();
                StringAssert.Contains(text, "<license type=\"expression\">MIT</license>");
                StringAssert.Contains(text, "<readme>README.md</readme>");
                StringAssert.Contains(text, "<dependency id=\"TorchSharp\" version=\"0.107.0\"");
                Assert.AreEqual(1, text.Split("<dependency ").Length - 1, "TorchSharp is the only dependency");
            }

            // The app's own package folder, falling back to the machine's for TorchSharp: nothing is added to that cache.
            File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources><add key="local" value="{feed}" /></packageSources>
                </configuration>
                """);
            File.WriteAllText(Path.Combine(app, "app.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <RestorePackagesPath>{Path.Combine(root, "packages")}</RestorePackagesPath>
                    <RestoreFallbackFolders>{GlobalPackages()}</RestoreFallbackFolders>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="SoftRound.Tf" Version="{version}" />
                    <PackageReference Include="TorchSharp-cpu" Version="0.107.0" />
                  </ItemGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(app, "Program.cs"), """
                using SoftRound.Tf;
                using static TorchSharp.torch;
                var x = tensor(new[] { 0.8f }).requires_grad_(true);
                var y = SoftRoundOps.differentiable_round(x, 100.0);
                y.sum().backward();
                System.Console.WriteLine($"y={y.item<float>():R} dydx={x.grad!.item<float>():E4}");
                """);
            string output = Dotnet("run", app);
            StringAssert.Contains(output, "dydx=9.3576E-012");
            StringAssert.Contains(output, "y=1 ");
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }
}
