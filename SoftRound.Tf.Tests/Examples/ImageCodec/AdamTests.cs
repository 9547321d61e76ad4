using System;
using System.IO;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using KeptAdam = ImageCodec.Adam;

namespace SoftRound.Tf.Tests.Examples.ImageCodec;

[TestClass]
public sealed class AdamTests
{
    private static Parameter[] Parameters(int seed)
    {
        var g = new Generator((ulong)seed);
        return new[] { new Parameter(randn(new long[] { 3, 4 }, generator: g)), new Parameter(randn(new long[] { 5 }, generator: g)), new Parameter(randn(new long[] { 2 }, generator: g)) };
    }

    /// <summary>Steps of <paramref name="optimizer"/> on Σ cos(3θ)·θ² (the last parameter left without a gradient).</summary>
    private static void Steps(OptimizerHelper optimizer, Parameter[] parameters, int count)
    {
        for (int i = 0; i < count; i++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            parameters.Take(2).Select(p => ((p * 3).cos() * p * p).sum()).Aggregate((a, b) => a - b.neg()).backward();
            optimizer.step();
        }
    }

    [TestMethod]
    public void Steps_AreTorchSharpsAdams_BitForBit_UnderItsSchedule()
    {
        Parameter[] ours = Parameters(1), theirs = Parameters(1);
        using var kept = new KeptAdam(ours, 0.05);
        using var adam = optim.Adam(theirs, 0.05);
        var ourDecay = optim.lr_scheduler.MultiStepLR(kept, new[] { 7 }, 0.1);
        var theirDecay = optim.lr_scheduler.MultiStepLR(adam, new[] { 7 }, 0.1);
        for (int i = 0; i < 12; i++)
        {
            Steps(kept, ours, 1);
            Steps(adam, theirs, 1);
            ourDecay.step();
            theirDecay.step();
        }
        for (int k = 0; k < ours.Length; k++) TensorAssert.Identical(theirs[k], ours[k]);
        Assert.IsFalse(ours[0].eq(Parameters(1)[0]).all().item<bool>(), "the parameters moved");
        TensorAssert.Identical(Parameters(1)[2], ours[2]);
    }

    [TestMethod]
    public void States_LoadEachWayBetweenKeptAdamAndTorchSharpsAdam()
    {
        Parameter[] first = Parameters(2), second = Parameters(2), third = Parameters(2);
        using var kept = new KeptAdam(first, 0.02);
        Steps(kept, first, 5);
        using var adam = optim.Adam(second, 0.02);
        Steps(adam, second, 5);
        var stream = new MemoryStream();
        kept.save_state_dict(new BinaryWriter(stream));
        stream.Position = 0;
        using var loaded = optim.Adam(third, 0.02);
        loaded.load_state_dict(new BinaryReader(stream));
        using (no_grad()) for (int k = 0; k < third.Length; k++) third[k].copy_(first[k]);
        Steps(loaded, third, 4);
        Steps(kept, first, 4);
        for (int k = 0; k < first.Length; k++) TensorAssert.Identical(third[k], first[k]);

        var back = new MemoryStream();
        adam.save_state_dict(new BinaryWriter(back));
        back.Position = 0;
        Parameter[] fourth = Parameters(2);
        using var keptAgain = new KeptAdam(fourth, 0.02);
        keptAgain.load_state_dict(new BinaryReader(back));
        using (no_grad()) for (int k = 0; k < fourth.Length; k++) fourth[k].copy_(second[k]);
        Steps(keptAgain, fourth, 4);
        Steps(adam, second, 4);
        for (int k = 0; k < second.Length; k++) TensorAssert.Identical(second[k], fourth[k]);
    }

    [TestMethod]
    public void ALoadedWeightDecay_StepsAsTorchSharpsAdamWithIt()
    {
        Parameter[] ours = Parameters(5), theirs = Parameters(5);
        using var decaying = optim.Adam(theirs, 0.03, weight_decay: 0.1);
        var stream = new MemoryStream();
        decaying.save_state_dict(new BinaryWriter(stream));
        stream.Position = 0;
        using var kept = new KeptAdam(ours, 0.03);
        kept.load_state_dict(new BinaryReader(stream));
        Steps(kept, ours, 5);
        Steps(decaying, theirs, 5);
        for (int k = 0; k < ours.Length; k++) TensorAssert.Identical(theirs[k], ours[k]);
        Parameter[] plain = Parameters(5);
        using var undecayed = new KeptAdam(plain, 0.03);
        Steps(undecayed, plain, 5);
        Assert.IsFalse(plain[0].eq(ours[0]).all().item<bool>(), "the decay changed the steps");
    }

    [TestMethod]
    public void ALoadedStateAskingForAmsgrad_IsRefused_WithTheParametersUntouched()
    {
        Parameter[] parameters = Parameters(3), other = Parameters(3);
        using var amsgrad = optim.Adam(other, 0.01, amsgrad: true);
        var stream = new MemoryStream();
        amsgrad.save_state_dict(new BinaryWriter(stream));
        stream.Position = 0;
        using var kept = new KeptAdam(parameters, 0.01);
        kept.load_state_dict(new BinaryReader(stream));
        Tensor before = parameters[0].detach().clone();
        var error = Assert.ThrowsExactly<NotSupportedException>(() => Steps(kept, parameters, 1));
        StringAssert.Contains(error.Message, "Adam.step: amsgrad and maximize are not supported");
        TensorAssert.Identical(before, parameters[0]);
    }

    [TestMethod]
    public void Steps_LeaveNoTensorBehind()
    {
        Parameter[] parameters = Parameters(4);
        using var kept = new KeptAdam(parameters, 0.01);
        Steps(kept, parameters, 2);
        long before = LiveTensors.Count();
        Steps(kept, parameters, 3);
        Assert.AreEqual(before, LiveTensors.Count());
    }
}
