using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Compression;

[TestClass]
public sealed class LayersTests : WithoutOneDnn
{
    [TestMethod]
    public void Conv3x3_KeepsTheSizeAtStrideOne_AndHalvesItRoundedUpAtTwo()
    {
        using var scope = NewDisposeScope();
        Tensor x = randn(1, 2, 5, 7);
        var one = Layers.conv3x3(2, 3);
        CollectionAssert.AreEqual(new long[] { 3, 2, 3, 3 }, one.weight!.shape);
        CollectionAssert.AreEqual(new long[] { 1, 3, 5, 7 }, one.call(x).shape);
        CollectionAssert.AreEqual(new long[] { 1, 3, 3, 4 }, Layers.conv3x3(2, 3, stride: 2).call(x).shape);
        var pointwise = Layers.conv1x1(2, 4);
        CollectionAssert.AreEqual(new long[] { 4, 2, 1, 1 }, pointwise.weight!.shape);
        TensorAssert.Close(nn.functional.conv2d(x, pointwise.weight, pointwise.bias), pointwise.call(x), 1e-6, 1e-6);
        CollectionAssert.AreEqual(new long[] { 1, 4, 3, 4 }, Layers.conv1x1(2, 4, stride: 2).call(x).shape);
    }

    [TestMethod]
    public void SubpelConv3x3_MovesEachGroupOfRSquaredChannels_ToAnRByRBlock()
    {
        using var scope = NewDisposeScope();
        manual_seed(9);
        var layer = Layers.subpel_conv3x3(2, 3, 2);
        var p = BlockChecks.Parameters(layer);
        CollectionAssert.AreEquivalent(new[] { "0.weight", "0.bias" }, p.Keys);
        CollectionAssert.AreEqual(new long[] { 12, 2, 3, 3 }, p["0.weight"].shape);
        Tensor x = randn(1, 2, 3, 4);
        Tensor y = layer.call(x), conv = BlockChecks.Conv3x3(p, "0", x);
        CollectionAssert.AreEqual(new long[] { 1, 3, 6, 8 }, y.shape);
        // Element by element: channel c·4 + i·2 + j at (h, w) is channel c at (2h + i, 2w + j).
        for (int c = 0; c < 3; c++)
        for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
        for (int h = 0; h < 3; h++)
        for (int w = 0; w < 4; w++)
        {
            Assert.AreEqual(conv[0, c * 4 + i * 2 + j, h, w].item<float>(), y[0, c, 2 * h + i, 2 * w + j].item<float>(), 1e-6);
        }
    }

    [TestMethod]
    public void RampChannels_AreTorchLinspaceFloored_ForManyEnds()
    {
        using var scope = NewDisposeScope();
        var r = new Random(17);
        for (int trial = 0; trial < 300; trial++)
        {
            long a = r.Next(1, 2000), b = r.Next(1, 2000);
            int layers = r.Next(1, 7);
            long[] expected = linspace(a, b, layers + 1).floor().to(ScalarType.Int64).data<long>().ToArray();
            CollectionAssert.AreEqual(expected, Layers.RampChannels(a, b, layers), $"{a} → {b} in {layers}");
        }
    }

    [TestMethod]
    public void SequentialChannelRamp_IsCompressAIs_ElicsParameterAggregationAmongThem()
    {
        using var scope = NewDisposeScope();
        // ELIC's group 1 of 16 channels with N = 192: 64 + 384 → 32, the inner counts raised to 384 (CompressAI gives
        // 1×1 convolutions 448 → 384 → 384 → 32 here).
        var ramp = Layers.sequential_channel_ramp(2 * 16 + 2 * 16 + 2 * 192, 2 * 16, minChannels: 2 * 192);
        var kinds = ramp.children().Select(m => m.GetType().Name).ToArray();
        CollectionAssert.AreEqual(new[] { "Conv2d", "ReLU", "Conv2d", "ReLU", "Conv2d" }, kinds);
        var weights = ramp.named_parameters().Where(q => q.name.EndsWith("weight")).Select(q => q.parameter.shape).ToArray();
        CollectionAssert.AreEqual(new long[] { 384, 448, 1, 1 }, weights[0]);
        CollectionAssert.AreEqual(new long[] { 384, 384, 1, 1 }, weights[1]);
        CollectionAssert.AreEqual(new long[] { 32, 384, 1, 1 }, weights[2]);
        // Without a minimum, the linear ramp itself: 448 → 309 → 170 → 32 (floor of 448, 309.33, 170.67, 32).
        weights = Layers.sequential_channel_ramp(448, 32).named_parameters().Where(q => q.name.EndsWith("weight")).Select(q => q.parameter.shape).ToArray();
        CollectionAssert.AreEqual(new long[] { 309, 448, 1, 1 }, weights[0]);
        CollectionAssert.AreEqual(new long[] { 170, 309, 1, 1 }, weights[1]);
        // Its own layers and activations, and the last activation kept when asked.
        var custom = Layers.sequential_channel_ramp(4, 2, layers: 2, makeLayer: (i, o) => Layers.conv3x3(i, o), makeActivation: () => nn.Tanh(), skipLastActivation: false);
        CollectionAssert.AreEqual(new[] { "Conv2d", "Tanh", "Conv2d", "Tanh" }, custom.children().Select(m => m.GetType().Name).ToArray());
        CollectionAssert.AreEqual(new long[] { 3, 4, 3, 3 }, custom.named_parameters().First().parameter.shape);
        StringAssert.StartsWith(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Layers.sequential_channel_ramp(4, 2, minChannels: -1)).Message,
            "Layers.sequential_channel_ramp: minChannels must be at least 0; got -1.");
        StringAssert.StartsWith(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Layers.sequential_channel_ramp(4, 2, layers: 0)).Message,
            "Layers.sequential_channel_ramp: layers must be at least 1; got 0.");
    }

    [TestMethod]
    public void BadArguments_AreRefused_WithTheBuildersName()
    {
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Layers.conv3x3(0, 2));
        Assert.AreEqual("inChannels", e.ParamName);
        StringAssert.StartsWith(e.Message, "Layers.conv3x3: inChannels must be at least 1; got 0.");
        e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Layers.conv1x1(2, 2, stride: 0));
        StringAssert.StartsWith(e.Message, "Layers.conv1x1: stride must be at least 1; got 0.");
        e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Layers.subpel_conv3x3(2, 2, r: 0));
        Assert.AreEqual("r", e.ParamName);
        StringAssert.StartsWith(e.Message, "Layers.subpel_conv3x3: r must be at least 1; got 0.");
        Assert.AreEqual("outChannels", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Layers.subpel_conv3x3(2, 0)).ParamName);
    }
}
