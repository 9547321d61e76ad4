using System.Collections.Generic;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Entropy;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Helpers;

/// <summary>
/// The tests every CompressAI model port runs (with oneDNN off, <see cref="WithoutOneDnn"/>); a model's test class names
/// its fixture and how to build it.
/// </summary>
public abstract class PortedModelTests : WithoutOneDnn
{
    /// <summary>The fixture's name (CompressAI's registry name of the model).</summary>
    protected abstract string Fixture { get; }

    /// <summary>The number of latents with streams: 1 (factorized) or 2.</summary>
    protected abstract int Latents { get; }

    /// <summary>Whether the eval forward's ŷ is round(y − μ) + μ.</summary>
    protected virtual bool ForwardUsesMeans => false;

    /// <summary>N and M of the model CompressAI's fixture holds.</summary>
    protected virtual (int n, int m) FixtureSize => (CompressAIFixtures.N, CompressAIFixtures.M);

    /// <summary>The model with N, M and the training quantizer.</summary>
    protected abstract CompressionModel Make(int n, int m, QuantizationMode mode = QuantizationMode.UniformNoise);

    /// <summary>
    /// How far the decoded ŷ may be from <see cref="Compress"/>'s, relative: 0 (bit for bit) unless the model's coding
    /// path computes means in float64 while the ŷ given is the float32 eval forward's.
    /// </summary>
    protected virtual double CodedTolerance => 0;

    /// <summary>The streams of x and the ŷ they code (by default the eval forward's).</summary>
    protected virtual (CompressedData data, Tensor yHat) Compress(CompressionModel model, Tensor x, RansStreamLayout layout)
    {
        using (no_grad()) return (model.compress(x, layout), model.call(x).y_hat);
    }

    [TestMethod]
    public void ForwardAndStreams_MatchCompressAI_OnItsCheckpoint()
    {
        using var scope = NewDisposeScope();
        CompressionModel model = Make(FixtureSize.n, FixtureSize.m);
        var io = CompressAIFixtures.AssertForwardParity(model, Fixture, ForwardUsesMeans);
        CompressAIFixtures.AssertStreamParity(model, io);
    }

    [TestMethod]
    public void FromCompressAI_SizesTheModelAsItsCheckpoint_AndLoadsIt()
    {
        using var scope = NewDisposeScope();
        CompressionModel expected = Make(FixtureSize.n, FixtureSize.m);
        var from = typeof(CompressionModel).GetMethod(nameof(CompressionModel.from_compressai))!.MakeGenericMethod(expected.GetType());
        var model = (CompressionModel)from.Invoke(null, new object[] { CompressAIFixtures.Path($"{Fixture}.pt"), QuantizationMode.UniformNoise, 5.0 })!;
        Assert.AreEqual(expected.N, model.N);
        Assert.AreEqual(expected.M, model.M);
        var shapes = expected.state_dict().ToDictionary(e => e.Key, e => e.Value.shape);
        foreach ((string key, Tensor value) in model.state_dict().Where(e => e.Value.is_floating_point() && !e.Key.EndsWith("scale_table")))
        {
            CollectionAssert.AreEqual(shapes[key], value.shape, key);
        }
        model.eval();
        Dictionary<string, Tensor> io = CompressAIFixtures.Read($"{Fixture}.io.pt");
        using (no_grad()) TensorAssert.Close(io["x_hat"], model.call(io["x"]).x_hat, 1e-4, 1e-5);
    }

    [TestMethod]
    public void StateDict_HasCompressAIsKeys() => CompressionModelChecks.AssertKeysAreCompressAIs(Make(FixtureSize.n, FixtureSize.m), Fixture + ".pt");

    [TestMethod]
    public void Trains_WithEveryQuantizer() => CompressionModelChecks.AssertTrains(mode => Make(4, 6, mode));

    [TestMethod]
    public void CompressDecompress_GiveTheCodedLatentsBitForBit()
    {
        manual_seed(3);
        CompressionModel model = Make(4, 6);
        CompressionModelChecks.AssertRoundTrip(model, (x, layout) => Compress(model, x, layout), CodedTolerance);
    }

    [TestMethod]
    public void CorruptedStreams_DecodeToTheRightShape_OrThrowInvalidData()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        CompressionModel model = Make(4, 8);
        model.update(force: true);
        model.eval();
        CompressedData good;
        Tensor expected;
        using (no_grad())
        {
            good = model.compress(CompressionModelChecks.Images(1, 64, 2));
            expected = model.decompress_latents(good);
        }
        var random = new System.Random(6);
        int decoded = 0, refused = 0;
        for (int trial = 0; trial < 60; trial++)
        {
            byte[][][] strings = good.strings.Select(list => list.Select(b => b.ToArray()).ToArray()).ToArray();
            byte[] stream = strings[random.Next(strings.Length)][0];
            int list = System.Array.FindIndex(strings, l => ReferenceEquals(l[0], stream));
            if (stream.Length == 0) continue;
            switch (trial % 3)
            {
                case 0: stream[random.Next(stream.Length)] ^= (byte)(1 << random.Next(8)); break;
                case 1: strings[list][0] = stream[..random.Next(stream.Length)]; break;
                default: random.NextBytes(stream); break;
            }
            try
            {
                using Tensor yHat = model.decompress_latents(good with { strings = strings });
                CollectionAssert.AreEqual(expected.shape, yHat.shape);
                decoded++;
            }
            catch (System.IO.InvalidDataException)
            {
                refused++;
            }
        }
        Assert.IsTrue(refused > 0, $"no damaged stream was caught ({decoded} decoded)");
    }

    [TestMethod]
    public void BadInput_IsRefused_WithTheMembersName()
    {
        manual_seed(4);
        CompressionModelChecks.AssertRefusesBadInput(Make(4, 6), Latents);
    }
}
