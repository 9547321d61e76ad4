using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Quantization;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Quantization;

[TestClass]
public sealed class LsqObserverTests
{
    [TestMethod]
    public void Scale_IsTwiceTheMeanMagnitudeOverRootQmax()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(new[] { -1.5f, 0.2f, 3.0f, -0.7f });
        double expected = 2 * (1.5 + 0.2 + 3.0 + 0.7) / 4 / Math.Sqrt(7);
        var o = new LsqObserver();
        var spec = new QuantSpec(4);
        o.observe(x, spec);
        (Tensor s, Tensor z) = o.calculate_qparams(spec);
        Assert.AreEqual(expected, s.item<float>(), 1e-6);
        Assert.AreEqual(0f, z.item<float>());
        // The range it proposes: ±s·(qmax − qmin)/2.
        Assert.AreEqual(-expected * 7.5, o.range!.Value.low[0], 1e-6);
        Assert.AreEqual(expected * 7.5, o.range!.Value.high[0], 1e-6);
        // Affine: the same s about the grid's centre Z = 8.
        var affine = new QuantSpec(4, signed: false, symmetric: false);
        var a = new LsqObserver();
        a.observe(x, affine);
        (Tensor sa, Tensor za) = a.calculate_qparams(affine);
        Assert.AreEqual(2 * 1.35 / Math.Sqrt(15), sa.item<float>(), 1e-6);
        Assert.AreEqual(8f, za.item<float>());
        // Signed affine: Z = 0 on [−8, 7], so the range is [−8·s, 7·s].
        var signedAffine = new QuantSpec(4, symmetric: false);
        var b = new LsqObserver();
        b.observe(x, signedAffine);
        double sb = 2 * 1.35 / Math.Sqrt(7);
        Assert.AreEqual(-8 * sb, b.range!.Value.low[0], 1e-6);
        Assert.AreEqual(7 * sb, b.range!.Value.high[0], 1e-6);
        // Per channel, averaged over two batches.
        var pc = new LsqObserver();
        QuantSpec rows = spec.per_channel(0);
        pc.observe(tensor(new[,] { { 1f, -1f }, { 0.5f, 0.5f } }), rows);
        pc.observe(tensor(new[,] { { 3f, -3f }, { 0.5f, 0.5f } }), rows);
        (Tensor sp, _) = pc.calculate_qparams(rows);
        Assert.AreEqual(2 * 2 / Math.Sqrt(7), sp[0].item<float>(), 1e-6);
        Assert.AreEqual(2 * 0.5 / Math.Sqrt(7), sp[1].item<float>(), 1e-6);
    }

    [TestMethod]
    public void Affine_OnAChannelWithoutNegativeValues_StartsAtZero_WithZAtQmin()
    {
        using var scope = NewDisposeScope();
        // Post-ReLU values: the range is [0, s·(qmax − qmin)] with LSQ's s, so Z = qmin and no code lies below zero.
        Tensor x = tensor(new[] { 0f, 0.2f, 3.0f, 0.7f });
        double s = 2 * (0.2 + 3.0 + 0.7) / 4 / Math.Sqrt(15);
        var unsigned = new QuantSpec(4, signed: false, symmetric: false);
        var o = new LsqObserver();
        o.observe(x, unsigned);
        Assert.AreEqual(0, o.range!.Value.low[0]);
        Assert.AreEqual(15 * s, o.range!.Value.high[0], 1e-6);
        (Tensor scale, Tensor z) = o.calculate_qparams(unsigned);
        Assert.AreEqual(s, scale.item<float>(), 1e-6);
        Assert.AreEqual(0f, z.item<float>());
        // Signed affine: Z = −8, the whole grid above zero.
        var signedAffine = new QuantSpec(4, symmetric: false);
        var b = new LsqObserver();
        b.observe(x, signedAffine);
        (Tensor sb, Tensor zb) = b.calculate_qparams(signedAffine);
        Assert.AreEqual(2 * 0.975 / Math.Sqrt(7), sb.item<float>(), 1e-6);
        Assert.AreEqual(-8f, zb.item<float>());
        // Per channel: only the channel without negative values moves; a single −0.01 keeps the centre.
        var rows = unsigned.per_channel(0);
        var pc = new LsqObserver();
        pc.observe(tensor(new[,] { { 1f, 0.5f }, { 1f, -0.01f } }), rows);
        (Tensor sp, Tensor zp) = pc.calculate_qparams(rows);
        CollectionAssert.AreEqual(new[] { 0f, 8f }, zp.data<float>().ToArray());
        Assert.AreEqual(2 * 0.75 / Math.Sqrt(15), sp[0].item<float>(), 1e-6);
        Assert.AreEqual(2 * 0.505 / Math.Sqrt(15), sp[1].item<float>(), 1e-6);
    }
}
