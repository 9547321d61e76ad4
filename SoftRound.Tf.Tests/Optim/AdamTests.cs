using System;
using System.IO;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using KeptAdam = SoftRound.Tf.Optim.Adam;
using static SoftRound.Tf.Tests.Optim.OptimizerRuns;

namespace SoftRound.Tf.Tests.Optim;

[TestClass]
public sealed class AdamTests
{
    [TestMethod]
    [DataRow(0.0, false, false, DisplayName = "plain")]
    [DataRow(0.1, false, false, DisplayName = "weight decay")]
    [DataRow(0.0, true, false, DisplayName = "amsgrad")]
    [DataRow(0.0, false, true, DisplayName = "maximize")]
    [DataRow(0.05, true, true, DisplayName = "all three")]
    public void Steps_AreTorchSharpsAdams_BitForBit_UnderItsSchedule(double weightDecay, bool amsgrad, bool maximize)
    {
        Parameter[] ours = Parameters(1), theirs = Parameters(1);
        using var kept = new KeptAdam(ours, 0.05, 0.8, 0.99, 1e-6, weightDecay, amsgrad, maximize);
        using var adam = optim.Adam(theirs, 0.05, 0.8, 0.99, 1e-6, weightDecay, amsgrad, maximize);
        AssertSameStepsUnderASchedule(kept, ours, adam, theirs, 1);
    }

    [TestMethod]
    public void TheEdgesOfTheOptionsRanges_AreTaken_AsTorchSharpTakesThem()
    {
        // β = 0 (no averaging), ε = 0 and lr = 0 are in range.
        Parameter[] ours = Parameters(10), theirs = Parameters(10);
        using var kept = new KeptAdam(ours, 0.05, beta1: 0, beta2: 0, eps: 0);
        using var adam = optim.Adam(theirs, 0.05, beta1: 0, beta2: 0, eps: 0);
        Steps(kept, ours, 4);
        Steps(adam, theirs, 4);
        AssertIdentical(theirs, ours);
        Parameter[] still = Parameters(10);
        using var idle = new KeptAdam(still, 0);
        Steps(idle, still, 2);
        AssertIdentical(Parameters(10), still);
    }

    [TestMethod]
    public void TheOptions_ChangeTheSteps()
    {
        // Each option, on its own, moves the parameters elsewhere than the plain steps: none is ignored.
        Parameter[] Run(Func<Parameter[], KeptAdam> make)
        {
            Parameter[] p = Parameters(6);
            using KeptAdam optimizer = make(p);
            Steps(optimizer, p, 6);
            return p;
        }
        Parameter[] plain = Run(p => new KeptAdam(p, 0.05));
        foreach ((string name, Func<Parameter[], KeptAdam> make) in new (string, Func<Parameter[], KeptAdam>)[]
        {
            ("beta1", p => new KeptAdam(p, 0.05, beta1: 0.5)), ("beta2", p => new KeptAdam(p, 0.05, beta2: 0.9)),
            ("eps", p => new KeptAdam(p, 0.05, eps: 0.1)), ("weight_decay", p => new KeptAdam(p, 0.05, weight_decay: 0.5)),
            ("amsgrad", p => new KeptAdam(p, 0.05, amsgrad: true)), ("maximize", p => new KeptAdam(p, 0.05, maximize: true)),
        })
        {
            Parameter[] other = Run(make);
            Assert.IsFalse(other[0].eq(plain[0]).all().item<bool>(), $"{name} changed nothing");
        }
    }

    [TestMethod]
    public void ParameterGroups_StepWithTheirOwnOptions_AsTorchSharpsAdam()
    {
        Parameter[] ours = Parameters(7), theirs = Parameters(7);
        KeptAdam.ParamGroup[] Groups(Parameter[] p) => new[]
        {
            new KeptAdam.ParamGroup(p.Take(1), lr: 0.02, beta1: 0.7, amsgrad: true),
            new KeptAdam.ParamGroup(p.Skip(1), lr: 0.1, weight_decay: 0.2, maximize: true),
        };
        using var kept = new KeptAdam(Groups(ours), 0.05);
        using var adam = optim.Adam(Groups(theirs), 0.05);
        Steps(kept, ours, 9);
        Steps(adam, theirs, 9);
        AssertIdentical(theirs, ours);
    }

    [TestMethod]
    public void States_LoadEachWayBetweenThisAdamAndTorchSharps()
    {
        Parameter[] first = Parameters(2), second = Parameters(2), third = Parameters(2);
        using var kept = new KeptAdam(first, 0.02, amsgrad: true);
        Steps(kept, first, 5);
        using var adam = optim.Adam(second, 0.02, amsgrad: true);
        Steps(adam, second, 5);
        using var loaded = optim.Adam(third, 0.02);
        AssertResumes(kept, first, loaded, third);
        Parameter[] fourth = Parameters(2);
        using var keptAgain = new KeptAdam(fourth, 0.02);
        AssertResumes(adam, second, keptAgain, fourth);
    }

    [TestMethod]
    public void Step_GivesTheClosuresLoss()
    {
        Parameter[] parameters = Parameters(8);
        using var kept = new KeptAdam(parameters, 0.01);
        using var scope = NewDisposeScope();
        double expected = Loss(parameters).item<float>();
        Tensor loss = kept.step(() =>
        {
            kept.zero_grad();
            Tensor value = Loss(parameters);
            value.backward();
            return value;
        });
        Assert.AreEqual(expected, loss.item<float>());
        Assert.AreNotEqual(expected, Loss(parameters).item<float>(), "the step moved the parameters");
    }

    [TestMethod]
    [DataRow("lr", double.NaN)]
    [DataRow("lr", -1e-3)]
    [DataRow("eps", double.PositiveInfinity)]
    [DataRow("eps", -1e-8)]
    [DataRow("weight_decay", -0.1)]
    [DataRow("beta1", 1.0)]
    [DataRow("beta1", -0.1)]
    [DataRow("beta2", double.NaN)]
    [DataRow("beta2", 1.5)]
    public void Constructors_RefuseAnOptionOutOfRange_NamingIt(string name, double value)
    {
        double Or(string option, double fallback) => option == name ? value : fallback;
        Parameter[] parameters = Parameters(9);
        foreach (Func<KeptAdam> make in new Func<KeptAdam>[]
        {
            () => new KeptAdam(parameters, Or("lr", 1e-3), Or("beta1", 0.9), Or("beta2", 0.999), Or("eps", 1e-8), Or("weight_decay", 0)),
            () => new KeptAdam(new[] { new KeptAdam.ParamGroup(parameters) }, Or("lr", 1e-3), Or("beta1", 0.9), Or("beta2", 0.999), Or("eps", 1e-8), Or("weight_decay", 0)),
        })
        {
            var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => make());
            Assert.AreEqual(name, error.ParamName);
            StringAssert.StartsWith(error.Message, $"Adam: {name} must be");
            StringAssert.Contains(error.Message, $"it is {value}");
        }
        // The refused optimizers are finalized without disposing a state they never made (TorchSharp's Dispose would
        // throw on the finalizer thread and end the process).
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }

    [TestMethod]
    public void Constructors_RefuseNull()
    {
        var error = Assert.ThrowsExactly<ArgumentNullException>(() => new KeptAdam((Parameter[])null!));
        Assert.AreEqual("parameters", error.ParamName);
        StringAssert.StartsWith(error.Message, "Adam: parameters is null.");
        Assert.AreEqual("groups", Assert.ThrowsExactly<ArgumentNullException>(() => new KeptAdam((KeptAdam.ParamGroup[])null!)).ParamName);
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }

    [TestMethod]
    public void Step_RefusesAGroupWithAnOptionOutOfRange_WithNoParameterMoved()
    {
        Parameter[] parameters = Parameters(3);
        using var kept = new KeptAdam(new[] { new KeptAdam.ParamGroup(parameters.Take(1), lr: 0.01), new KeptAdam.ParamGroup(parameters.Skip(1), beta2: 1.0) });
        Tensor[] before = parameters.Select(p => p.detach().clone()).ToArray();
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Steps(kept, parameters, 1));
        Assert.AreEqual("beta2", error.ParamName);
        StringAssert.StartsWith(error.Message, "Adam.step: beta2 (parameter group 1) must be in [0, 1); it is 1.");
        for (int k = 0; k < parameters.Length; k++) TensorAssert.Identical(before[k], parameters[k]);
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void Dispose_FreesTheState(bool groups)
    {
        Parameter[] parameters = Parameters(11);
        long before = LiveTensors.Count();
        var kept = groups ? new KeptAdam(new[] { new KeptAdam.ParamGroup(parameters) }, 0.01, amsgrad: true) : new KeptAdam(parameters, 0.01, amsgrad: true);
        Steps(kept, parameters, 2);
        foreach (Parameter p in parameters) p.grad?.Dispose();
        foreach (Parameter p in parameters) p.grad = null;
        Assert.IsTrue(Tensor.TotalCount > before, "the optimizer holds a state");
        kept.Dispose();
        long after = LiveTensors.Count();
        // Alive while counted: a finalized optimizer's state would be freed by the collector instead.
        GC.KeepAlive(kept);
        Assert.AreEqual(before, after);
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void Steps_LeaveNoTensorBehind(bool amsgrad)
    {
        Parameter[] parameters = Parameters(4);
        using var kept = new KeptAdam(parameters, 0.01, amsgrad: amsgrad, weight_decay: 0.1, maximize: true);
        Steps(kept, parameters, 2);
        long before = LiveTensors.Count();
        Steps(kept, parameters, 3);
        Assert.AreEqual(before, LiveTensors.Count());
    }
}
