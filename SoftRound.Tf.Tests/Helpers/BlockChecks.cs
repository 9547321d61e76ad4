using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Helpers;

/// <summary>What every block of CompressAI's layers (residual, attention) is checked for besides its formula.</summary>
internal static class BlockChecks
{
    /// <summary>The block's parameters by state-dict key.</summary>
    public static Dictionary<string, Tensor> Parameters(nn.Module block) => block.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);

    /// <summary>A 3×3 convolution with padding 1 (and <paramref name="stride"/>) from the block's parameters under <paramref name="key"/>.</summary>
    public static Tensor Conv3x3(Dictionary<string, Tensor> p, string key, Tensor x, long stride = 1) =>
        nn.functional.conv2d(x, p[key + ".weight"], p[key + ".bias"], strides: new[] { stride, stride }, padding: new long[] { 1, 1 });

    /// <summary>A 1×1 convolution (with <paramref name="stride"/>) from the block's parameters under <paramref name="key"/>.</summary>
    public static Tensor Conv1x1(Dictionary<string, Tensor> p, string key, Tensor x, long stride = 1) =>
        nn.functional.conv2d(x, p[key + ".weight"], p[key + ".bias"], strides: new[] { stride, stride });

    /// <summary>
    /// A 3×3 sub-pixel convolution by <paramref name="r"/> from the parameters under <paramref name="key"/> (its
    /// convolution is child 0): channel c·r² + i·r + j at (h, w) goes to channel c at (r·h + i, r·w + j).
    /// </summary>
    public static Tensor SubpelConv3x3(Dictionary<string, Tensor> p, string key, Tensor x, long r)
    {
        Tensor h = Conv3x3(p, key + ".0", x);
        long n = h.shape[0], c = h.shape[1] / (r * r), height = h.shape[2], width = h.shape[3];
        return h.reshape(n, c, r, r, height, width).permute(0, 1, 4, 2, 5, 3).reshape(n, c, height * r, width * r);
    }

    /// <summary>GDN (or IGDN) from the parameters under <paramref name="key"/>, stored as CompressAI stores them: β = max(v, b)² − 2⁻³⁶.</summary>
    public static Tensor Gdn(Dictionary<string, Tensor> p, string key, Tensor x, bool inverse)
    {
        const double Pedestal = 1.0 / (1L << 36);
        long c = x.shape[1];
        Tensor beta = p[key + ".beta"].pow(2) - Pedestal, gamma = p[key + ".gamma"].pow(2) - Pedestal;
        Tensor norm = beta.reshape(1, -1, 1, 1) + nn.functional.conv2d(x.pow(2), gamma.reshape(c, c, 1, 1));
        return inverse ? x * norm.sqrt() : x / norm.sqrt();
    }

    /// <summary>Moves every GDN parameter of the block up by a seeded amount in [0, 0.2), away from its initial value.</summary>
    public static void MoveGdnParameters(nn.Module block)
    {
        using var noGrad = no_grad();
        foreach (var (name, q) in block.named_parameters().Where(q => q.name.EndsWith(".beta") || q.name.EndsWith(".gamma"))) q.add_(rand_like(q).mul_(0.2));
    }

    /// <summary>
    /// The block's forward leaves x as it was, its gradient with respect to x matches central differences (float64),
    /// and calls leave no tensor behind.
    /// </summary>
    public static void AssertLeavesInputAndGradients(nn.Module<Tensor, Tensor> block, Tensor x)
    {
        block.to(ScalarType.Float64);
        Tensor before = x.clone();
        using (no_grad()) block.call(x).Dispose();
        TensorAssert.Identical(before, x);
        GradCheck.Assert(xs => block.call(xs[0]), x);
        long live = LiveTensors.Count();
        for (int i = 0; i < 3; i++)
        {
            using var scope = NewDisposeScope();
            block.call(x).sum().backward();
        }
        foreach (var p in block.parameters()) p.grad?.Dispose();
        block.zero_grad();
        Assert.AreEqual(live, LiveTensors.Count(), "live tensors after forward and backward");
    }

    /// <summary>The block refuses input of the wrong channels, rank or dtype with its member's name, and x is unchanged.</summary>
    public static void AssertRefusesBadInput(nn.Module<Tensor, Tensor> block, string name, long channels)
    {
        foreach (Tensor bad in new[] { zeros(1, channels + 1, 8, 8), zeros(channels, 8, 8), zeros(new long[] { 1, channels, 8, 8 }, ScalarType.Int32) })
        {
            Tensor copy = bad.clone();
            var e = Assert.ThrowsExactly<ArgumentException>(() => block.call(bad));
            Assert.AreEqual("x", e.ParamName);
            StringAssert.StartsWith(e.Message, $"{name}.forward: x has ");
            TensorAssert.Identical(copy, bad);
        }
    }
}
