using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Helpers;

/// <summary>
/// A finite-difference gradient checker (TorchSharp has no gradcheck): compares autograd's gradient of
/// L = Σ w·f(inputs), for fixed random weights w, with central differences (L(x + h) − L(x − h)) / 2h, in float64.
/// </summary>
internal static class GradCheck
{
    public const double Step = 1e-6, AbsoluteTolerance = 1e-5, RelativeTolerance = 1e-3;

    /// <summary>Fails the test when a gradient entry differs from its central difference by more than atol + rtol·|fd|.</summary>
    public static void Assert(Func<Tensor[], Tensor> f, params Tensor[] inputs)
    {
        string? failure = Compare(f, inputs);
        if (failure is not null) Microsoft.VisualStudio.TestTools.UnitTesting.Assert.Fail(failure);
    }

    /// <summary>Checks f's second derivatives: the gradient of ∂L/∂inputs (built with create_graph) against finite differences.</summary>
    public static void AssertSecondOrder(Func<Tensor[], Tensor> f, params Tensor[] inputs) =>
        Assert(xs => FirstDerivative(f, xs), inputs);

    /// <summary>
    /// ∂(Σ f(xs))/∂xs, concatenated and flattened, built with create_graph so it can be differentiated again.
    /// </summary>
    public static Tensor FirstDerivative(Func<Tensor[], Tensor> f, Tensor[] xs)
    {
        using Tensor y = f(xs);
        using Tensor total = y.sum();
        IList<Tensor> grads = autograd.grad(new[] { total }, xs, retain_graph: true, create_graph: true);
        return cat(grads.Select(g => g.flatten()).ToList(), 0);
    }

    /// <summary>
    /// Fails unless the float32 gradient of Σ op(x, α) with respect to a 0-dim α matches Σ reference(x, α), evaluated in
    /// double, within 2e−6 relative, at a few points.
    /// </summary>
    public static void AssertFloat32SteepnessGradient(Func<Tensor, Tensor, Tensor> op, Func<double, double, double> reference, double alpha)
    {
        using var scope = NewDisposeScope();
        float[] xs = { 0.3f, 0.8f, 1.1f, -0.45f };
        Tensor a = tensor((float)alpha).requires_grad_(true);
        op(tensor(xs), a).sum().backward();
        double expected = xs.Sum(v => reference(v, (float)alpha));
        Microsoft.VisualStudio.TestTools.UnitTesting.Assert.AreEqual(expected, a.grad!.item<float>(), 2e-6 * Math.Abs(expected));
    }

    /// <summary>The first mismatch as a message, or null when every entry agrees.</summary>
    public static string? Compare(Func<Tensor[], Tensor> f, Tensor[] inputs)
    {
        using var scope = NewDisposeScope();
        Tensor[] leaves = inputs.Select(x => x.to(ScalarType.Float64).detach().clone().requires_grad_(true)).ToArray();
        Tensor y = f(leaves);
        Tensor weights = Weights(y.shape);
        IList<Tensor> analytic = autograd.grad(new[] { (y * weights).sum() }, leaves, allow_unused: true);

        for (int i = 0; i < leaves.Length; i++)
        {
            Tensor point = leaves[i].detach().clone().flatten();
            Tensor expected = analytic[i] is null || analytic[i].IsInvalid
                ? zeros_like(point)
                : analytic[i].flatten();
            for (long j = 0; j < point.numel(); j++)
            {
                double numeric = CentralDifference(f, leaves, i, j, weights);
                double actual = expected[j].item<double>();
                if (!(Math.Abs(actual - numeric) <= AbsoluteTolerance + RelativeTolerance * Math.Abs(numeric)))
                {
                    return $"gradient of input {i} at flat index {j} (x = {point[j].item<double>():R}): " +
                           $"autograd {actual:R}, finite difference {numeric:R}";
                }
            }
        }
        return null;
    }

    private static double CentralDifference(Func<Tensor[], Tensor> f, Tensor[] leaves, int input, long index, Tensor weights)
    {
        using var scope = NewDisposeScope();
        double Loss(double offset)
        {
            Tensor[] shifted = leaves.Select(x => x.detach().clone()).ToArray();
            shifted[input].view(-1)[index].add_(offset);
            foreach (Tensor x in shifted) x.requires_grad_(true);
            return (f(shifted) * weights).sum().item<double>();
        }
        return (Loss(Step) - Loss(-Step)) / (2 * Step);
    }

    private static Tensor Weights(long[] shape)
    {
        using var generator = new Generator(12345);
        return rand(shape, ScalarType.Float64, generator: generator) + 0.5;
    }
}
