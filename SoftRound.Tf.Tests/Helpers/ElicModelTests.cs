using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Compression;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Helpers;

/// <summary>
/// The tests both ELIC models run besides <see cref="PortedModelTests"/>': their fixtures are N = 8, M = 8 in groups
/// (<see cref="Groups"/>) with a channel context 16 and 8 channels wide; the groups' and widths' arguments are checked.
/// </summary>
public abstract class ElicModelTests : PortedModelTests
{
    /// <summary>The model with the given groups and channel-context widths (null: the defaults).</summary>
    protected abstract CompressionModel Build(int n, int m, int[]? groups, QuantizationMode mode = QuantizationMode.UniformNoise, int[]? widths = null);

    protected override (int n, int m) FixtureSize => (8, 8);

    /// <summary>The fixture's groups for M = 8, and the tests' for other M: each group's two streams and ẑ's.</summary>
    protected virtual int[] Groups(int m) => new[] { m / 4, m / 4, m - 2 * (m / 4) };

    protected override int Latents => 2 * Groups(8).Length + 1;

    protected override bool ForwardUsesMeans => true;

    // The coder's means are computed in float64, the eval forward's in float32: the same symbols, ŷ a few ulps apart.
    protected override double CodedTolerance => 1e-6;

    /// <summary>The model with <see cref="Groups"/> and a channel context 16 and 8 channels wide.</summary>
    protected override CompressionModel Make(int n, int m, QuantizationMode mode = QuantizationMode.UniformNoise) =>
        Build(n, m, Groups(m), mode, new[] { 16, 8 });

    [TestMethod]
    public void Groups_AndWidths_AreChecked_NamingTheModel()
    {
        string name = Make(4, 8).GetName();
        StringAssert.StartsWith(Assert.ThrowsExactly<ArgumentException>(() => Build(4, 8, new[] { 2, 2, 2 })).Message, $"{name}: groups (2, 2, 2) must be counts ≥ 1 summing to M = 8.");
        StringAssert.StartsWith(Assert.ThrowsExactly<ArgumentException>(() => Build(4, 8, new[] { 8, 0 })).Message, $"{name}: groups (8, 0) must be counts ≥ 1 summing to M = 8.");
        var e = Assert.ThrowsExactly<ArgumentException>(() => Build(4, 8, null));
        Assert.AreEqual("groups", e.ParamName);
        StringAssert.StartsWith(e.Message, $"{name}: the default groups 16, 16, 32, 64, M − 128 need M > 128; got M = 8: give the groups.");
        var two = Assert.ThrowsExactly<ArgumentException>(() => Build(4, 8, new[] { 4, 4 }, widths: new[] { 3 }));
        Assert.AreEqual("channelContextWidths", two.ParamName);
        StringAssert.StartsWith(two.Message, $"{name}: channelContextWidths must hold two widths; got 1.");
        var w = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Build(4, 8, new[] { 4, 4 }, widths: new[] { 3, 0 }));
        Assert.AreEqual("channelContextWidths", w.ParamName);
        StringAssert.StartsWith(w.Message, $"{name}: the channel context's widths must be at least 1; got 3, 0.");
        // M = 128 exactly: the default's last group would be empty.
        StringAssert.StartsWith(Assert.ThrowsExactly<ArgumentException>(() => Build(4, 128, null)).Message, $"{name}: the default groups 16, 16, 32, 64, M − 128 need M > 128; got M = 128");
        StringAssert.StartsWith(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Build(1, 8, new[] { 4, 4 })).Message, $"{name}: N must be at least 2; got 1.");
        var small = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Build(4, 1, new[] { 1 }));
        Assert.AreEqual("m", small.ParamName);
        StringAssert.StartsWith(small.Message, $"{name}: M must be at least 2; got 1.");
    }

    [TestMethod]
    public void DefaultGroups_AreCompressAIs_AndGroupZeroHasNoChannelContext()
    {
        using var model = Build(4, 136, null, widths: new[] { 4, 4 });
        var state = model.state_dict();
        long[] widths = Enumerable.Range(0, 5).Select(k => state[$"latent_codec.y.latent_codec.y{k}.context_prediction.weight"].shape[1]).ToArray();
        CollectionAssert.AreEqual(new long[] { 16, 16, 32, 64, 8 }, widths);
        Assert.IsFalse(state.Keys.Any(k => k.StartsWith("latent_codec.y.channel_context.y0.")), "group 0 has no channel context");
        Assert.IsTrue(state.ContainsKey("latent_codec.y.channel_context.y4.0.weight"));
        // Five groups run: each channel context gets the groups its model's variant feeds it.
        using var scope = NewDisposeScope();
        CompressionOutput output = model.call(CompressionModelChecks.Images(1, 64, 3));
        CollectionAssert.AreEqual(new long[] { 1, 136, 4, 4 }, output.y_hat.shape);
    }
}
