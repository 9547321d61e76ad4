using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Compression;

[TestClass]
public sealed class ResidualBlockWithStrideTests : WithoutOneDnn
{
    [TestMethod]
    [DataRow(3, 5, 2)]
    [DataRow(4, 4, 1)]
    [DataRow(3, 5, 1)]
    [DataRow(4, 4, 3)]
    public void Forward_IsConvolutionsThenGDN_PlusTheStridedSkip(int inChannels, int outChannels, int stride)
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var block = new ResidualBlockWithStride(inChannels, outChannels, stride);
        block.to(ScalarType.Float64);
        BlockChecks.MoveGdnParameters(block);
        var p = BlockChecks.Parameters(block);
        bool skip = stride != 1 || inChannels != outChannels;
        Assert.AreEqual(skip, p.ContainsKey("skip.weight"));
        CollectionAssert.IsSubsetOf(new[] { "conv1.weight", "conv2.bias", "gdn.beta", "gdn.gamma" }, p.Keys.ToArray());
        Tensor x = randn(new long[] { 2, inChannels, 7, 8 }, ScalarType.Float64);
        Tensor h = nn.functional.leaky_relu(BlockChecks.Conv3x3(p, "conv1", x, stride), 0.01);
        h = BlockChecks.Conv3x3(p, "conv2", h);
        Tensor expected = BlockChecks.Gdn(p, "gdn", h, inverse: false) + (skip ? BlockChecks.Conv1x1(p, "skip", x, stride) : x);
        Tensor y = block.call(x);
        CollectionAssert.AreEqual(new long[] { 2, outChannels, (7 + stride - 1) / stride, (8 + stride - 1) / stride }, y.shape);
        TensorAssert.Close(expected, y, 1e-10, 1e-12);
    }

    [TestMethod]
    public void LeavesItsInput_HasFiniteDifferenceGradients_AndLeaksNothing()
    {
        manual_seed(4);
        BlockChecks.AssertLeavesInputAndGradients(new ResidualBlockWithStride(3, 3, 1), randn(new long[] { 1, 3, 4, 4 }, ScalarType.Float64));
    }

    [TestMethod]
    public void BadInput_AndBadArguments_AreRefused()
    {
        BlockChecks.AssertRefusesBadInput(new ResidualBlockWithStride(3, 4), nameof(ResidualBlockWithStride), 3);
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ResidualBlockWithStride(3, 4, 0));
        Assert.AreEqual("stride", e.ParamName);
        StringAssert.StartsWith(e.Message, "ResidualBlockWithStride: stride must be at least 1; got 0.");
        Assert.AreEqual("inChannels", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ResidualBlockWithStride(0, 4)).ParamName);
    }
}
