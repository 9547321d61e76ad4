// Compiled by MSBuild's RoslynCodeTaskFactory (see SoftRound.Tf.targets), not into the library.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

/// <summary>
/// Lets TorchSharp's libLibTorchSharp.so load on hosts whose libstdc++ predates GCC 13 (Debian 12, Ubuntu 22.04).
/// </summary>
/// <remarks>
/// libLibTorchSharp.so 0.107.0 requires the symbol version <c>GLIBCXX_3.4.32</c> only for
/// <c>std::ios_base_library_init</c>, a marker symbol that GCC 13 emits and that is never relocated. The task sets
/// VER_FLG_WEAK on that version's entry in <c>.gnu.version_r</c>, so the dynamic loader accepts a libstdc++ that
/// lacks the version. It does so only when the host's libstdc++ lacks the version, only when the marker is the sole
/// symbol that needs it, and only in the build output: it writes a new file, so a hard link into the NuGet cache is
/// broken rather than followed, and keeps the file's time stamp, so incremental copies leave the fixed file alone.
/// </remarks>
public sealed class SoftRoundWeakenGlibcxxMarker : Task
{
    /// <summary>The copies of libLibTorchSharp.so to fix.</summary>
    [Required]
    public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>The libstdc++ to test; empty means the one this process loaded.</summary>
    public string LibStdCxx { get; set; } = "";

    /// <summary>Runs the fix; logs what it did and never fails the build.</summary>
    public override bool Execute()
    {
        string host = LibStdCxx.Length > 0 ? LibStdCxx : ElfVersionFix.FindLoadedLibStdCxx() ?? "";
        if (host.Length == 0 || !File.Exists(host))
        {
            Log.LogMessage(MessageImportance.Low, "SoftRound.Tf: no libstdc++ found; libLibTorchSharp.so left as it is.");
            return true;
        }
        bool? defined = ElfVersionFix.DefinesVersion(File.ReadAllBytes(host), ElfVersionFix.Version);
        if (defined != false)
        {
            Log.LogMessage(MessageImportance.Low, $"SoftRound.Tf: {host} defines {ElfVersionFix.Version} (or could not be read); nothing to fix.");
            return true;
        }
        foreach (ITaskItem item in Files)
        {
            string path = item.ItemSpec;
            ElfVersionFix.Outcome outcome = ElfVersionFix.WeakenFile(path);
            MessageImportance importance = outcome == ElfVersionFix.Outcome.Weakened ? MessageImportance.Normal : MessageImportance.Low;
            Log.LogMessage(importance, $"SoftRound.Tf: {path}: {outcome} ({ElfVersionFix.Version} is missing from {host}).");
            if (outcome == ElfVersionFix.Outcome.OtherSymbolsNeedVersion)
            {
                Log.LogWarning($"SoftRound.Tf: {path} needs {ElfVersionFix.Version} for more than {ElfVersionFix.MarkerSymbol}; left as it is, so it may not load on this host.");
            }
        }
        return true;
    }
}

/// <summary>Reads and edits the symbol versions of a 64-bit little-endian ELF shared library.</summary>
public static class ElfVersionFix
{
    /// <summary>The libstdc++ version that GCC 13 introduced.</summary>
    public const string Version = "GLIBCXX_3.4.32";

    /// <summary>The only symbol libLibTorchSharp.so needs at <see cref="Version"/>.</summary>
    public const string MarkerSymbol = "_ZSt21ios_base_library_initv";

    private const uint ShtDynsym = 11, ShtGnuVerdef = 0x6ffffffd, ShtGnuVerneed = 0x6ffffffe, ShtGnuVersym = 0x6fffffff;
    private const ushort VerFlgWeak = 0x2;

    /// <summary>What <see cref="Weaken"/> found and did.</summary>
    public enum Outcome
    {
        /// <summary>The version entry was strong and is now weak.</summary>
        Weakened,
        /// <summary>The version entry was weak already.</summary>
        AlreadyWeak,
        /// <summary>The file needs no such version.</summary>
        VersionNotNeeded,
        /// <summary>Symbols other than the marker need the version, so weakening it would be unsafe.</summary>
        OtherSymbolsNeedVersion,
        /// <summary>Not a 64-bit little-endian ELF file with section headers.</summary>
        NotElf64,
    }

    /// <summary>The path of the libstdc++ mapped into this process, from /proc/self/maps, or null.</summary>
    public static string? FindLoadedLibStdCxx()
    {
        const string maps = "/proc/self/maps";
        if (!File.Exists(maps)) return null;
        foreach (string line in File.ReadLines(maps))
        {
            int slash = line.IndexOf('/');
            if (slash >= 0 && Path.GetFileName(line.Substring(slash)).StartsWith("libstdc++.so", StringComparison.Ordinal))
            {
                return line.Substring(slash).Trim();
            }
        }
        return null;
    }

    /// <summary>Whether the ELF image defines <paramref name="version"/> in .gnu.version_d; null if it cannot be read.</summary>
    public static bool? DefinesVersion(byte[] elf, string version)
    {
        Section[]? sections = ReadSections(elf);
        if (sections == null) return null;
        foreach (Section s in sections)
        {
            if (s.Type != ShtGnuVerdef) continue;
            Section strings = sections[s.Link];
            long at = s.Offset;
            for (uint i = 0; i < s.Info; i++)
            {
                uint aux = U32(elf, at + 12), next = U32(elf, at + 16);
                if (CString(elf, strings.Offset + U32(elf, at + aux)) == version) return true;
                if (next == 0) break;
                at += next;
            }
            return false;
        }
        return null;
    }

    /// <summary>Sets VER_FLG_WEAK on the needed entry <see cref="Version"/> of <paramref name="elf"/>, in place.</summary>
    public static Outcome Weaken(byte[] elf)
    {
        Section[]? sections = ReadSections(elf);
        if (sections == null) return Outcome.NotElf64;
        foreach (Section s in sections)
        {
            if (s.Type != ShtGnuVerneed) continue;
            Section strings = sections[s.Link];
            long need = s.Offset;
            for (uint i = 0; i < s.Info; i++)
            {
                long aux = need + U32(elf, need + 8);
                for (int j = 0; j < U16(elf, need + 2); j++)
                {
                    if (CString(elf, strings.Offset + U32(elf, aux + 8)) == Version)
                    {
                        if ((U16(elf, aux + 4) & VerFlgWeak) != 0) return Outcome.AlreadyWeak;
                        if (!OnlyMarkerUses(elf, sections, U16(elf, aux + 6))) return Outcome.OtherSymbolsNeedVersion;
                        ushort flags = (ushort)(U16(elf, aux + 4) | VerFlgWeak);
                        elf[aux + 4] = (byte)flags;
                        elf[aux + 5] = (byte)(flags >> 8);
                        return Outcome.Weakened;
                    }
                    aux += U32(elf, aux + 12);
                }
                need += U32(elf, need + 12);
            }
        }
        return Outcome.VersionNotNeeded;
    }

    /// <summary>
    /// Applies <see cref="Weaken"/> to a file. A changed file is written anew beside the old one and moved over it, so a
    /// hard link is broken, not followed; its last-write time is kept.
    /// </summary>
    public static Outcome WeakenFile(string path)
    {
        byte[] elf = File.ReadAllBytes(path);
        Outcome outcome = Weaken(elf);
        if (outcome != Outcome.Weakened) return outcome;
        DateTime stamp = File.GetLastWriteTimeUtc(path);
        string temp = path + ".softround-tmp";
        File.WriteAllBytes(temp, elf);
        File.SetLastWriteTimeUtc(temp, stamp);
        File.Delete(path);
        File.Move(temp, path);
        return outcome;
    }

    private static bool OnlyMarkerUses(byte[] elf, Section[] sections, ushort versionIndex)
    {
        Section? versym = null, dynsym = null;
        foreach (Section s in sections)
        {
            if (s.Type == ShtGnuVersym) versym = s;
            if (s.Type == ShtDynsym) dynsym = s;
        }
        if (versym == null || dynsym == null) return false;
        Section strings = sections[dynsym.Link];
        long count = dynsym.Size / 24;
        for (long i = 0; i < count; i++)
        {
            if ((U16(elf, versym.Offset + 2 * i) & 0x7fff) != versionIndex) continue;
            if (CString(elf, strings.Offset + U32(elf, dynsym.Offset + 24 * i)) != MarkerSymbol) return false;
        }
        return true;
    }

    private sealed class Section
    {
        public uint Type;
        public long Offset, Size;
        public uint Link, Info;
    }

    private static Section[]? ReadSections(byte[] elf)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F') return null;
        if (elf[4] != 2 || elf[5] != 1) return null;
        long shoff = (long)U64(elf, 0x28);
        int shentsize = U16(elf, 0x3a), shnum = U16(elf, 0x3c);
        if (shoff <= 0 || shentsize < 64 || shnum == 0 || shoff + (long)shentsize * shnum > elf.Length) return null;
        var sections = new Section[shnum];
        for (int i = 0; i < shnum; i++)
        {
            long h = shoff + (long)i * shentsize;
            sections[i] = new Section
            {
                Type = U32(elf, h + 4),
                Offset = (long)U64(elf, h + 24),
                Size = (long)U64(elf, h + 32),
                Link = U32(elf, h + 40),
                Info = U32(elf, h + 44),
            };
            if (sections[i].Offset + sections[i].Size > elf.Length && sections[i].Type != 8) return null;
        }
        foreach (Section s in sections)
        {
            if (s.Link >= shnum) return null;
        }
        return sections;
    }

    private static ushort U16(byte[] b, long at) => (ushort)(b[at] | b[at + 1] << 8);

    private static uint U32(byte[] b, long at) => (uint)(b[at] | b[at + 1] << 8 | b[at + 2] << 16 | b[at + 3] << 24);

    private static ulong U64(byte[] b, long at) => U32(b, at) | (ulong)U32(b, at + 4) << 32;

    private static string CString(byte[] b, long at)
    {
        long end = at;
        while (end < b.Length && b[end] != 0) end++;
        return Encoding.ASCII.GetString(b, (int)at, (int)(end - at));
    }
}
