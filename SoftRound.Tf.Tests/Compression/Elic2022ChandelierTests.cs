using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Tests.Helpers;

namespace SoftRound.Tf.Tests.Compression;

/// <summary>CompressAI's parity, keys, training, round trips and bad input, and the groups' arguments (<see cref="ElicModelTests"/>).</summary>
[TestClass]
public sealed class Elic2022ChandelierTests : ElicModelTests
{
    protected override string Fixture => "elic2022-chandelier";

    /// <summary>Four groups (2, 2, 2, 2 at M = 8), so that the last group's channel context sees the first and the latest group, not all three before it.</summary>
    protected override int[] Groups(int m) => new[] { m / 4, m / 4, m / 4, m - 3 * (m / 4) };

    protected override CompressionModel Build(int n, int m, int[]? groups, QuantizationMode mode = QuantizationMode.UniformNoise, int[]? widths = null) =>
        new Elic2022Chandelier(n, m, groups, mode, channelContextWidths: widths);
}
