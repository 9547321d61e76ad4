using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Tests.Helpers;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Compression;

[TestClass]
public sealed class MaskedConv2dTests : WithoutOneDnn
{
    [TestMethod]
    public void Mask_IsPixelCNNs_ForTypesAAndB()
    {
        using var scope = NewDisposeScope();
        // 5×5: rows 0–1 open, row 2 open left of the centre (and at it for B), rows 3–4 closed.
        float[] a =
        {
            1, 1, 1, 1, 1,
            1, 1, 1, 1, 1,
            1, 1, 0, 0, 0,
            0, 0, 0, 0, 0,
            0, 0, 0, 0, 0,
        };
        float[] b = (float[])a.Clone();
        b[12] = 1;
        var layerA = new MaskedConv2d(2, 3, 5, maskType: "A");
        var layerB = new MaskedConv2d(2, 3, 5, maskType: "B");
        CollectionAssert.AreEqual(Enumerable.Repeat(a, 6).SelectMany(v => v).ToArray(), layerA.mask.data<float>().ToArray());
        CollectionAssert.AreEqual(Enumerable.Repeat(b, 6).SelectMany(v => v).ToArray(), layerB.mask.data<float>().ToArray());
        CollectionAssert.AreEqual(new[] { "weight", "bias", "mask" }, layerA.state_dict().Keys.ToArray());
    }

    [TestMethod]
    public void Forward_IsTheConvolutionWithTheMaskedWeight_AndSeesOnlyThePast()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        var layer = new MaskedConv2d(3, 4, 5, stride: 1, padding: 2);
        Tensor x = randn(1, 3, 6, 7);
        Tensor y = layer.call(x);
        TensorAssert.Identical(nn.functional.conv2d(x, layer.weight * layer.mask, layer.bias, padding: new long[] { 2, 2 }), y);
        // Changing the input at (3, 4) and after it in raster order leaves every output up to (3, 4) unchanged.
        Tensor changed = x.clone();
        changed[.., .., 3, 4..] = randn(1, 3, 3);
        changed[.., .., 4.., ..] = randn(1, 3, 2, 7);
        Tensor y2 = layer.call(changed);
        TensorAssert.Identical(y[.., .., ..3, ..].contiguous(), y2[.., .., ..3, ..].contiguous());
        TensorAssert.Identical(y[.., .., 3, ..5].contiguous(), y2[.., .., 3, ..5].contiguous());
        Assert.IsFalse(y.allclose(y2), "the later outputs see the change");
        // Gradients reach only the open taps.
        y.sum().backward();
        Assert.AreEqual(0f, (layer.weight.grad! * (1 - layer.mask)).abs().sum().item<float>());
    }

    [TestMethod]
    public void BadArguments_NameTheParameterAndValue()
    {
        foreach ((string name, Func<MaskedConv2d> make, string message) in new (string, Func<MaskedConv2d>, string)[]
        {
            ("inChannels", () => new MaskedConv2d(0, 1), "MaskedConv2d: inChannels must be at least 1; got 0."),
            ("outChannels", () => new MaskedConv2d(1, -1), "MaskedConv2d: outChannels must be at least 1; got -1."),
            ("kernelSize", () => new MaskedConv2d(1, 1, 4), "MaskedConv2d: kernelSize must be odd and at least 1; got 4."),
            ("stride", () => new MaskedConv2d(1, 1, 5, 0), "MaskedConv2d: stride must be at least 1; got 0."),
            ("padding", () => new MaskedConv2d(1, 1, 5, 1, -1), "MaskedConv2d: padding must be at least 0; got -1."),
            ("maskType", () => new MaskedConv2d(1, 1, maskType: "C"), "MaskedConv2d: maskType must be \"A\" or \"B\"; got \"C\"."),
        })
        {
            var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => make());
            Assert.AreEqual(name, e.ParamName);
            StringAssert.StartsWith(e.Message, message);
        }
    }
}
