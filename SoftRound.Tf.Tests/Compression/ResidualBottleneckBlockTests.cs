using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Compression;

[TestClass]
public sealed class ResidualBottleneckBlockTests : WithoutOneDnn
{
    [TestMethod]
    [DataRow(4, 4)]
    [DataRow(6, 4)]
    [DataRow(5, 9)]
    public void Forward_IsABottleneckOfHalfTheChannels_PlusTheSkip(int inChannels, int outChannels)
    {
        using var scope = NewDisposeScope();
        manual_seed(15);
        var block = new ResidualBottleneckBlock(inChannels, outChannels);
        block.to(ScalarType.Float64);
        var p = BlockChecks.Parameters(block);
        int middle = Math.Min(inChannels, outChannels) / 2;
        CollectionAssert.AreEqual(new long[] { middle, inChannels, 1, 1 }, p["conv1.weight"].shape);
        CollectionAssert.AreEqual(new long[] { middle, middle, 3, 3 }, p["conv2.weight"].shape);
        CollectionAssert.AreEqual(new long[] { outChannels, middle, 1, 1 }, p["conv3.weight"].shape);
        Assert.AreEqual(inChannels != outChannels, p.ContainsKey("skip.weight"));
        Tensor x = randn(new long[] { 2, inChannels, 5, 6 }, ScalarType.Float64);
        Tensor h = BlockChecks.Conv1x1(p, "conv1", x).relu();
        h = BlockChecks.Conv3x3(p, "conv2", h).relu();
        Tensor expected = BlockChecks.Conv1x1(p, "conv3", h) + (inChannels == outChannels ? x : BlockChecks.Conv1x1(p, "skip", x));
        TensorAssert.Close(expected, block.call(x), 1e-12, 1e-12);
    }

    [TestMethod]
    public void LeavesItsInput_HasFiniteDifferenceGradients_AndLeaksNothing()
    {
        manual_seed(16);
        BlockChecks.AssertLeavesInputAndGradients(new ResidualBottleneckBlock(4, 4), randn(new long[] { 1, 4, 3, 3 }, ScalarType.Float64));
    }

    [TestMethod]
    public void BadInput_AndChannelsBelowTwo_AreRefused()
    {
        BlockChecks.AssertRefusesBadInput(new ResidualBottleneckBlock(4, 6), nameof(ResidualBottleneckBlock), 4);
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ResidualBottleneckBlock(1, 4));
        Assert.AreEqual("inChannels", e.ParamName);
        StringAssert.StartsWith(e.Message, "ResidualBottleneckBlock: inChannels must be at least 2; got 1.");
        e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ResidualBottleneckBlock(4, 1));
        StringAssert.StartsWith(e.Message, "ResidualBottleneckBlock: outChannels must be at least 2; got 1.");
    }
}
