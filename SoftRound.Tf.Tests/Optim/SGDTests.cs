using System;
using System.IO;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp;
using TorchSharp.Modules;
using static SoftRound.Tf.Tests.Optim.OptimizerRuns;
using static TorchSharp.torch;
using KeptSGD = SoftRound.Tf.Optim.SGD;

namespace SoftRound.Tf.Tests.Optim;

[TestClass]
public sealed class SGDTests
{
    [TestMethod]
    [DataRow(0.0, 0.0, 0.0, false, false, DisplayName = "plain")]
    [DataRow(0.9, 0.0, 0.0, false, false, DisplayName = "momentum")]
    [DataRow(0.9, 0.3, 0.0, false, false, DisplayName = "dampening")]
    [DataRow(0.8, 0.0, 0.0, true, false, DisplayName = "nesterov")]
    [DataRow(0.0, 0.0, 0.1, false, false, DisplayName = "weight decay")]
    [DataRow(0.0, 0.0, 0.0, false, true, DisplayName = "maximize")]
    [DataRow(0.7, 0.0, 0.05, true, true, DisplayName = "all")]
    public void Steps_AreTorchSharpsSGDs_BitForBit_UnderItsSchedule(double momentum, double dampening, double weightDecay, bool nesterov, bool maximize)
    {
        Parameter[] ours = Parameters(1), theirs = Parameters(1);
        using var kept = new KeptSGD(ours, 0.02, momentum, dampening, weightDecay, nesterov, maximize);
        using var sgd = optim.SGD(theirs, 0.02, momentum, dampening, weightDecay, nesterov, maximize);
        AssertSameStepsUnderASchedule(kept, ours, sgd, theirs, 1);
    }

    [TestMethod]
    public void TheOptions_ChangeTheSteps()
    {
        Parameter[] Run(Func<Parameter[], KeptSGD> make)
        {
            Parameter[] p = Parameters(6);
            using KeptSGD optimizer = make(p);
            Steps(optimizer, p, 6);
            return p;
        }
        Parameter[] momentum = Run(p => new KeptSGD(p, 0.02, momentum: 0.9));
        Assert.IsTrue(Differ(Run(p => new KeptSGD(p, 0.02)), momentum), "momentum changed nothing");
        Assert.IsTrue(Differ(Run(p => new KeptSGD(p, 0.02, momentum: 0.9, dampening: 0.5)), momentum), "dampening changed nothing");
        Assert.IsTrue(Differ(Run(p => new KeptSGD(p, 0.02, momentum: 0.9, nesterov: true)), momentum), "nesterov changed nothing");
        Assert.IsTrue(Differ(Run(p => new KeptSGD(p, 0.02, momentum: 0.9, weight_decay: 0.5)), momentum), "the weight decay changed nothing");
        Assert.IsTrue(Differ(Run(p => new KeptSGD(p, 0.02, momentum: 0.9, maximize: true)), momentum), "maximize changed nothing");
    }

    [TestMethod]
    public void ParameterGroups_AndStates_AreTorchSharpsSGDs()
    {
        KeptSGD.ParamGroup[] Groups(Parameter[] p) => new[]
        {
            new KeptSGD.ParamGroup(p.Take(1), lr: 0.02, momentum: 0.9, nesterov: true),
            new KeptSGD.ParamGroup(p.Skip(1), lr: 0.05, momentum: 0.5, dampening: 0.2, weight_decay: 0.1),
        };
        Parameter[] ours = Parameters(7), theirs = Parameters(7), resumed = Parameters(7);
        using var kept = new KeptSGD(Groups(ours), 0.01);
        using var sgd = optim.SGD(Groups(theirs), 0.01);
        Steps(kept, ours, 5);
        Steps(sgd, theirs, 5);
        AssertIdentical(theirs, ours);
        using var loaded = new KeptSGD(Groups(resumed), 0.01);
        AssertResumes(sgd, theirs, loaded, resumed);
    }

    [TestMethod]
    [DataRow("lr", double.NaN)]
    [DataRow("lr", -0.1)]
    [DataRow("momentum", -0.5)]
    [DataRow("momentum", double.PositiveInfinity)]
    [DataRow("weight_decay", -1.0)]
    [DataRow("dampening", double.NaN)]
    public void Constructors_RefuseAnOptionOutOfRange_NamingIt(string name, double value)
    {
        double Or(string option, double fallback) => option == name ? value : fallback;
        Parameter[] parameters = Parameters(9);
        foreach (Func<KeptSGD> make in new Func<KeptSGD>[]
        {
            () => new KeptSGD(parameters, Or("lr", 0.1), Or("momentum", 0), Or("dampening", 0), Or("weight_decay", 0)),
            () => new KeptSGD(new[] { new KeptSGD.ParamGroup(parameters) }, Or("lr", 0.1), Or("momentum", 0), Or("dampening", 0), Or("weight_decay", 0)),
        })
        {
            var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => make());
            Assert.AreEqual(name, error.ParamName);
            StringAssert.StartsWith(error.Message, $"SGD: {name} must be");
            StringAssert.Contains(error.Message, $"it is {value}");
        }
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }

    [TestMethod]
    [DataRow(0.0, 0.0)]
    [DataRow(0.9, 0.1)]
    public void Nesterov_WithoutMomentumOrWithDampening_IsRefused(double momentum, double dampening)
    {
        Parameter[] parameters = Parameters(10);
        var error = Assert.ThrowsExactly<ArgumentException>(() => new KeptSGD(parameters, 0.1, momentum, dampening, nesterov: true));
        Assert.AreEqual("nesterov", error.ParamName);
        StringAssert.StartsWith(error.Message, $"SGD: nesterov needs a momentum above 0 and a dampening of 0; they are {momentum} and {dampening}.");
        // The edge of the range: any momentum above 0 with no dampening.
        using var taken = new KeptSGD(parameters, 0.1, 1e-9, 0, nesterov: true);
        var nullError = Assert.ThrowsExactly<ArgumentNullException>(() => new KeptSGD((Parameter[])null!, 0.1));
        StringAssert.StartsWith(nullError.Message, "SGD: parameters is null.");
        Assert.AreEqual("groups", Assert.ThrowsExactly<ArgumentNullException>(() => new KeptSGD((KeptSGD.ParamGroup[])null!, 0.1)).ParamName);
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }

    [TestMethod]
    public void Step_RefusesAGroupWithBadOptions_WithNoParameterMoved()
    {
        Parameter[] parameters = Parameters(3);
        using var kept = new KeptSGD(new[] { new KeptSGD.ParamGroup(parameters.Take(1), lr: 0.1), new KeptSGD.ParamGroup(parameters.Skip(1), lr: 0.1, momentum: 0, nesterov: true) }, 0.1);
        Tensor[] before = parameters.Select(p => p.detach().clone()).ToArray();
        var error = Assert.ThrowsExactly<ArgumentException>(() => Steps(kept, parameters, 1));
        StringAssert.StartsWith(error.Message, "SGD.step: nesterov (parameter group 1) needs a momentum above 0");
        for (int k = 0; k < parameters.Length; k++) TensorAssert.Identical(before[k], parameters[k]);
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void Steps_LeaveNoTensorBehind_AndDisposeFreesTheState(bool groups)
    {
        Parameter[] parameters = Parameters(4);
        long start = LiveTensors.Count();
        var kept = groups ? new KeptSGD(new[] { new KeptSGD.ParamGroup(parameters, 0.01, momentum: 0.9, weight_decay: 0.1, nesterov: true) }, 0.01) : new KeptSGD(parameters, 0.01, momentum: 0.9, weight_decay: 0.1, nesterov: true);
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
