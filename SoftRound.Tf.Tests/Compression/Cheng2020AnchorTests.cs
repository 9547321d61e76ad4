using System;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Entropy;
using SoftRound.Tf.Tests.Helpers;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Compression;

/// <summary>CompressAI's parity, keys, training, round trips and bad input (<see cref="PortedModelTests"/>).</summary>
[TestClass]
public sealed class Cheng2020AnchorTests : PortedModelTests
{
    protected override string Fixture => "cheng2020-anchor";

    protected override int Latents => 2;

    /// <summary>The model with N channels; Cheng et al.'s models have M = N, so <paramref name="m"/> is not used.</summary>
    protected override CompressionModel Make(int n, int m, QuantizationMode mode = QuantizationMode.UniformNoise) => new Cheng2020Anchor(n, mode);

    /// <summary>The coded ŷ, which compress gives: the forward pass feeds the context model round(y), as CompressAI does.</summary>
    protected override (CompressedData data, Tensor yHat) Compress(CompressionModel model, Tensor x, RansStreamLayout layout) =>
        (((JointAutoregressiveHierarchicalPriors)model).compress(x, layout, out Tensor yHat), yHat);

    [TestMethod]
    public void Shapes_AreMbt2018s_WithMEqualToN()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        var model = new Cheng2020Anchor(6);
        Assert.AreEqual(6, model.N);
        Assert.AreEqual(6, model.M);
        Assert.AreEqual(64, model.downsampling_factor);
        (Tensor y, Tensor z) = model.latents(rand(1, 3, 64, 128));
        CollectionAssert.AreEqual(new long[] { 1, 6, 4, 8 }, y.shape);
        CollectionAssert.AreEqual(new long[] { 1, 6, 1, 2 }, z.shape);
        CollectionAssert.AreEqual(new long[] { 1, 3, 64, 128 }, model.synthesis(y).shape);
    }

    [TestMethod]
    public void Construction_RefusesNBelowOne_NamingTheModel()
    {
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new Cheng2020Anchor(0));
        Assert.AreEqual("n", e.ParamName);
        StringAssert.StartsWith(e.Message, "Cheng2020Anchor: N must be at least 1; got 0.");
    }
}
