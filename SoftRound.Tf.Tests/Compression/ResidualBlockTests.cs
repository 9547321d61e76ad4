using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Compression;

[TestClass]
public sealed class ResidualBlockTests : WithoutOneDnn
{
    [TestMethod]
    [DataRow(4, 4)]
    [DataRow(3, 5)]
    public void Forward_IsTwoConvolutionsWithLeakyReLUs_PlusTheSkip(int inChannels, int outChannels)
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        var block = new ResidualBlock(inChannels, outChannels);
        block.to(ScalarType.Float64);
        var p = BlockChecks.Parameters(block);
        string[] keys = { "conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias" };
        CollectionAssert.AreEquivalent(inChannels == outChannels ? keys : keys.Concat(new[] { "skip.weight", "skip.bias" }).ToArray(), block.state_dict().Keys.ToArray());
        Tensor x = randn(new long[] { 2, inChannels, 6, 7 }, ScalarType.Float64);
        Tensor h = nn.functional.leaky_relu(BlockChecks.Conv3x3(p, "conv1", x), 0.01);
        h = nn.functional.leaky_relu(BlockChecks.Conv3x3(p, "conv2", h), 0.01);
        Tensor expected = h + (inChannels == outChannels ? x : BlockChecks.Conv1x1(p, "skip", x));
        TensorAssert.Close(expected, block.call(x), 1e-12, 1e-12);
    }

    [TestMethod]
    public void LeavesItsInput_HasFiniteDifferenceGradients_AndLeaksNothing()
    {
        manual_seed(2);
        BlockChecks.AssertLeavesInputAndGradients(new ResidualBlock(3, 3), randn(new long[] { 1, 3, 4, 4 }, ScalarType.Float64));
    }

    [TestMethod]
    public void BadInput_AndBadChannels_AreRefused()
    {
        BlockChecks.AssertRefusesBadInput(new ResidualBlock(3, 4), nameof(ResidualBlock), 3);
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ResidualBlock(0, 4));
        Assert.AreEqual("inChannels", e.ParamName);
        StringAssert.StartsWith(e.Message, "ResidualBlock: inChannels must be at least 1; got 0.");
        e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ResidualBlock(4, 0));
        Assert.AreEqual("outChannels", e.ParamName);
        StringAssert.StartsWith(e.Message, "ResidualBlock: outChannels must be at least 1; got 0.");
    }
}
