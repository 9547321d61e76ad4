using System;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Tests.Helpers;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Compression;

[TestClass]
public sealed class CheckerboardMaskedConv2dTests : WithoutOneDnn
{
    [TestMethod]
    [DataRow("A", 5)]
    [DataRow("B", 5)]
    [DataRow("A", 3)]
    public void Mask_SeesTheOtherColour_AndTheCentreOnlyForTypeB(string maskType, int kernelSize)
    {
        using var layer = new CheckerboardMaskedConv2d(2, 3, kernelSize, padding: kernelSize / 2, maskType: maskType);
        float[] mask = layer.mask.data<float>().ToArray();
        int c = kernelSize / 2;
        for (int o = 0; o < 3; o++)
        for (int i = 0; i < 2; i++)
        for (int r = 0; r < kernelSize; r++)
        for (int s = 0; s < kernelSize; s++)
        {
            float expected = r == c && s == c ? (maskType == "B" ? 1 : 0) : (r + s) % 2;
            Assert.AreEqual(expected, mask[((o * 2 + i) * kernelSize + r) * kernelSize + s], $"({o}, {i}, {r}, {s})");
        }
    }

    [TestMethod]
    public void Forward_IsTheConvolutionWithTheMaskedWeight_AndItsFloat64FormAgrees()
    {
        using var scope = NewDisposeScope();
        manual_seed(14);
        var layer = new CheckerboardMaskedConv2d(3, 4);
        Tensor x = randn(2, 3, 6, 6);
        Tensor expected = nn.functional.conv2d(x, layer.weight * layer.mask, layer.bias, padding: new long[] { 2, 2 });
        TensorAssert.Close(expected, layer.call(x), 1e-6, 1e-6);
        // An input only at squares of the centre's colour is not seen at all (type A): the output is the bias.
        Tensor sameColour = zeros(1, 3, 5, 5);
        sameColour[0, .., 2, 2] = ones(3);
        sameColour[0, .., 0, 0] = ones(3);
        Tensor y = layer.call(sameColour);
        TensorAssert.Close(layer.bias.detach(), y[0, .., 2, 2], 1e-6, 1e-6);
    }

    [TestMethod]
    public void BadArguments_AreRefused_WithTheLayersName()
    {
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new CheckerboardMaskedConv2d(2, 2, maskType: "C"));
        Assert.AreEqual("maskType", e.ParamName);
        StringAssert.StartsWith(e.Message, "CheckerboardMaskedConv2d: maskType must be \"A\" or \"B\"; got \"C\".");
        StringAssert.StartsWith(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new CheckerboardMaskedConv2d(2, 2, kernelSize: 4)).Message, "CheckerboardMaskedConv2d: kernelSize must be odd");
    }
}
