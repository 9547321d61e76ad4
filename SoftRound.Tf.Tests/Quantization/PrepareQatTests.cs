using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Quantization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Quantization;

[TestClass]
public sealed class PrepareQatTests
{
    [TestMethod]
    public void SwapsLinearAndConv2d_InNestedSequentials_KeepingNamesAndTheOriginal()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        Sequential model = nn.Sequential(
            ("conv", nn.Conv2d(1, 4, 3)),
            ("relu", nn.ReLU()),
            ("head", nn.Sequential(("flatten", nn.Flatten()), ("fc", nn.Linear(4 * 6 * 6, 10)))),
            ("out", nn.Linear(10, 3)));
        Sequential q = QuantizationOps.prepare_qat(model, keep: name => name == "out");
        string[] names = q.named_children().Select(c => c.name).ToArray();
        CollectionAssert.AreEqual(new[] { "conv", "relu", "head", "out" }, names);
        Assert.IsInstanceOfType<QuantConv2d>(q.named_children().First().module);
        var head = (Sequential)q.named_children().ElementAt(2).module;
        Assert.IsInstanceOfType<QuantLinear>(head.named_children().Last().module);
        Assert.IsInstanceOfType<Linear>(q.named_children().Last().module);
        Assert.IsInstanceOfType<Conv2d>(model.named_children().First().module);
        // At 8 bits the prepared model's first output is close to the float model's.
        Tensor x = rand(2, 1, 8, 8);
        Tensor expected = model.forward(x), actual = q.forward(x);
        Assert.IsTrue((expected - actual).abs().max().item<float>() < 0.05f * expected.abs().max().item<float>());
        Assert.IsTrue(q.parameters().Count() > model.parameters().Count());
    }

    [TestMethod]
    public void NullModel_IsRefused() => Assert.ThrowsExactly<ArgumentNullException>(() => QuantizationOps.prepare_qat(null!));

    [TestMethod]
    public void KeepsTheTrainingMode_AndGivesKeepDottedNames()
    {
        using var scope = NewDisposeScope();
        Sequential model = nn.Sequential(("a", nn.Linear(2, 2)), ("b", nn.Sequential(("c", nn.Linear(2, 2)))));
        model.eval();
        var seen = new System.Collections.Generic.List<string>();
        Sequential q = QuantizationOps.prepare_qat(model, keep: name => { seen.Add(name); return false; });
        Assert.IsFalse(q.training);
        CollectionAssert.AreEqual(new[] { "a", "b", "b.c" }, seen);
    }

    [TestMethod]
    public void ConvThenBatchNorm_IsFused_KeepingItsStatisticsInTraining_FoldedInEval_NotWhenKept()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        Sequential model = nn.Sequential(("conv", nn.Conv2d(1, 4, 3)), ("bn", nn.BatchNorm2d(4)), ("relu", nn.ReLU()),
            ("inner", nn.Sequential(("c", nn.Conv2d(4, 4, 1)), ("b", nn.BatchNorm2d(4)))), ("tail", nn.BatchNorm2d(4)));
        Sequential training = QuantizationOps.prepare_qat(model);
        CollectionAssert.AreEqual(new[] { "conv", "bn", "relu", "inner", "tail" }, training.named_children().Select(c => c.name).ToArray());
        Assert.IsInstanceOfType<QuantConvBn2d>(training.named_children().First().module);
        Assert.IsInstanceOfType<Identity>(training.named_children().ElementAt(1).module);
        var inner = (Sequential)training.named_children().ElementAt(3).module;
        Assert.IsInstanceOfType<QuantConvBn2d>(inner.named_children().First().module);
        Assert.IsInstanceOfType<BatchNorm2d>(training.named_children().Last().module);
        // In eval mode: a QuantConv2d of the folded convolution.
        model.eval();
        Sequential evaluated = QuantizationOps.prepare_qat(model);
        var conv = (QuantConv2d)evaluated.named_children().First().module;
        Assert.IsNotInstanceOfType<QuantConvBn2d>(conv);
        Conv2d fused = QuantizationOps.fuse_conv_bn_eval((Conv2d)model.named_children().First().module, (BatchNorm2d)model.named_children().ElementAt(1).module);
        Assert.IsTrue(conv.weight.allclose(fused.weight!, 0, 0) && conv.bias!.allclose(fused.bias!, 0, 0));
        // A kept convolution keeps its batch norm.
        Sequential kept = QuantizationOps.prepare_qat(model, keep: name => name == "conv");
        Assert.IsInstanceOfType<Conv2d>(kept.named_children().First().module);
        Assert.IsInstanceOfType<BatchNorm2d>(kept.named_children().ElementAt(1).module);
        // A batch norm that cannot fold is refused with the reason.
        Sequential wrong = nn.Sequential(("conv", nn.Conv2d(1, 4, 3)), ("bn", nn.BatchNorm2d(3)));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => QuantizationOps.prepare_qat(wrong)).Message, "got 3 channels");
    }
}
