using System;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Quantization;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Quantization;

[TestClass]
public sealed class QuantConv2dTests : WithoutOneDnn
{
    [TestMethod]
    public void Forward_IsTheConvolutionOfTheFakeQuantizedInputAndWeights_WithTheSourcesGeometry()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        var source = nn.Conv2d(4, 6, 3, stride: 2, padding: 1, dilation: 1, groups: 2);
        var layer = QuantConv2d.from_conv2d(source, new QuantSpec(3, axis: 0), new QuantSpec(4, signed: false, symmetric: false));
        CollectionAssert.AreEqual(new long[] { 2, 2 }, layer.strides);
        CollectionAssert.AreEqual(new long[] { 1, 1 }, layer.paddings);
        Assert.AreEqual(2, layer.groups);
        Tensor x = rand(2, 4, 9, 9);
        Tensor y = layer.forward(x);
        Tensor xq = QuantizationOps.fake_quantize(x, layer.input_quantizer.scale, layer.input_quantizer.zero_point, layer.input_quantizer.spec);
        Tensor wq = QuantizationOps.fake_quantize(layer.weight, layer.weight_quantizer.scale, null, layer.weight_quantizer.spec);
        // The bias on the accumulator's grid, Δ = s_x·s_w per output channel.
        Tensor step = layer.input_quantizer.scale * layer.weight_quantizer.scale;
        Tensor bq = (layer.bias! / step).round() * step;
        TensorAssert.Identical(nn.functional.conv2d(xq, wq, bq, new long[] { 2, 2 }, new long[] { 1, 1 }, new long[] { 1, 1 }, 2).detach(), y.detach());
        CollectionAssert.AreEqual(new long[] { 2, 6, 5, 5 }, y.shape);
        y.square().sum().backward();
        foreach (var (name, p) in layer.named_parameters()) Assert.IsNotNull(p.grad, name);
    }

    [TestMethod]
    public void Constructor_BuildsItsOwnConvolution_WithOrWithoutBias()
    {
        using var scope = NewDisposeScope();
        using var withBias = new QuantConv2d(2, 3, 3, stride: 2, padding: 1);
        CollectionAssert.AreEqual(new long[] { 3, 2, 3, 3 }, withBias.weight.shape);
        Assert.IsNotNull(withBias.bias);
        CollectionAssert.AreEqual(new long[] { 2, 2 }, withBias.strides);
        using var without = new QuantConv2d(2, 3, 1, hasBias: false);
        Assert.IsNull(without.bias);
        CollectionAssert.AreEqual(new long[] { 4, 3, 5, 5 }, without.forward(rand(4, 2, 5, 5)).shape);
    }

    [TestMethod]
    public void OnlyExplicitZeroPadding_IsAccepted()
    {
        using var scope = NewDisposeScope();
        var reflect = nn.Conv2d(1, 1, 3, padding: 1, padding_mode: PaddingModes.Reflect);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => QuantConv2d.from_conv2d(reflect)).Message, "QuantConv2d: only explicit zero padding is supported");
        var same = nn.Conv2d(1, 1, 3, padding: Padding.Same);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => QuantConv2d.from_conv2d(same)).Message, "the convolution has Zeros, Same.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => QuantConv2d.from_conv2d(reflect)).Message, "the convolution has Reflect.");
        Assert.ThrowsExactly<ArgumentNullException>(() => QuantConv2d.from_conv2d(null!));
    }
}
