using System;
using System.Collections.Generic;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Internals;
using SoftRound.Tf.Internals.Formulas;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Internals;

/// <summary>The contract of <see cref="IElementwiseFormula.Partials"/>: each partial only when asked for, null otherwise.</summary>
[TestClass]
public sealed class IElementwiseFormulaTests
{
    private static readonly Dictionary<string, Func<Tensor, Tensor, bool, bool, (Tensor? dx, Tensor? da)>> Formulas = new()
    {
        ["differentiable_round"] = DifferentiableRoundFormula.Partials,
        ["soft_round"] = SoftRoundFormula.Partials,
        ["soft_round_inverse"] = SoftRoundInverseFormula.Partials,
        ["soft_round_conditional_mean"] = SoftRoundConditionalMeanFormula.Partials,
        ["ste_soft_round"] = SteSoftRoundFormula.Partials,
    };

    public static IEnumerable<object[]> Names()
    {
        foreach (string name in Formulas.Keys) yield return new object[] { name };
    }

    [TestMethod]
    [DynamicData(nameof(Names))]
    public void Partials_AreComputedOnlyWhenAskedFor(string name)
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(new[] { -1.3, 0.2, 0.7 }, ScalarType.Float64), a = tensor(3.0, ScalarType.Float64);
        var partials = Formulas[name];
        (Tensor? dx, Tensor? da) = partials(x, a, true, false);
        Assert.IsNotNull(dx);
        Assert.IsNull(da);
        (dx, da) = partials(x, a, false, true);
        Assert.IsNull(dx);
        Assert.AreEqual(name != "ste_soft_round", da is not null, "ste_soft_round gives α no gradient");
        (dx, da) = partials(x, a, false, false);
        Assert.IsNull(dx);
        Assert.IsNull(da);
    }
}
