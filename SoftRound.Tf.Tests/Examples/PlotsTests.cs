using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Plots;
using SoftRound.Tf.Tests.Helpers;

namespace SoftRound.Tf.Tests.Examples;

/// <summary>The README's figures regenerate headless into a fresh folder as valid, non-empty PNGs.</summary>
[TestClass]
public sealed class PlotsTests
{
    private static readonly byte[] Signature = { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A };

    [TestMethod]
    public void Figures_RegenerateAsValidPngs()
    {
        string folder = Path.Combine(Path.GetTempPath(), "softround-plots-" + Guid.NewGuid().ToString("N"));
        try
        {
            var paths = OpPlots.RenderAll(folder);
            Assert.HasCount(10, paths);
            foreach (string path in paths)
            {
                byte[] png = File.ReadAllBytes(path);
                CollectionAssert.AreEqual(Signature, png.Take(8).ToArray(), path);
                Assert.AreEqual("IHDR", System.Text.Encoding.ASCII.GetString(png, 12, 4), path);
                Assert.AreEqual(720, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), path);
                Assert.AreEqual(450, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)), path);
                Assert.IsGreaterThan(10_000, png.Length, $"{path} is {png.Length} bytes: a plot with axes, curves and text is larger");
                Assert.AreEqual("IEND", System.Text.Encoding.ASCII.GetString(png, png.Length - 8, 4), path);
            }
            // The committed figures are what the code renders: same file names.
            string committed = Path.Combine(Repository.Root, "docs", "images");
            CollectionAssert.AreEquivalent(paths.Select(Path.GetFileName).ToArray(), Directory.GetFiles(committed, "*.png").Select(Path.GetFileName).ToArray());
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, true);
        }
    }
}
