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
    /// <summary>Whether <paramref name="path"/> lies in a build's bin/ or obj/ folder.</summary>
    private static bool IsBuildOutput(string path) =>
        path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") || path.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}");

    private static string[] SourceFiles() =>
        new[] { "SoftRound.Tf", "SoftRound.Tf.Tests", "examples", "benchmarks" }
            .SelectMany(d => Directory.EnumerateFiles(Path.Combine(Repository.Root, d), "*.cs", SearchOption.AllDirectories))
            .Where(f => !IsBuildOutput(f))
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

    /// <summary>
    /// Every file of the examples' data folders is named in a README.md in its folder or one above it (up to the data
    /// folder), where its source, author and licence are; and every file a README's table names is there.
    /// </summary>
    [TestMethod]
    public void EveryDataFile_IsNamedInAReadmeBesideIt_AndEveryNamedFileIsThere()
    {
        string[] dataFolders = Directory.GetDirectories(Path.Combine(Repository.Root, "examples"), "data", SearchOption.AllDirectories)
            .Where(d => !IsBuildOutput(d))
            .ToArray();
        Assert.IsGreaterThanOrEqualTo(2, dataFolders.Length);
        int files = 0, named = 0;
        foreach (string data in dataFolders)
        {
            foreach (string file in Directory.EnumerateFiles(data, "*", SearchOption.AllDirectories).Where(f => Path.GetFileName(f) != "README.md"))
            {
                files++;
                string name = Path.GetFileName(file);
                bool found = false;
                for (string? folder = Path.GetDirectoryName(file); folder is not null && folder.StartsWith(data, System.StringComparison.Ordinal) && !found; folder = Path.GetDirectoryName(folder))
                {
                    string readme = Path.Combine(folder, "README.md");
                    found = File.Exists(readme) && File.ReadAllText(readme).Contains(name, System.StringComparison.Ordinal);
                }
                Assert.IsTrue(found, $"{Path.GetRelativePath(Repository.Root, file)} is named in no README.md in its folder or above it");
            }
            foreach (string readme in Directory.EnumerateFiles(data, "README.md", SearchOption.AllDirectories))
            {
                string folder = Path.GetDirectoryName(readme)!;
                foreach (Match row in Regex.Matches(File.ReadAllText(readme), @"^\| `?([^|`/ ]+\.(?:png|jpg|gz))`? \|", RegexOptions.Multiline))
                {
                    named++;
                    Assert.IsNotEmpty(Directory.GetFiles(folder, row.Groups[1].Value, SearchOption.AllDirectories),
                        $"{Path.GetRelativePath(Repository.Root, readme)} names {row.Groups[1].Value}, which is not there");
                }
            }
        }
        Assert.IsGreaterThan(100, files);
        Assert.IsGreaterThan(100, named);
    }

    [TestMethod]
    public void ReadmeInstallStep_KeepsTheFeedInTheAppsOwnConfig()
    {
        string[] lines = File.ReadAllLines(Path.Combine(Repository.Root, "README.md")).Where(l => l.Contains("dotnet nuget add source")).ToArray();
        Assert.IsNotEmpty(lines);
        foreach (string line in lines) StringAssert.Contains(line, "--configfile");
    }
}
