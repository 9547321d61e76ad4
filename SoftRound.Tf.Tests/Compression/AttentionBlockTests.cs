using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Compression;

[TestClass]
public sealed class AttentionBlockTests : WithoutOneDnn
{
    /// <summary>A residual unit from the parameters under <paramref name="key"/>: relu(conv1x1(relu(conv3x3(relu(conv1x1(x))))) + x).</summary>
    private static Tensor Unit(Dictionary<string, Tensor> p, string key, Tensor x)
    {
        Tensor h = BlockChecks.Conv1x1(p, key + ".conv.0", x).relu();
        h = BlockChecks.Conv3x3(p, key + ".conv.2", h).relu();
        return (BlockChecks.Conv1x1(p, key + ".conv.4", h) + x).relu();
    }

    [TestMethod]
    [DataRow(4)]
    [DataRow(5)]
    public void Forward_IsTheTrunkTimesTheSigmoidOfTheMask_PlusTheInput(int n)
    {
        using var scope = NewDisposeScope();
        manual_seed(7);
        var block = new AttentionBlock(n);
        block.to(ScalarType.Float64);
        var p = BlockChecks.Parameters(block);
        Assert.AreEqual(6 * 6 + 2, p.Count, string.Join(", ", p.Keys));
        CollectionAssert.AreEqual(new long[] { n / 2, n, 1, 1 }, p["conv_a.0.conv.0.weight"].shape);
        Tensor x = randn(new long[] { 2, n, 5, 6 }, ScalarType.Float64);
        Tensor a = x, b = x;
        for (int i = 0; i < 3; i++)
        {
            a = Unit(p, $"conv_a.{i}", a);
            b = Unit(p, $"conv_b.{i}", b);
        }
        b = BlockChecks.Conv1x1(p, "conv_b.3", b);
        Tensor expected = a * b.sigmoid() + x;
        TensorAssert.Close(expected, block.call(x), 1e-12, 1e-12);
    }

    [TestMethod]
    public void LeavesItsInput_HasFiniteDifferenceGradients_AndLeaksNothing()
    {
        manual_seed(8);
        BlockChecks.AssertLeavesInputAndGradients(new AttentionBlock(4), randn(new long[] { 1, 4, 3, 3 }, ScalarType.Float64));
    }

    [TestMethod]
    public void BadInput_AndNBelowTwo_AreRefused()
    {
        BlockChecks.AssertRefusesBadInput(new AttentionBlock(4), nameof(AttentionBlock), 4);
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new AttentionBlock(1));
        Assert.AreEqual("N", e.ParamName);
        StringAssert.StartsWith(e.Message, "AttentionBlock: N must be at least 2; got 1.");
    }
}
