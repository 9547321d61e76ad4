using System;
using System.Linq;
using System.Numerics;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Compression;

[TestClass]
public sealed class ContextParametersTests
{
    /// <summary>Output counts around the vector path's blocks (4 vectors, 1 vector, the scalar tail) and the codec's sizes.</summary>
    [TestMethod]
    [DataRow(1, 1)]
    [DataRow(7, 3)]
    [DataRow(5, 17)]
    [DataRow(864, 144)]
    [DataRow(288, 240)]
    [DataRow(31, 35)]
    public void Affine_VectorPath_IsTheScalarReference_BitForBit_AndTheSumToRounding(int inputs, int outputs)
    {
        var random = new Random(inputs * 1000 + outputs);
        double[] x = Draw(random, inputs), weight = Draw(random, inputs * outputs), bias = Draw(random, outputs);
        var vector = new double[outputs];
        var scalar = new double[outputs];
        ContextParameters.Affine(x, weight, bias, vector);
        ContextParameters.AffineScalar(x, weight, bias, scalar);
        CollectionAssert.AreEqual(scalar, vector, $"vector width {Vector<double>.Count}, accelerated {Vector.IsHardwareAccelerated}");
        for (int o = 0; o < outputs; o++)
        {
            // The sum to about 10⁻³² relative (each product's rounding error kept by a fused multiply-add, all added
            // with Neumaier's compensation), against the bound of a recursive sum: n·2⁻⁵³·Σ|terms|.
            (double sum, double compensation, double magnitude) = (bias[o], 0, Math.Abs(bias[o]));
            void Add(double term)
            {
                double t = sum + term;
                compensation += Math.Abs(sum) >= Math.Abs(term) ? sum - t + term : term - t + sum;
                sum = t;
            }
            for (int i = 0; i < inputs; i++)
            {
                double product = weight[i * outputs + o] * x[i];
                Add(product);
                Add(Math.FusedMultiplyAdd(weight[i * outputs + o], x[i], -product));
                magnitude += Math.Abs(product);
            }
            Assert.AreEqual(sum + compensation, scalar[o], (inputs + 1) * Math.Pow(2, -53) * magnitude, $"output {o}");
        }
        // From a given output on, the scalar reference leaves the outputs before it alone.
        var partial = new double[outputs];
        Array.Fill(partial, 7.5);
        ContextParameters.AffineScalar(x, weight, bias, partial, outputs - 1);
        if (outputs > 1) Assert.AreEqual(7.5, partial[0]);
        Assert.AreEqual(scalar[^1], partial[^1]);
    }

    private static double[] Draw(Random random, int count) => Enumerable.Range(0, count).Select(_ => random.NextDouble() * 2 - 1).ToArray();

    /// <summary>The joint model's context and entropy-parameter layers at M channels, seeded.</summary>
    private static (MaskedConv2d context, Sequential network) Layers(int m, long seed, bool bias = true)
    {
        manual_seed(seed);
        var context = new MaskedConv2d(m, 2 * m);
        var network = nn.Sequential(
            nn.Conv2d(4 * m, 10 * m / 3, 1, bias: bias), nn.LeakyReLU(0.2),
            nn.Conv2d(10 * m / 3, 8 * m / 3, 1), nn.LeakyReLU(),
            nn.Conv2d(8 * m / 3, 2 * m, 1));
        return (context, network);
    }

    [TestMethod]
    [DataRow(6, true)]
    [DataRow(12, false)]
    public void Compute_IsTheLayersInFloat64_AtEveryPositionOfAPaddedPlane(int m, bool bias)
    {
        using var scope = NewDisposeScope();
        (MaskedConv2d context, Sequential network) = Layers(m, 5, bias);
        const int Height = 3, Width = 4, Pad = 2;
        var generator = new Generator(6);
        // ŷ padded with zeros, and the hyperprior's parameters; the torch reference: the masked convolution over the
        // whole plane, joined with the parameters, through the network, all in float64.
        Tensor yHat = nn.functional.pad(randn(1, m, Height, Width, ScalarType.Float64, generator: generator), new long[] { Pad, Pad, Pad, Pad });
        Tensor hyper = randn(1, 2 * m, Height, Width, ScalarType.Float64, generator: generator);
        Tensor contextOut = nn.functional.conv2d(yHat, context.masked_weight().to(ScalarType.Float64), context.bias.to(ScalarType.Float64));
        network.to(ScalarType.Float64);
        Tensor expected = network.call(cat(new[] { hyper, contextOut }, 1));
        network.to(ScalarType.Float32);
        var parameters = new ContextParameters("Model.compress", context, network);
        Assert.AreEqual(2 * m, parameters.HyperChannels);
        Assert.AreEqual(2 * m, parameters.Outputs);
        double[] plane = yHat[0].permute(1, 2, 0).contiguous().data<double>().ToArray();
        double[] positions = hyper[0].permute(1, 2, 0).contiguous().data<double>().ToArray();
        var output = new double[2 * m];
        for (int h = 0; h < Height; h++)
        {
            for (int w = 0; w < Width; w++)
            {
                parameters.Compute(plane, Width + 2 * Pad, h, w, positions.AsSpan((h * Width + w) * 2 * m, 2 * m), output);
                double[] reference = expected[0, .., h, w].data<double>().ToArray();
                for (int c = 0; c < 2 * m; c++) Assert.AreEqual(reference[c], output[c], 1e-12 * (1 + Math.Abs(reference[c])), $"({h}, {w}) channel {c}");
            }
        }
    }

    [TestMethod]
    public void Compute_ReadsOnlyThePositionsBeforeTheCentre_AndTheWeightsAsTheyWereWhenMade()
    {
        using var scope = NewDisposeScope();
        const int M = 3, Pad = 2, Size = 5;
        (MaskedConv2d context, Sequential network) = Layers(M, 7);
        var parameters = new ContextParameters("Model.compress", context, network);
        var random = new Random(8);
        double[] plane = Draw(random, Size * Size * M), hyper = Draw(random, 2 * M);
        var before = new double[2 * M];
        parameters.Compute(plane, Size, 0, 0, hyper, before);
        // The centre (2, 2) and every position after it in raster order changed: the same output.
        for (int p = Pad * Size + Pad; p < Size * Size; p++)
        {
            for (int c = 0; c < M; c++) plane[p * M + c] += 100;
        }
        using (no_grad()) context.weight.add_(1);
        var after = new double[2 * M];
        parameters.Compute(plane, Size, 0, 0, hyper, after);
        CollectionAssert.AreEqual(before, after);
        // A position before the centre (1, 4) changed: another output.
        plane[(1 * Size + 4) * M] += 1;
        parameters.Compute(plane, Size, 0, 0, hyper, after);
        CollectionAssert.AreNotEqual(before, after);
    }

    [TestMethod]
    public void NetworksItCannotCompute_AreRefused_WithMemberAndLayer()
    {
        using var scope = NewDisposeScope();
        var context = new MaskedConv2d(3, 6);
        void Refused(Sequential network, string message)
        {
            var error = Assert.ThrowsExactly<NotSupportedException>(() => new ContextParameters("Model.compress", context, network));
            Assert.AreEqual(message, error.Message);
        }
        Refused(nn.Sequential(nn.Conv2d(12, 6, 3)), "Model.compress: entropy-parameter layer 0 (Conv2d) is not a 1×1 convolution of stride 1 without padding or groups, or a LeakyReLU after one.");
        Refused(nn.Sequential(nn.Conv2d(12, 6, (1, 1), stride: (1, 2))), "Model.compress: entropy-parameter layer 0 (Conv2d) is not a 1×1 convolution of stride 1 without padding or groups, or a LeakyReLU after one.");
        Refused(nn.Sequential(nn.Conv2d(12, 6, (1, 1), padding: (1, 0))), "Model.compress: entropy-parameter layer 0 (Conv2d) is not a 1×1 convolution of stride 1 without padding or groups, or a LeakyReLU after one.");
        Refused(nn.Sequential(nn.Conv2d(12, 6, 1, stride: 2)), "Model.compress: entropy-parameter layer 0 (Conv2d) is not a 1×1 convolution of stride 1 without padding or groups, or a LeakyReLU after one.");
        Refused(nn.Sequential(nn.Conv2d(12, 6, 1, padding: 1)), "Model.compress: entropy-parameter layer 0 (Conv2d) is not a 1×1 convolution of stride 1 without padding or groups, or a LeakyReLU after one.");
        Refused(nn.Sequential(nn.Conv2d(12, 6, 1, groups: 2)), "Model.compress: entropy-parameter layer 0 (Conv2d) is not a 1×1 convolution of stride 1 without padding or groups, or a LeakyReLU after one.");
        Refused(nn.Sequential(nn.Conv2d(12, 6, 1), nn.ReLU()), "Model.compress: entropy-parameter layer 1 (ReLU) is not a 1×1 convolution of stride 1 without padding or groups, or a LeakyReLU after one.");
        Refused(nn.Sequential(nn.Conv2d(12, 6, 1), nn.LeakyReLU(), nn.LeakyReLU()), "Model.compress: entropy-parameter layer 2 (LeakyReLU) is not a 1×1 convolution of stride 1 without padding or groups, or a LeakyReLU after one.");
        Refused(nn.Sequential(nn.Conv2d(6, 6, 1)), "Model.compress: the entropy-parameter network's first layer must take the hyperprior's channels and the context's 6.");
        Refused(nn.Sequential(), "Model.compress: the entropy-parameter network's first layer must take the hyperprior's channels and the context's 6.");
        Refused(nn.Sequential(nn.Conv2d(12, 8, 1), nn.Conv2d(7, 6, 1)), "Model.compress: entropy-parameter layer 1 takes 7 channels; the one before gives 8.");
    }
}
