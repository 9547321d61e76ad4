using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Compression;

/// <summary>CompressAI's parity, keys, training, round trips and bad input (<see cref="PortedModelTests"/>).</summary>
[TestClass]
public sealed class FactorizedPriorReLUTests : PortedModelTests
{
    protected override string Fixture => "bmshj2018-factorized-relu";

    protected override int Latents => 1;

    protected override CompressionModel Make(int n, int m, QuantizationMode mode = QuantizationMode.UniformNoise) => new FactorizedPriorReLU(n, m, mode);

    [TestMethod]
    public void Transforms_HaveReLUs_WhereFactorizedPriorHasGDN()
    {
        using var model = new FactorizedPriorReLU(4, 6);
        string[] kinds = model.named_modules().Where(m => m.name.Length == 5 && m.name[..4] is "g_a." or "g_s.").Select(m => m.module.GetType().Name).ToArray();
        CollectionAssert.AreEqual(new[] { "Conv2d", "ReLU", "Conv2d", "ReLU", "Conv2d", "ReLU", "Conv2d", "ConvTranspose2d", "ReLU", "ConvTranspose2d", "ReLU", "ConvTranspose2d", "ReLU", "ConvTranspose2d" }, kinds);
        Assert.AreEqual(nameof(FactorizedPriorReLU), model.GetName());
    }
}
