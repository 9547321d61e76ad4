using System.Linq;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Optim;

/// <summary>What the optimizer tests run: three seeded parameters, a loss on two of them, and steps on it.</summary>
internal static class OptimizerRuns
{
    /// <summary>A (3, 4), a (5) and a (2) parameter, standard normal from <paramref name="seed"/>.</summary>
    public static Parameter[] Parameters(int seed)
    {
        var g = new Generator((ulong)seed);
        return new[] { new Parameter(randn(new long[] { 3, 4 }, generator: g)), new Parameter(randn(new long[] { 5 }, generator: g)), new Parameter(randn(new long[] { 2 }, generator: g)) };
    }

    /// <summary>Σ cos(3θ)·θ² over the first two parameters (the last is left without a gradient).</summary>
    public static Tensor Loss(Parameter[] parameters) => parameters.Take(2).Select(p => ((p * 3).cos() * p * p).sum()).Aggregate((a, b) => a - b.neg());

    /// <summary>Steps of <paramref name="optimizer"/> on <see cref="Loss"/>.</summary>
    public static void Steps(OptimizerHelper optimizer, Parameter[] parameters, int count)
    {
        for (int i = 0; i < count; i++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            Loss(parameters).backward();
            optimizer.step();
        }
    }

    /// <summary>Each parameter bit for bit equal to the other's.</summary>
    public static void AssertIdentical(Parameter[] expected, Parameter[] actual)
    {
        for (int k = 0; k < expected.Length; k++) TensorAssert.Identical(expected[k], actual[k]);
    }

    /// <summary>Whether the first parameters differ somewhere.</summary>
    public static bool Differ(Parameter[] a, Parameter[] b) => !a[0].eq(b[0]).all().item<bool>();
}
