using System;
using System.IO;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Entropy;
using SoftRound.Tf.Tests.Helpers;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Compression;

/// <summary>CompressAI's parity, keys, training, round trips and bad input (<see cref="PortedModelTests"/>).</summary>
[TestClass]
public sealed class JointAutoregressiveHierarchicalPriorsTests : PortedModelTests
{
    protected override string Fixture => "mbt2018";

    protected override int Latents => 2;

    /// <summary>The coded ŷ, which compress gives: the forward pass feeds the context model round(y), as CompressAI does.</summary>
    protected override (CompressedData data, Tensor yHat) Compress(CompressionModel model, Tensor x, RansStreamLayout layout) =>
        (((JointAutoregressiveHierarchicalPriors)model).compress(x, layout, out Tensor yHat), yHat);

    [TestMethod]
    public void Decompress_ChecksTheConditionalsTables_AndWhereTheStreamEnds()
    {
        using var scope = NewDisposeScope();
        manual_seed(6);
        var model = new JointAutoregressiveHierarchicalPriors(4, 6);
        model.update(force: true);
        model.eval();
        Tensor x = CompressionModelChecks.Images(1, 64, 2);
        CompressedData data = model.compress(x);
        // Four bytes more at the end of ŷ's stream: every symbol decodes, but the stream does not end with them.
        byte[][][] longer = { new[] { data.strings[0][0].Concat(new byte[4]).ToArray() }, data.strings[1] };
        StringAssert.StartsWith(Assert.ThrowsExactly<InvalidDataException>(() => model.decompress_latents(data with { strings = longer })).Message, "RansDecoder.finish: ");
        // The bottleneck has its tables, the conditional none: the model's member is named.
        model.GaussianConditional.LoadTables(null);
        StringAssert.StartsWith(Assert.ThrowsExactly<InvalidOperationException>(() => model.decompress_latents(data)).Message,
            "JointAutoregressiveHierarchicalPriors.decompress_latents: there are no coding tables yet; call update() first.");
        StringAssert.StartsWith(Assert.ThrowsExactly<InvalidOperationException>(() => model.compress(x)).Message,
            "JointAutoregressiveHierarchicalPriors.compress: there are no coding tables yet; call update() first.");
    }

    protected override CompressionModel Make(int n, int m, QuantizationMode mode = QuantizationMode.UniformNoise) => new JointAutoregressiveHierarchicalPriors(n, m, mode);
}
