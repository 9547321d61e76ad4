using System;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Internals;

namespace SoftRound.Tf.Tests.Internals;

/// <summary>The C environment native libraries read: set, kept or replaced, read back, removed; not .NET's copy.</summary>
[TestClass]
public sealed class NativeEnvironmentTests
{
    private const string Member = nameof(NativeEnvironmentTests), Name = "SOFTROUND_TF_NATIVE_ENVIRONMENT_TEST";

    [TestMethod]
    public void Set_Get_Unset_RoundTrip_AndOverwriteFalseKeepsTheValueThere()
    {
        if (OperatingSystem.IsWindows()) Assert.Inconclusive("The C library's environment functions are Unix's.");
        try
        {
            Assert.IsNull(NativeEnvironment.get(Name, Member));
            Assert.IsTrue(NativeEnvironment.set(Name, "first", overwrite: false, Member));
            Assert.AreEqual("first", NativeEnvironment.get(Name, Member), "an unset variable is set even without overwrite");
            Assert.IsTrue(NativeEnvironment.set(Name, "second", overwrite: false, Member));
            Assert.AreEqual("first", NativeEnvironment.get(Name, Member), "without overwrite the value there stays");
            Assert.IsTrue(NativeEnvironment.set(Name, "é 3", overwrite: true, Member));
            Assert.AreEqual("é 3", NativeEnvironment.get(Name, Member), "replaced, in UTF-8");
            Assert.IsNull(Environment.GetEnvironmentVariable(Name), ".NET's own copy is not written");
            Assert.IsTrue(NativeEnvironment.unset(Name, Member));
            Assert.IsNull(NativeEnvironment.get(Name, Member));
        }
        finally
        {
            NativeEnvironment.unset(Name, Member);
        }
    }

    [TestMethod]
    public void Set_ANameTheCLibraryRefuses_ReturnsFalse_AndSetsNothing()
    {
        if (OperatingSystem.IsWindows()) Assert.Inconclusive("The C library's environment functions are Unix's.");
        // POSIX setenv refuses an empty name or one holding '='.
        Assert.IsFalse(NativeEnvironment.set("", "x", overwrite: true, Member));
        Assert.IsFalse(NativeEnvironment.set("A=B", "x", overwrite: true, Member));
        Assert.IsNull(NativeEnvironment.get("A", Member));
        Assert.IsFalse(NativeEnvironment.unset("A=B", Member));
    }
}
