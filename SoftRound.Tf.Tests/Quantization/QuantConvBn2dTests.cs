using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Quantization;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Quantization;

[TestClass]
public sealed class QuantConvBn2dTests : WithoutOneDnn
{
    /// <summary>A 3 → 5 channel 3×3 convolution (stride 2, padding 1) and a batch norm with non-trivial γ, β and statistics.</summary>
    private static (Conv2d conv, BatchNorm2d bn) ConvBn(bool bias = true, ScalarType dtype = ScalarType.Float32)
    {
        manual_seed(11);
        Conv2d conv = nn.Conv2d(3, 5, 3, stride: 2, padding: 1, bias: bias, dtype: dtype);
        BatchNorm2d bn = nn.BatchNorm2d(5, dtype: dtype);
        using (no_grad())
        {
            bn.weight!.uniform_(0.5, 1.5);
            bn.bias!.uniform_(-0.3, 0.3);
            bn.running_mean!.uniform_(-0.2, 0.2);
            bn.running_var!.uniform_(0.5, 2.0);
        }
        return (conv, bn);
    }

    private static readonly QuantSpec Fine = new(16, axis: 0), FineInput = new(16, signed: false, symmetric: false);

    /// <summary><see cref="ConvBn"/> with the batch norm's <paramref name="momentum"/>, folded with both quantizers off, all three in training.</summary>
    private static (Conv2d conv, BatchNorm2d bn, QuantConvBn2d folded) UnquantizedTraining(double? momentum)
    {
        (Conv2d conv, BatchNorm2d bn) = ConvBn();
        bn.momentum = momentum;
        QuantConvBn2d folded = QuantConvBn2d.from_conv_bn(conv, bn, Fine, FineInput);
        folded.weight_quantizer.fake_quant_enabled = false;
        folded.input_quantizer.fake_quant_enabled = false;
        conv.train();
        bn.train();
        folded.train();
        return (conv, bn, folded);
    }

    [TestMethod]
    public void WithTheQuantizersOff_TrainingIsConvThenBatchNormOnTheBatch_ValuesGradientsAndRunningStatistics()
    {
        using var scope = NewDisposeScope();
        (Conv2d conv, BatchNorm2d bn, QuantConvBn2d folded) = UnquantizedTraining(momentum: 0.1);
        Tensor x = randn(new long[] { 6, 3, 9, 9 }, generator: new Generator(2));
        Tensor expected = bn.forward(conv.forward(x)), actual = folded.forward(x);
        Assert.IsTrue((expected - actual).abs().max().item<float>() < 2e-5f, $"{(expected - actual).abs().max().item<float>()}");
        Assert.IsTrue((bn.running_mean! - folded.bn.running_mean!).abs().max().item<float>() < 1e-6f);
        Assert.IsTrue((bn.running_var! - folded.bn.running_var!).abs().max().item<float>() < 1e-5f);
        Assert.AreEqual(1L, folded.bn.num_batches_tracked!.to(ScalarType.Int64).item<long>());
        Tensor g = randn(expected.shape, generator: new Generator(4));
        (expected * g).sum().backward();
        (actual * g).sum().backward();
        foreach ((Tensor a, Tensor b) in new[] { (conv.weight!, folded.weight), (bn.weight!, folded.bn.weight!), (bn.bias!, folded.bn.bias!) })
        {
            double relative = ((a.grad! - b.grad!).abs().max() / a.grad!.abs().max()).item<float>();
            Assert.IsTrue(relative < 1e-4, $"{relative}");
        }
    }

    [TestMethod]
    public void WithoutAMomentum_TheRunningStatisticsAreTheBatchesAverage_AsTorchSharpsBatchNormKeepsThem()
    {
        using var scope = NewDisposeScope();
        (Conv2d conv, BatchNorm2d bn, QuantConvBn2d folded) = UnquantizedTraining(momentum: null);
        for (int batch = 1; batch <= 3; batch++)
        {
            Tensor x = randn(new long[] { 4, 3, 9, 9 }, generator: new Generator((ulong)batch)) * batch;
            using (no_grad())
            {
                bn.forward(conv.forward(x));
                folded.forward(x);
            }
            Assert.AreEqual((long)batch, folded.bn.num_batches_tracked!.to(ScalarType.Int64).item<long>());
            Assert.IsTrue((bn.running_mean! - folded.bn.running_mean!).abs().max().item<float>() < 1e-5f, $"batch {batch}");
            Assert.IsTrue((bn.running_var! - folded.bn.running_var!).abs().max().item<float>() < 1e-4f, $"batch {batch}");
        }
    }

    [TestMethod]
    public void Eval_IsTheQuantizedConvolutionOfTheFoldedWeights_AndFrozenTrainingIsEvalWithoutUpdates()
    {
        using var scope = NewDisposeScope();
        (Conv2d conv, BatchNorm2d bn) = ConvBn();
        conv.train();
        QuantConvBn2d folded = QuantConvBn2d.from_conv_bn(conv, bn, new QuantSpec(4, axis: 0), new QuantSpec(4, signed: false, symmetric: false));
        Tensor x = randn(new long[] { 6, 3, 9, 9 }, generator: new Generator(2));
        using (no_grad()) folded.forward(x);
        folded.eval();
        Tensor evaluated;
        using (no_grad()) evaluated = folded.forward(x);
        // The same layer written as a QuantConv2d of fuse_conv_bn_eval's convolution with the same scales gives the same values.
        bn.eval();
        using (no_grad())
        {
            bn.running_mean!.copy_(folded.bn.running_mean!);
            bn.running_var!.copy_(folded.bn.running_var!);
        }
        QuantConv2d plain = QuantConv2d.from_conv2d(QuantizationOps.fuse_conv_bn_eval(conv, bn), new QuantSpec(4, axis: 0), new QuantSpec(4, signed: false, symmetric: false));
        plain.train();
        using (no_grad()) plain.forward(x);
        using (no_grad())
        {
            plain.weight_quantizer.scale.copy_(folded.weight_quantizer.scale);
            plain.input_quantizer.scale.copy_(folded.input_quantizer.scale);
            plain.input_quantizer.zero_point!.copy_(folded.input_quantizer.zero_point!);
        }
        plain.eval();
        Tensor expected;
        using (no_grad()) expected = plain.forward(x);
        Assert.AreEqual(0f, (expected - evaluated).abs().max().item<float>(), 1e-6f);
        Assert.IsTrue(evaluated.abs().max().item<float>() > 0.5f);
        // Frozen: training gives eval's values and leaves the statistics; update_bn_stats undoes it.
        folded.train();
        folded.freeze_bn_stats();
        Assert.IsTrue(folded.bn_frozen);
        Tensor mean = folded.bn.running_mean!.clone();
        Tensor frozen;
        using (no_grad()) frozen = folded.forward(x);
        Assert.AreEqual(0f, (frozen - evaluated).abs().max().item<float>());
        Assert.IsTrue(mean.allclose(folded.bn.running_mean!, 0, 0));
        folded.update_bn_stats();
        using (no_grad()) folded.forward(x + 1);
        Assert.IsFalse(mean.allclose(folded.bn.running_mean!, 0, 0));
    }

    [TestMethod]
    public void Folded_IsTheBatchNormOfTheConvolution_InFloat64()
    {
        using var scope = NewDisposeScope();
        foreach (bool bias in new[] { true, false })
        {
            (Conv2d conv, BatchNorm2d bn) = ConvBn(bias, ScalarType.Float64);
            conv.eval();
            bn.eval();
            Conv2d fused = QuantizationOps.fuse_conv_bn_eval(conv, bn);
            Assert.IsFalse(fused.training);
            Tensor x = randn(new long[] { 2, 3, 7, 7 }, ScalarType.Float64, generator: new Generator(8));
            using (no_grad())
            {
                Tensor expected = bn.forward(conv.forward(x)), actual = fused.forward(x);
                Assert.IsTrue((expected - actual).abs().max().item<double>() < 1e-13, $"{(expected - actual).abs().max().item<double>()}");
            }
            QuantConvBn2d q = QuantConvBn2d.from_conv_bn(conv, bn);
            (Tensor w, Tensor b) = q.folded();
            Assert.IsTrue(w.allclose(fused.weight!, 0, 1e-15) && b.allclose(fused.bias!, 0, 1e-15));
        }
    }

    [TestMethod]
    public void CopiesItsArguments_AndRefusesBatchNormsThatCannotFold()
    {
        using var scope = NewDisposeScope();
        (Conv2d conv, BatchNorm2d bn) = ConvBn();
        Tensor weight = conv.weight!.clone(), mean = bn.running_mean!.clone();
        QuantConvBn2d q = QuantConvBn2d.from_conv_bn(conv, bn);
        q.train();
        using (no_grad()) q.forward(randn(2, 3, 8, 8));
        Assert.IsTrue(weight.allclose(conv.weight!, 0, 0) && mean.allclose(bn.running_mean!, 0, 0));
        Assert.IsFalse(mean.allclose(q.bn.running_mean!, 0, 0));
        Assert.ThrowsExactly<ArgumentNullException>(() => QuantConvBn2d.from_conv_bn(null!, bn));
        Assert.ThrowsExactly<ArgumentNullException>(() => QuantConvBn2d.from_conv_bn(conv, null!));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => QuantConvBn2d.from_conv_bn(conv, nn.BatchNorm2d(4))).Message,
            "QuantConvBn2d.from_conv_bn: a batch norm folds into a convolution when it has the convolution's 5 channels, γ and β, and running statistics; got 4 channels, affine True, running statistics True.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => QuantizationOps.fuse_conv_bn_eval(conv, nn.BatchNorm2d(5, affine: false))).Message,
            "QuantizationOps.fuse_conv_bn_eval: a batch norm folds into a convolution when it has the convolution's 5 channels, γ and β, and running statistics; got 5 channels, affine False");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => QuantizationOps.fuse_conv_bn_eval(conv, nn.BatchNorm2d(5, track_running_stats: false))).Message, "running statistics False");
        Assert.ThrowsExactly<ArgumentNullException>(() => QuantizationOps.fuse_conv_bn_eval(conv, null!));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => QuantizationOps.fuse_conv_bn_eval(nn.Conv2d(3, 5, 3, padding: 1, padding_mode: TorchSharp.PaddingModes.Reflect), bn)).Message,
            "QuantizationOps.fuse_conv_bn_eval: only explicit zero padding is supported");
    }

    [TestMethod]
    public void IntegerExport_FoldsTheBatchNorm_AndMatchesTheFakeQuantizedModel()
    {
        using var scope = NewDisposeScope();
        Sequential q = SoftRound.Tf.Tests.Onnx.OnnxExportTests.TrainedQuantCnn(8, 8);
        Assert.IsInstanceOfType<QuantConvBn2d>(q.named_children().First().module);
        IntegerModel integer = IntegerModel.export(q);
        Tensor x = rand(new long[] { 256, 1, 12, 12 }, generator: new Generator(5));
        Tensor expected;
        using (no_grad()) expected = q.forward(x);
        Tensor actual = integer.forward(x);
        QuantizedLayer last = integer.graph.Layers[^1];
        double step = Enumerable.Range(0, last.OutChannels).Max(o => last.Step(o));
        double mean = (actual - expected).abs().mean().item<float>();
        Assert.IsTrue(mean < 0.25 * step, $"{mean / step} steps on average");
        Assert.IsTrue(actual.argmax(1).eq(expected.argmax(1)).sum().item<long>() >= 250);
        // An unfolded batch norm is refused by name.
        Sequential unfolded = nn.Sequential(("conv", QuantConv2d.from_conv2d(nn.Conv2d(1, 2, 3))), ("norm", nn.BatchNorm2d(2)));
        unfolded.train();
        using (no_grad()) unfolded.forward(rand(2, 1, 5, 5));
        StringAssert.StartsWith(Assert.ThrowsExactly<ArgumentException>(() => QuantizedGraph.capture(unfolded)).Message,
            "QuantizedGraph.capture: norm is a BatchNorm2d that was not folded into the convolution before it;");
    }

    [TestMethod]
    public void TheBatchNormIsPartOfTheState_TheModeFollowsTheConvolution_AndTrainingQuantizesTheFoldedWeights()
    {
        using var scope = NewDisposeScope();
        (Conv2d conv, BatchNorm2d bn) = ConvBn();
        QuantConvBn2d q = QuantConvBn2d.from_conv_bn(conv, bn);
        string[] keys = q.state_dict().Keys.ToArray();
        CollectionAssert.IsSubsetOf(new[] { "weight", "bias", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var" }, keys);
        Assert.AreEqual(q.parameters().Count(), 2 + 2 + q.weight_quantizer.parameters().Count() + q.input_quantizer.parameters().Count());
        conv.eval();
        Assert.IsFalse(QuantConvBn2d.from_conv_bn(conv, bn).training);
        // The first training batch sets LSQ's weight scales from W·γ/√(σ² + ε): 2·mean|W_f|/√qmax per channel.
        (Tensor folded, _) = q.folded();
        Tensor lsq = 2 * folded.detach().to(ScalarType.Float64).abs().mean(new long[] { 1, 2, 3 }) / Math.Sqrt(127);
        q.train();
        using (no_grad()) q.forward(randn(4, 3, 9, 9));
        double error = ((q.weight_quantizer.scale.to(ScalarType.Float64) - lsq).abs().max() / lsq.max()).item<double>();
        Assert.IsTrue(error < 1e-6, $"{error}");
        Assert.ThrowsExactly<ArgumentNullException>(() => QuantizationOps.fuse_conv_bn_eval(null!, bn));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => QuantizationOps.fuse_conv_bn_eval(nn.Conv2d(3, 5, 3, padding: TorchSharp.Padding.Same), bn)).Message,
            "the convolution has Zeros, Same.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => QuantizationOps.fuse_conv_bn_eval(nn.Conv2d(3, 5, 3, padding: 1, padding_mode: TorchSharp.PaddingModes.Reflect), bn)).Message,
            "the convolution has Reflect.");
    }
}
