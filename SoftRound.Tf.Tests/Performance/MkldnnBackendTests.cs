using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Performance;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Performance;

[TestClass]
public sealed class MkldnnBackendTests
{
    /// <summary>Seeded backward passes of a 6 → 4 channel 3×3 convolution on 4×4 inputs whose input gradient is not finite.</summary>
    private static int NonFiniteInputGradients(int passes)
    {
        int bad = 0;
        for (int t = 0; t < passes; t++)
        {
            using var scope = NewDisposeScope();
            manual_seed(t);
            Tensor w = randn(4, 6, 3, 3).requires_grad_(), u = randn(2, 6, 4, 4).requires_grad_(), g = randn(2, 4, 4, 4);
            (nn.functional.conv2d(u, w, padding: new long[] { 1, 1 }) * g).sum().backward();
            if (!u.grad!.isfinite().all().item<bool>()) bad++;
        }
        return bad;
    }

    [TestMethod]
    public void Disabled_ConvolutionGradientsAreFinite_AndTheSettingReadsBack()
    {
        bool before = MkldnnBackend.enabled;
        try
        {
            MkldnnBackend.enabled = false;
            Assert.IsFalse(MkldnnBackend.enabled);
            Assert.AreEqual(0, NonFiniteInputGradients(100));
            MkldnnBackend.enabled = true;
            Assert.IsTrue(MkldnnBackend.enabled);
        }
        finally
        {
            MkldnnBackend.enabled = before;
        }
    }

    [TestMethod]
    public void Disabled_ConvolutionGivesTheSameValuesAsOneDnn()
    {
        bool before = MkldnnBackend.enabled;
        try
        {
            using var scope = NewDisposeScope();
            manual_seed(1);
            Tensor w = randn(8, 5, 3, 3), x = randn(3, 5, 9, 7);
            MkldnnBackend.enabled = true;
            Tensor a = nn.functional.conv2d(x, w, padding: new long[] { 1, 1 });
            MkldnnBackend.enabled = false;
            Tensor b = nn.functional.conv2d(x, w, padding: new long[] { 1, 1 });
            Assert.IsTrue(a.allclose(b, rtol: 1e-5, atol: 1e-5));
        }
        finally
        {
            MkldnnBackend.enabled = before;
        }
    }
}
