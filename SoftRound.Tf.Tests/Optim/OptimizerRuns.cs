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

    /// <summary>
    /// 12 steps of <paramref name="ours"/> and of <paramref name="theirs"/>, each on its own copy of
    /// <see cref="Parameters"/>(<paramref name="seed"/>) and under a MultiStepLR cutting tenfold after step 7: the same
    /// parameters bit for bit, moved, and the one without a gradient where it was.
    /// </summary>
    public static void AssertSameStepsUnderASchedule(OptimizerHelper ours, Parameter[] ourParameters, OptimizerHelper theirs, Parameter[] theirParameters, int seed)
    {
        var ourDecay = optim.lr_scheduler.MultiStepLR(ours, new[] { 7 }, 0.1);
        var theirDecay = optim.lr_scheduler.MultiStepLR(theirs, new[] { 7 }, 0.1);
        for (int i = 0; i < 12; i++)
        {
            Steps(ours, ourParameters, 1);
            Steps(theirs, theirParameters, 1);
            ourDecay.step();
            theirDecay.step();
        }
        AssertIdentical(theirParameters, ourParameters);
        Microsoft.VisualStudio.TestTools.UnitTesting.Assert.IsTrue(Differ(ourParameters, Parameters(seed)), "the parameters moved");
        TensorAssert.Identical(Parameters(seed)[2], ourParameters[2]);
    }

    /// <summary>
    /// <paramref name="from"/>'s state saved and loaded into <paramref name="into"/>, whose parameters take
    /// <paramref name="fromParameters"/>' values; then 4 steps of each: the same parameters bit for bit.
    /// </summary>
    public static void AssertResumes(OptimizerHelper from, Parameter[] fromParameters, OptimizerHelper into, Parameter[] intoParameters)
    {
        var stream = new System.IO.MemoryStream();
        from.save_state_dict(new System.IO.BinaryWriter(stream));
        stream.Position = 0;
        into.load_state_dict(new System.IO.BinaryReader(stream));
        using (no_grad()) for (int k = 0; k < intoParameters.Length; k++) intoParameters[k].copy_(fromParameters[k]);
        Steps(into, intoParameters, 4);
        Steps(from, fromParameters, 4);
        AssertIdentical(fromParameters, intoParameters);
    }

    /// <summary>Whether the first parameters differ somewhere.</summary>
    public static bool Differ(Parameter[] a, Parameter[] b) => !a[0].eq(b[0]).all().item<bool>();
}
