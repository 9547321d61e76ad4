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

}
