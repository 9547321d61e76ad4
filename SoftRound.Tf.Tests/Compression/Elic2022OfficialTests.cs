using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Tests.Helpers;

namespace SoftRound.Tf.Tests.Compression;

/// <summary>CompressAI's parity, keys, training, round trips and bad input, and the groups' arguments (<see cref="ElicModelTests"/>).</summary>
[TestClass]
public sealed class Elic2022OfficialTests : ElicModelTests
{
    protected override string Fixture => "elic2022-official";

    protected override CompressionModel Build(int n, int m, int[]? groups, QuantizationMode mode = QuantizationMode.UniformNoise, int[]? widths = null) =>
        new Elic2022Official(n, m, groups, mode, channelContextWidths: widths);
}
