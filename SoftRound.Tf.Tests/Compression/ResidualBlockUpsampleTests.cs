using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Compression;

[TestClass]
public sealed class ResidualBlockUpsampleTests : WithoutOneDnn
{
    [TestMethod]
    [DataRow(4, 3, 2)]
    [DataRow(3, 3, 3)]
    [DataRow(2, 5, 1)]
    public void Forward_IsSubpixelConvolutionsThenIGDN_PlusTheUpsampledInput(int inChannels, int outChannels, int factor)
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        var block = new ResidualBlockUpsample(inChannels, outChannels, factor);
        block.to(ScalarType.Float64);
        BlockChecks.MoveGdnParameters(block);
        var p = BlockChecks.Parameters(block);
        CollectionAssert.AreEquivalent(
            new[] { "subpel_conv.0.weight", "subpel_conv.0.bias", "conv.weight", "conv.bias", "igdn.beta", "igdn.gamma", "upsample.0.weight", "upsample.0.bias" },
            p.Keys.ToArray());
        Tensor x = randn(new long[] { 2, inChannels, 3, 4 }, ScalarType.Float64);
        Tensor h = nn.functional.leaky_relu(BlockChecks.SubpelConv3x3(p, "subpel_conv", x, factor), 0.01);
        Tensor expected = BlockChecks.Gdn(p, "igdn", BlockChecks.Conv3x3(p, "conv", h), inverse: true) + BlockChecks.SubpelConv3x3(p, "upsample", x, factor);
        Tensor y = block.call(x);
        CollectionAssert.AreEqual(new long[] { 2, outChannels, 3 * factor, 4 * factor }, y.shape);
        TensorAssert.Close(expected, y, 1e-10, 1e-12);
    }

    [TestMethod]
    public void LeavesItsInput_HasFiniteDifferenceGradients_AndLeaksNothing()
    {
        manual_seed(6);
        BlockChecks.AssertLeavesInputAndGradients(new ResidualBlockUpsample(3, 2), randn(new long[] { 1, 3, 3, 3 }, ScalarType.Float64));
    }

    [TestMethod]
    public void BadInput_AndBadArguments_AreRefused()
    {
        BlockChecks.AssertRefusesBadInput(new ResidualBlockUpsample(3, 4), nameof(ResidualBlockUpsample), 3);
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ResidualBlockUpsample(3, 4, 0));
        Assert.AreEqual("upsample", e.ParamName);
        StringAssert.StartsWith(e.Message, "ResidualBlockUpsample: upsample must be at least 1; got 0.");
        Assert.AreEqual("outChannels", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ResidualBlockUpsample(3, 0)).ParamName);
    }
}
