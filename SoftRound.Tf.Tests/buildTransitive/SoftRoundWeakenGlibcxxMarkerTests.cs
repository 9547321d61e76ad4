using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace SoftRound.Tf.Tests.BuildTransitive;

[TestClass]
public sealed partial class SoftRoundWeakenGlibcxxMarkerTests
{
    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int link(string existing, string created);

    private const string Library = "libLibTorchSharp.so";

    /// <summary>
    /// The copy of the library this test process loaded (TorchSharp loaded first, then read from /proc/self/maps): the
    /// build output's, beside the tests (the repository builds its apps for the host's runtime, so natives sit flat).
    /// </summary>
    private static string OutputCopy
    {
        get
        {
            TorchSharp.torch.InitializeDeviceType(TorchSharp.DeviceType.CPU);
            string loaded = File.ReadLines("/proc/self/maps").Select(l => l.IndexOf('/') is int slash and >= 0 ? l.Substring(slash).Trim() : "")
                .First(path => Path.GetFileName(path) == Library);
            Assert.AreEqual(Path.Combine(AppContext.BaseDirectory, Library), loaded, "the process loaded the build output's copy");
            return loaded;
        }
    }

    private static string PackageFolder
    {
        get
        {
            string root = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } set
                ? set
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            return Path.Combine(root, "torchsharp", "0.107.0");
        }
    }

    private static string CacheCopy => Path.Combine(PackageFolder, "runtimes", "linux-x64", "native", Library);

    /// <summary>The library as TorchSharp's .nupkg ships it: the reference no file on disk can have altered.</summary>
    private static byte[] PackagedOriginal()
    {
        using ZipArchive package = ZipFile.OpenRead(Path.Combine(PackageFolder, "torchsharp.0.107.0.nupkg"));
        using Stream entry = package.GetEntry("runtimes/linux-x64/native/" + Library)!.Open();
        using var bytes = new MemoryStream();
        entry.CopyTo(bytes);
        return bytes.ToArray();
    }

    /// <summary>Asserts that <paramref name="fixedCopy"/> is <paramref name="original"/> with one flag bit, VER_FLG_WEAK (0x2), set.</summary>
    private static void AssertOneWeakFlagSet(byte[] original, byte[] fixedCopy)
    {
        Assert.HasCount(original.Length, fixedCopy);
        int[] changed = Enumerable.Range(0, original.Length).Where(i => original[i] != fixedCopy[i]).ToArray();
        Assert.HasCount(1, changed);
        Assert.AreEqual(0x2, fixedCopy[changed[0]] & ~original[changed[0]]);
        Assert.AreEqual(0x2, original[changed[0]] ^ fixedCopy[changed[0]]);
    }

    private static string HostLibStdCxx =>
        ElfVersionFix.FindLoadedLibStdCxx() ?? throw new AssertFailedException("no libstdc++ is mapped into the test process");

    private static bool HostLacksVersion => ElfVersionFix.DefinesVersion(File.ReadAllBytes(HostLibStdCxx), ElfVersionFix.Version) == false;

    private static string TempDirectory()
    {
        string dir = Path.Combine(Path.GetTempPath(), "softround-elf-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    [TestMethod]
    public void HostLibStdCxx_VersionsAreRead()
    {
        // TorchSharp needs at least GCC 12's libstdc++ (3.4.30) anyway; whether 3.4.32 is there decides the fix.
        byte[] host = File.ReadAllBytes(HostLibStdCxx);
        Assert.IsTrue(ElfVersionFix.DefinesVersion(host, "GLIBCXX_3.4.30"));
        Assert.IsNotNull(ElfVersionFix.DefinesVersion(host, ElfVersionFix.Version));
        Assert.IsFalse(ElfVersionFix.DefinesVersion(host, "GLIBCXX_9.9.99"));
    }

    [TestMethod]
    public void BuildOutputCopy_IsWeakExactlyWhereTheHostNeedsIt_AndTheNuGetCacheCopyIsUntouched()
    {
        // This very process loaded the output copy: the tests that use TorchSharp run. On this project's machines
        // (Debian 12) the host lacks the version and the copy is fixed; on a newer host it is left as packaged.
        byte[] original = PackagedOriginal();
        if (HostLacksVersion) AssertOneWeakFlagSet(original, File.ReadAllBytes(OutputCopy));
        else CollectionAssert.AreEqual(original, File.ReadAllBytes(OutputCopy));
        CollectionAssert.AreEqual(original, File.ReadAllBytes(CacheCopy));
    }

    [TestMethod]
    public void Weaken_FlipsExactlyTheFlagBitOfThatEntry_AndIsIdempotent()
    {
        byte[] original = PackagedOriginal();
        byte[] fixedCopy = (byte[])original.Clone();
        Assert.AreEqual(ElfVersionFix.Outcome.Weakened, ElfVersionFix.Weaken(fixedCopy));
        AssertOneWeakFlagSet(original, fixedCopy);
        CollectionAssert.AreEqual(File.ReadAllBytes(OutputCopy), fixedCopy, "the build fixed its copy the same way");
        Assert.AreEqual(ElfVersionFix.Outcome.AlreadyWeak, ElfVersionFix.Weaken(fixedCopy));
    }

    [TestMethod]
    public void Weaken_LeavesFilesWithoutThatVersionOrNotElfAlone()
    {
        byte[] libstdcxx = File.ReadAllBytes(HostLibStdCxx);
        byte[] copy = (byte[])libstdcxx.Clone();
        Assert.AreEqual(ElfVersionFix.Outcome.VersionNotNeeded, ElfVersionFix.Weaken(copy));
        CollectionAssert.AreEqual(libstdcxx, copy);

        byte[] text = Encoding.ASCII.GetBytes("not an ELF file, just text that is long enough to have a header's worth of bytes");
        Assert.AreEqual(ElfVersionFix.Outcome.NotElf64, ElfVersionFix.Weaken(text));
        Assert.IsNull(ElfVersionFix.DefinesVersion(text, ElfVersionFix.Version));
    }

    [TestMethod]
    public void Task_FixesACopy_BreaksItsHardLink_AndKeepsItsTimeStamp()
    {
        string dir = TempDirectory();
        try
        {
            string pristine = Path.Combine(dir, "cache.so"), output = Path.Combine(dir, Library);
            byte[] original = PackagedOriginal();
            File.WriteAllBytes(pristine, original);
            Assert.AreEqual(0, link(pristine, output), "link(2) failed");
            DateTime stamp = new(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);
            File.SetLastWriteTimeUtc(output, stamp);

            // A libstdc++ that lacks GLIBCXX_3.4.32: this host's, with such a definition (on newer hosts) renamed away.
            byte[] older = File.ReadAllBytes(HostLibStdCxx);
            Replace(older, ElfVersionFix.Version + "\0", "GLIBCXX_3.4.99\0", required: false);
            string host = Path.Combine(dir, "libstdc++.so.6");
            File.WriteAllBytes(host, older);

            var engine = new RecordingBuildEngine();
            var task = new SoftRoundWeakenGlibcxxMarker { BuildEngine = engine, Files = new ITaskItem[] { new TaskItem(output) }, LibStdCxx = host };
            Assert.IsTrue(task.Execute());

            AssertOneWeakFlagSet(original, File.ReadAllBytes(output));
            CollectionAssert.AreEqual(original, File.ReadAllBytes(pristine), "the hard-linked original must not change");
            Assert.AreEqual(stamp, File.GetLastWriteTimeUtc(output));
            Assert.IsEmpty(engine.Warnings);
            Assert.IsTrue(engine.Messages.Any(m => m.Contains("Weakened")));

            Assert.IsTrue(task.Execute(), "a second run finds it weak already");
            Assert.IsTrue(engine.Messages.Any(m => m.Contains("AlreadyWeak")));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [TestMethod]
    public void Task_OnAHostWhoseLibStdCxxDefinesTheVersion_TouchesNothing()
    {
        string dir = TempDirectory();
        try
        {
            // A libstdc++ that defines GLIBCXX_3.4.32: this host's, with its 3.4.30 definition renamed.
            byte[] newer = File.ReadAllBytes(HostLibStdCxx);
            Replace(newer, "GLIBCXX_3.4.30\0", ElfVersionFix.Version + "\0");
            string host = Path.Combine(dir, "libstdc++.so.6"), output = Path.Combine(dir, Library);
            File.WriteAllBytes(host, newer);
            Assert.IsTrue(ElfVersionFix.DefinesVersion(newer, ElfVersionFix.Version));
            File.WriteAllBytes(output, PackagedOriginal());
            byte[] before = File.ReadAllBytes(output);

            var task = new SoftRoundWeakenGlibcxxMarker
            {
                BuildEngine = new RecordingBuildEngine(),
                Files = new ITaskItem[] { new TaskItem(output) },
                LibStdCxx = host,
            };
            Assert.IsTrue(task.Execute());
            CollectionAssert.AreEqual(before, File.ReadAllBytes(output));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private static void Replace(byte[] bytes, string from, string to, bool required = true)
    {
        byte[] a = Encoding.ASCII.GetBytes(from), b = Encoding.ASCII.GetBytes(to);
        int replaced = 0;
        for (int i = 0; i + a.Length <= bytes.Length; i++)
        {
            if (bytes.AsSpan(i, a.Length).SequenceEqual(a))
            {
                b.CopyTo(bytes, i);
                replaced++;
            }
        }
        if (required) Assert.IsGreaterThan(0, replaced);
    }

    private sealed class RecordingBuildEngine : IBuildEngine
    {
        public List<string> Messages { get; } = new();
        public List<string> Warnings { get; } = new();
        public bool ContinueOnError => false;
        public int LineNumberOfTaskNode => 0;
        public int ColumnNumberOfTaskNode => 0;
        public string ProjectFileOfTaskNode => "test";
        public void LogErrorEvent(BuildErrorEventArgs e) => Warnings.Add("error: " + e.Message);
        public void LogWarningEvent(BuildWarningEventArgs e) => Warnings.Add(e.Message!);
        public void LogMessageEvent(BuildMessageEventArgs e) => Messages.Add(e.Message!);
        public void LogCustomEvent(CustomBuildEventArgs e) => Messages.Add(e.Message!);
        public bool BuildProjectFile(string projectFileName, string[] targetNames, IDictionary globalProperties, IDictionary targetOutputs) => false;
    }
}
