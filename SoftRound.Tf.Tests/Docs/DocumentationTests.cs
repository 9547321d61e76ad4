using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Tests.Helpers;

namespace SoftRound.Tf.Tests.Docs;

/// <summary>What the documentation promises about itself: citations that resolve inside the repository, and install steps that stay in the app.</summary>
[TestClass]
public sealed class DocumentationTests
{
    private static string[] SourceFiles() =>
        new[] { "SoftRound.Tf", "SoftRound.Tf.Tests", "examples", "benchmarks" }
            .SelectMany(d => Directory.EnumerateFiles(Path.Combine(Repository.Root, d), "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .ToArray();

    [TestMethod]
    [DataRow("MATH", 5)]
    [DataRow("ENTROPY", 3)]
    public void EveryCitedSection_ExistsInItsDocument(string document, int atLeast)
    {
        string doc = File.ReadAllText(Path.Combine(Repository.Root, "docs", document + ".md"));
        int cited = 0;
        foreach (string file in SourceFiles().Append(Path.Combine(Repository.Root, "README.md")))
        {
            string text = File.ReadAllText(file);
            Assert.IsFalse(text.Contains("../" + "shared/"), $"{file} cites a file outside the repository");
            foreach (Match m in Regex.Matches(text, $@"docs/{document}\.md §(\d+)"))
            {
                cited++;
                StringAssert.Contains(doc, $"\n## {m.Groups[1].Value}. ", $"{file} cites docs/{document}.md §{m.Groups[1].Value}");
            }
        }
        Assert.IsGreaterThan(atLeast, cited, $"the code cites docs/{document}.md by section");
    }

    [TestMethod]
    public void ReadmeInstallStep_KeepsTheFeedInTheAppsOwnConfig()
    {
        string[] lines = File.ReadAllLines(Path.Combine(Repository.Root, "README.md")).Where(l => l.Contains("dotnet nuget add source")).ToArray();
        Assert.IsNotEmpty(lines);
        foreach (string line in lines) StringAssert.Contains(line, "--configfile");
    }
}
