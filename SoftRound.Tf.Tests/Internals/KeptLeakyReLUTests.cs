using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Internals;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Internals;

[TestClass]
public sealed class KeptLeakyReLUTests
{
    [TestMethod]
    public void ValuesAndGradients_AreTorchSharpsLeakyReLUs()
    {
        using var scope = NewDisposeScope();
        foreach (double slope in new[] { 0.01, 0.2 })
        {
            using var kept = new KeptLeakyReLU(slope);
            using var theirs = nn.LeakyReLU(slope);
            Tensor x = tensor(new[] { -3.5f, -1e-30f, -0.0f, 0.0f, 2.25f, float.NegativeInfinity }).requires_grad_();
            Tensor z = x.detach().clone().requires_grad_();
            Tensor ours = kept.call(x), reference = theirs.call(z);
            TensorAssert.Identical(reference, ours);
            Tensor g = tensor(new[] { 1f, 2f, 3f, 4f, 5f, 6f });
            (ours * g).sum().backward();
            (reference * g).sum().backward();
            TensorAssert.Identical(z.grad!, x.grad!);
            Assert.AreEqual(slope, kept.negative_slope);
        }
        using var plain = new KeptLeakyReLU();
        Assert.AreEqual(0, plain.parameters().Count());
        Assert.AreEqual(0.01, plain.negative_slope);
        // Named as TorchSharp's module, which the entropy-parameter layer messages show.
        Assert.AreEqual("LeakyReLU", plain.GetName());
    }
}
