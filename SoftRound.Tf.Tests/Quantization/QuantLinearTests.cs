using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Quantization;
using SoftRound.Tf.Tests.Helpers;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Quantization;

[TestClass]
public sealed class QuantLinearTests
{
    [TestMethod]
    public void Forward_IsTheLinearMapOfTheFakeQuantizedInputAndWeights_AndGradientsReachEveryParameter()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        var source = nn.Linear(6, 4);
        var layer = QuantLinear.from_linear(source, new QuantSpec(4, axis: 0), new QuantSpec(8, signed: false, symmetric: false));
        TensorAssert.Identical(source.weight!.detach(), layer.weight.detach());
        Tensor x = rand(5, 6);
        Tensor y = layer.forward(x);
        Tensor xq = QuantizationOps.fake_quantize(x, layer.input_quantizer.scale, layer.input_quantizer.zero_point, layer.input_quantizer.spec);
        Tensor wq = QuantizationOps.fake_quantize(layer.weight, layer.weight_quantizer.scale, null, layer.weight_quantizer.spec);
        // The bias on the accumulator's grid, Δ = s_x·s_w per output channel.
        Tensor step = layer.input_quantizer.scale * layer.weight_quantizer.scale;
        Tensor bq = (layer.bias! / step).round() * step;
        TensorAssert.Identical(nn.functional.linear(xq, wq, bq).detach(), y.detach());
        CollectionAssert.AreEqual(new long[] { 4 }, layer.weight_quantizer.scale.shape);
        Assert.AreEqual(7, layer.weight_quantizer.spec.qmax);
        y.sum().backward();
        foreach (var (name, p) in layer.named_parameters()) Assert.IsNotNull(p.grad, name);
        // The source keeps its own weights.
        Assert.IsNull(source.weight!.grad);
    }

    [TestMethod]
    public void Defaults_AreInt8PerChannelWeights_AndUint8AffineInputs()
    {
        using var scope = NewDisposeScope();
        var layer = new QuantLinear(3, 2, hasBias: false);
        Assert.AreEqual(new QuantSpec(8, axis: 0), layer.weight_quantizer.spec);
        Assert.AreEqual(new QuantSpec(8, signed: false, symmetric: false), layer.input_quantizer.spec);
        Assert.IsNull(layer.bias);
        Assert.AreEqual((3L, 2L), (layer.in_features, layer.out_features));
        // The quantizers are submodules: their scales train and save with the layer.
        string[] names = layer.named_parameters().Select(p => p.name).ToArray();
        CollectionAssert.AreEquivalent(new[] { "weight", "weight_quantizer.scale", "input_quantizer.scale" }, names);
        CollectionAssert.AreEqual(new long[] { 2 }, layer.weight_quantizer.scale.shape);
        var perTensor = new QuantLinear(3, 4, weightSpec: new QuantSpec(8));
        CollectionAssert.AreEqual(new long[] { 1 }, perTensor.weight_quantizer.scale.shape);
    }

    [TestMethod]
    public void BadArguments_NameTheLayerAndValue()
    {
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new QuantLinear(0, 2)).Message, "QuantLinear: inFeatures must be ≥ 1; got 0.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new QuantLinear(2, 2, weightSpec: new QuantSpec(8, axis: 1))).Message, "QuantLinear: weightSpec's axis must be 0 (the output channels) or null; got 1.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new QuantLinear(2, 2, inputSpec: new QuantSpec(8, axis: 0))).Message, "QuantLinear: inputSpec must be per tensor; got axis 0.");
        Assert.ThrowsExactly<ArgumentNullException>(() => QuantLinear.from_linear(null!));
    }

    [TestMethod]
    public void OneFeature_IsEnough() => Assert.AreEqual((1L, 1L), (new QuantLinear(1, 1).in_features, new QuantLinear(1, 1).out_features));

}
