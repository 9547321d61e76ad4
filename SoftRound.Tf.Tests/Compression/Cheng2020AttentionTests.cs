using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Entropy;
using SoftRound.Tf.Tests.Helpers;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Compression;

/// <summary>CompressAI's parity, keys, training, round trips and bad input (<see cref="PortedModelTests"/>).</summary>
[TestClass]
public sealed class Cheng2020AttentionTests : PortedModelTests
{
    protected override string Fixture => "cheng2020-attn";

    protected override int Latents => 2;

    /// <summary>The model with N channels; Cheng et al.'s models have M = N, so <paramref name="m"/> is not used.</summary>
    protected override CompressionModel Make(int n, int m, QuantizationMode mode = QuantizationMode.UniformNoise) => new Cheng2020Attention(n, mode);

    /// <summary>The coded ŷ, which compress gives: the forward pass feeds the context model round(y), as CompressAI does.</summary>
    protected override (CompressedData data, Tensor yHat) Compress(CompressionModel model, Tensor x, RansStreamLayout layout) =>
        (((JointAutoregressiveHierarchicalPriors)model).compress(x, layout, out Tensor yHat), yHat);

    [TestMethod]
    public void AttentionBlocks_StandWhereCompressAIPutsThem()
    {
        using var model = new Cheng2020Attention(4);
        string[] attention = model.named_modules().Where(m => m.module is AttentionBlock).Select(m => m.name).ToArray();
        CollectionAssert.AreEqual(new[] { "g_a.3", "g_a.8", "g_s.0", "g_s.5" }, attention);
    }

    [TestMethod]
    public void Construction_RefusesNBelowTwo_NamingTheModel()
    {
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new Cheng2020Attention(1));
        Assert.AreEqual("N", e.ParamName);
        StringAssert.StartsWith(e.Message, "Cheng2020Attention: N must be at least 2 (its attention blocks work on N/2 channels); got 1.");
        StringAssert.StartsWith(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new Cheng2020Attention(0)).Message, "Cheng2020Attention: N must be at least 1; got 0.");
    }
}
