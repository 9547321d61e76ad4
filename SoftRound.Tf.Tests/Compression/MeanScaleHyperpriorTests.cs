using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Tests.Helpers;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Compression;

[TestClass]
public sealed class MeanScaleHyperpriorTests
{
    private const string Fixture = "mbt2018-mean";

    [TestMethod]
    public void ForwardAndStreams_MatchCompressAI_OnItsCheckpoint()
    {
        using var scope = NewDisposeScope();
        var model = new MeanScaleHyperprior(CompressAIFixtures.N, CompressAIFixtures.M);
        var io = CompressAIFixtures.AssertForwardParity(model, Fixture, forwardUsesMeans: true);
        CompressAIFixtures.AssertStreamParity(model, io);
    }

    [TestMethod]
    public void StateDict_HasCompressAIsKeys() =>
        CompressionModelChecks.AssertKeysAreCompressAIs(new MeanScaleHyperprior(CompressAIFixtures.N, CompressAIFixtures.M), Fixture + ".pt");

    [TestMethod]
    public void Trains_WithEveryQuantizer() => CompressionModelChecks.AssertTrains(mode => new MeanScaleHyperprior(4, 6, mode));

    [TestMethod]
    public void CompressDecompress_GiveTheCodedLatentsBitForBit()
    {
        manual_seed(3);
        var model = new MeanScaleHyperprior(4, 6);
        CompressionModelChecks.AssertRoundTrip(model, (x, layout) =>
        {
            using (no_grad()) return (model.compress(x, layout), model.call(x).y_hat);
        });
    }

    [TestMethod]
    public void BadInput_IsRefused_WithTheMembersName()
    {
        manual_seed(4);
        CompressionModelChecks.AssertRefusesBadInput(new MeanScaleHyperprior(4, 6), 2);
    }
}
