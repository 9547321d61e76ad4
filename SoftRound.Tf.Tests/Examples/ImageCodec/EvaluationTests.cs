using System;
using ImageCodec;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Examples.ImageCodec;

[TestClass]
public sealed class EvaluationTests
{
    private static Evaluation.Point Jpeg(double bpp, double psnr) => new("JPEG", 0, 0, bpp, double.NaN, psnr, 0, 0);

    [TestMethod]
    public void JpegPsnrAt_InterpolatesBetweenNeighbours_AndIsNaNOutside()
    {
        var curve = new[] { Jpeg(0.8, 34), Jpeg(0.2, 26), Jpeg(0.4, 30) };
        Assert.AreEqual(28.0, Evaluation.JpegPsnrAt(curve, 0.3), 1e-12);
        Assert.AreEqual(32.0, Evaluation.JpegPsnrAt(curve, 0.6), 1e-12);
        Assert.AreEqual(26.0, Evaluation.JpegPsnrAt(curve, 0.2), 1e-12);
        Assert.IsTrue(double.IsNaN(Evaluation.JpegPsnrAt(curve, 0.1)));
        Assert.IsTrue(double.IsNaN(Evaluation.JpegPsnrAt(curve, 0.9)));
    }

    [TestMethod]
    public void Jpeg_RateAndQualityRiseTogether()
    {
        using var scope = NewDisposeScope();
        Tensor image = rand(1, 3, 48, 64, generator: new Generator(3)) * 0.3 + linspace(0, 0.7, 64).reshape(1, 1, 1, 64);
        var points = Evaluation.Jpeg(new[] { image }, new[] { 10, 50, 90 });
        Assert.IsTrue(points[0].Bpp < points[1].Bpp && points[1].Bpp < points[2].Bpp);
        Assert.IsTrue(points[0].Psnr < points[1].Psnr && points[1].Psnr < points[2].Psnr);
    }

    [TestMethod]
    public void Labels()
    {
        Assert.AreEqual("uniform noise", Evaluation.Label(QuantizationMode.UniformNoise));
        Assert.AreEqual("soft_round + noise", Evaluation.Label(QuantizationMode.SoftRoundNoise));
        Assert.AreEqual("differentiable_round", Evaluation.Label(QuantizationMode.DifferentiableRound));
        Assert.AreEqual(4, Training.Quantizers.Length);
    }
}
