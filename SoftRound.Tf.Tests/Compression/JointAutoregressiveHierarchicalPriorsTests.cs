using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Tests.Helpers;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Compression;

[TestClass]
public sealed class JointAutoregressiveHierarchicalPriorsTests
{
    private const string Fixture = "mbt2018";

    [TestMethod]
    public void ForwardAndStreams_MatchCompressAI_OnItsCheckpoint()
    {
        using var scope = NewDisposeScope();
        var model = new JointAutoregressiveHierarchicalPriors(CompressAIFixtures.N, CompressAIFixtures.M);
        var io = CompressAIFixtures.AssertForwardParity(model, Fixture);
        CompressAIFixtures.AssertStreamParity(model, io);
    }

    [TestMethod]
    public void StateDict_HasCompressAIsKeys() =>
        CompressionModelChecks.AssertKeysAreCompressAIs(new JointAutoregressiveHierarchicalPriors(CompressAIFixtures.N, CompressAIFixtures.M), Fixture + ".pt");

    [TestMethod]
    public void Trains_WithEveryQuantizer() => CompressionModelChecks.AssertTrains(mode => new JointAutoregressiveHierarchicalPriors(4, 6, mode));

    [TestMethod]
    public void CompressDecompress_GiveTheCodedLatentsBitForBit()
    {
        manual_seed(3);
        var model = new JointAutoregressiveHierarchicalPriors(4, 6);
        CompressionModelChecks.AssertRoundTrip(model, (x, layout) => (model.compress(x, layout, out Tensor yHat), yHat));
    }

    [TestMethod]
    public void BadInput_IsRefused_WithTheMembersName()
    {
        manual_seed(4);
        CompressionModelChecks.AssertRefusesBadInput(new JointAutoregressiveHierarchicalPriors(4, 6), 2);
    }
}
