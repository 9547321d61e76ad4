using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Entropy;
using SoftRound.Tf.Tests.Helpers;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Compression;

/// <summary>CompressAI's parity, keys, training, round trips and bad input (<see cref="PortedModelTests"/>), and the groups' arguments.</summary>
[TestClass]
public sealed class Elic2022ChandelierTests : PortedModelTests
{
    protected override string Fixture => "elic2022-chandelier";

    /// <summary>The fixture's model: N = 8, M = 8 in groups 2, 2, 4, its channel context 16 and 8 channels wide.</summary>
    protected override (int n, int m) FixtureSize => (8, 8);

    protected override int Latents => 7;

    protected override bool ForwardUsesMeans => true;

    // The coder's means are computed in float64, the eval forward's in float32: the same symbols, ŷ a few ulps apart.
    protected override double CodedTolerance => 1e-6;

    /// <summary>The model with groups M/4, M/4 and the rest, and a channel context 16 and 8 channels wide.</summary>
    protected override CompressionModel Make(int n, int m, QuantizationMode mode = QuantizationMode.UniformNoise) =>
        new Elic2022Chandelier(n, m, new[] { m / 4, m / 4, m - 2 * (m / 4) }, mode, channelContextWidths: new[] { 16, 8 });

    [TestMethod]
    public void Groups_AndWidths_AreChecked_NamingTheModel()
    {
        StringAssert.StartsWith(Assert.ThrowsExactly<ArgumentException>(() => new Elic2022Chandelier(4, 8, new[] { 2, 2, 2 })).Message,
            "Elic2022Chandelier: groups (2, 2, 2) must be counts ≥ 1 summing to M = 8.");
        StringAssert.StartsWith(Assert.ThrowsExactly<ArgumentException>(() => new Elic2022Chandelier(4, 8, new[] { 8, 0 })).Message,
            "Elic2022Chandelier: groups (8, 0) must be counts ≥ 1 summing to M = 8.");
        var e = Assert.ThrowsExactly<ArgumentException>(() => new Elic2022Chandelier(4, 8));
        Assert.AreEqual("groups", e.ParamName);
        StringAssert.StartsWith(e.Message, "Elic2022Chandelier: the default groups 16, 16, 32, 64, M − 128 need M > 128; got M = 8: give the groups.");
        Assert.AreEqual("channelContextWidths", Assert.ThrowsExactly<ArgumentException>(() => new Elic2022Chandelier(4, 8, new[] { 4, 4 }, channelContextWidths: new[] { 3 })).ParamName);
        Assert.AreEqual("channelContextWidths", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new Elic2022Chandelier(4, 8, new[] { 4, 4 }, channelContextWidths: new[] { 3, 0 })).ParamName);
        StringAssert.StartsWith(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new Elic2022Chandelier(1, 8, new[] { 4, 4 })).Message, "Elic2022Chandelier: N must be at least 2; got 1.");
    }

    [TestMethod]
    public void DefaultGroups_AreCompressAIs_AndEachGroupCodesTwoStreams()
    {
        using var model = new Elic2022Chandelier(4, 136, channelContextWidths: new[] { 4, 4 });
        string[] keys = model.state_dict().Keys.ToArray();
        long[] widths = Enumerable.Range(0, 5).Select(k => model.state_dict()[$"latent_codec.y.latent_codec.y{k}.context_prediction.weight"].shape[1]).ToArray();
        CollectionAssert.AreEqual(new long[] { 16, 16, 32, 64, 8 }, widths);
        Assert.IsFalse(keys.Any(k => k.StartsWith("latent_codec.y.channel_context.y0.")), "group 0 has no channel context");
        Assert.IsTrue(keys.Contains("latent_codec.y.channel_context.y4.0.weight"));
    }
}
