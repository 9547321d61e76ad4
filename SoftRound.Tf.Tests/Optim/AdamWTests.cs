using System;
using System.IO;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp;
using TorchSharp.Modules;
using static SoftRound.Tf.Tests.Optim.OptimizerRuns;
using static TorchSharp.torch;
using KeptAdamW = SoftRound.Tf.Optim.AdamW;

namespace SoftRound.Tf.Tests.Optim;

[TestClass]
public sealed class AdamWTests
{
    [TestMethod]
    [DataRow(0.0, false, false, DisplayName = "plain")]
    [DataRow(0.1, false, false, DisplayName = "weight decay")]
    [DataRow(0.0, true, false, DisplayName = "amsgrad")]
    [DataRow(0.0, false, true, DisplayName = "maximize")]
    [DataRow(0.05, true, true, DisplayName = "all three")]
    public void Steps_AreTorchSharpsAdamWs_BitForBit_UnderItsSchedule(double weightDecay, bool amsgrad, bool maximize)
    {
        Parameter[] ours = Parameters(1), theirs = Parameters(1);
        using var kept = new KeptAdamW(ours, 0.05, 0.8, 0.99, 1e-6, weightDecay, amsgrad, maximize);
        using var adamw = optim.AdamW(theirs, 0.05, 0.8, 0.99, 1e-6, weightDecay, amsgrad, maximize);
        AssertSameStepsUnderASchedule(kept, ours, adamw, theirs, 1);
    }

    [TestMethod]
    public void TheWeightDecay_IsDecoupled_NotAdamsL2Term()
    {
        Parameter[] decoupled = Parameters(6), coupled = Parameters(6), plain = Parameters(6);
        using (var w = new KeptAdamW(decoupled, 0.05, weight_decay: 0.5)) Steps(w, decoupled, 6);
        using (var a = new SoftRound.Tf.Optim.Adam(coupled, 0.05, weight_decay: 0.5)) Steps(a, coupled, 6);
        using (var p = new KeptAdamW(plain, 0.05)) Steps(p, plain, 6);
        Assert.IsTrue(Differ(decoupled, coupled), "AdamW's decay is not Adam's");
        Assert.IsTrue(Differ(decoupled, plain), "the decay changed the steps");
    }

    [TestMethod]
    public void ParameterGroups_AndStates_AreTorchSharpsAdamWs()
    {
        KeptAdamW.ParamGroup[] Groups(Parameter[] p) => new[]
        {
            new KeptAdamW.ParamGroup(p.Take(1), lr: 0.02, beta1: 0.7, weight_decay: 0.3, amsgrad: true),
            new KeptAdamW.ParamGroup(p.Skip(1), lr: 0.1, maximize: true),
        };
        Parameter[] ours = Parameters(7), theirs = Parameters(7), resumed = Parameters(7);
        using var kept = new KeptAdamW(Groups(ours), 0.05);
        using var adamw = optim.AdamW(Groups(theirs), 0.05);
        Steps(kept, ours, 5);
        Steps(adamw, theirs, 5);
        AssertIdentical(theirs, ours);
        using var loaded = new KeptAdamW(Groups(resumed), 0.05);
        AssertResumes(adamw, theirs, loaded, resumed);
    }

    [TestMethod]
    [DataRow("lr", double.NaN)]
    [DataRow("eps", -1e-8)]
    [DataRow("weight_decay", double.PositiveInfinity)]
    [DataRow("beta1", 1.0)]
    [DataRow("beta2", -0.5)]
    public void Constructors_RefuseAnOptionOutOfRange_NamingIt(string name, double value)
    {
        double Or(string option, double fallback) => option == name ? value : fallback;
        Parameter[] parameters = Parameters(9);
        foreach (Func<KeptAdamW> make in new Func<KeptAdamW>[]
        {
            () => new KeptAdamW(parameters, Or("lr", 1e-3), Or("beta1", 0.9), Or("beta2", 0.999), Or("eps", 1e-8), Or("weight_decay", 0)),
            () => new KeptAdamW(new[] { new KeptAdamW.ParamGroup(parameters) }, Or("lr", 1e-3), Or("beta1", 0.9), Or("beta2", 0.999), Or("eps", 1e-8), Or("weight_decay", 0)),
        })
        {
            var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => make());
            Assert.AreEqual(name, error.ParamName);
            StringAssert.StartsWith(error.Message, $"AdamW: {name} must be");
        }
        var nullError = Assert.ThrowsExactly<ArgumentNullException>(() => new KeptAdamW((Parameter[])null!));
        StringAssert.StartsWith(nullError.Message, "AdamW: parameters is null.");
        Assert.AreEqual("groups", Assert.ThrowsExactly<ArgumentNullException>(() => new KeptAdamW((KeptAdamW.ParamGroup[])null!)).ParamName);
        // Refused optimizers are finalized without disposing a state they never made.
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }

    [TestMethod]
    public void Step_RefusesAGroupWithAnOptionOutOfRange_WithNoParameterMoved()
    {
        Parameter[] parameters = Parameters(3);
        using var kept = new KeptAdamW(new[] { new KeptAdamW.ParamGroup(parameters.Take(1)), new KeptAdamW.ParamGroup(parameters.Skip(1), weight_decay: -1) });
        Tensor[] before = parameters.Select(p => p.detach().clone()).ToArray();
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Steps(kept, parameters, 1));
        StringAssert.StartsWith(error.Message, "AdamW.step: weight_decay (parameter group 1) must be finite and at least 0; it is -1.");
        for (int k = 0; k < parameters.Length; k++) TensorAssert.Identical(before[k], parameters[k]);
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void Steps_LeaveNoTensorBehind_AndDisposeFreesTheState(bool groups)
    {
        Parameter[] parameters = Parameters(4);
        long start = LiveTensors.Count();
        var kept = groups ? new KeptAdamW(new[] { new KeptAdamW.ParamGroup(parameters) }, 0.01, weight_decay: 0.1, amsgrad: true) : new KeptAdamW(parameters, 0.01, weight_decay: 0.1, amsgrad: true);
        Steps(kept, parameters, 2);
        long before = LiveTensors.Count();
        Steps(kept, parameters, 3);
        Assert.AreEqual(before, LiveTensors.Count());
        foreach (Parameter p in parameters)
        {
            p.grad?.Dispose();
            p.grad = null;
        }
        kept.Dispose();
        long after = LiveTensors.Count();
        GC.KeepAlive(kept);
        Assert.AreEqual(start, after);
    }
}
