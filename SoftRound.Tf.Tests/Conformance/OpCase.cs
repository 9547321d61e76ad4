using System;
using System.Collections.Generic;
using System.Linq;
using SoftRound.Tf.Tests.Helpers;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Conformance;

/// <summary>
/// One op of <see cref="SoftRoundOps"/> as the conformance suite sees it: how to call it (with a number, a 0-dim tensor
/// and a broadcast tensor as its steepness, where it takes one) and independent double references for its value and
/// its derivative dy/dx.
/// </summary>
internal sealed record OpCase(
    string Name,
    Func<Tensor, Tensor> Apply,
    Func<Tensor, Tensor, Tensor>? ApplyWithSteepness,
    double Steepness,
    Func<double, double> Value,
    Func<double, double> Derivative,
    bool PassesSpecialGradients = false)
{
    private const double K = 7, Alpha = 3;

    /// <summary>Every op, each with a fixed steepness and, for perturb_and_apply, fixed noise u = 0.125.</summary>
    public static readonly OpCase[] All =
    {
        new("differentiable_round", x => SoftRoundOps.differentiable_round(x, K), SoftRoundOps.differentiable_round, K,
            x => Reference.DifferentiableRound(x, K), x => Reference.DifferentiableRoundDx(x, K)),
        new("soft_round", x => SoftRoundOps.soft_round(x, Alpha), SoftRoundOps.soft_round, Alpha,
            x => Reference.SoftRound(x, Alpha), x => Reference.SoftRoundDx(x, Alpha)),
        new("soft_round_inverse", x => SoftRoundOps.soft_round_inverse(x, Alpha), SoftRoundOps.soft_round_inverse, Alpha,
            x => Reference.SoftRoundInverse(x, Alpha), x => Reference.SoftRoundInverseDy(x, Alpha)),
        new("soft_round_conditional_mean", x => SoftRoundOps.soft_round_conditional_mean(x, Alpha), SoftRoundOps.soft_round_conditional_mean, Alpha,
            x => Reference.SoftRoundConditionalMean(x, Alpha), x => Reference.SoftRoundInverseDy(x - 0.5, Alpha)),
        new("round_st", x => SoftRoundOps.round_st(x), null, 0,
            x => Math.Round(x, MidpointRounding.ToEven), _ => 1, PassesSpecialGradients: true),
        new("ste_soft_round", x => SoftRoundOps.ste_soft_round(x, Alpha), null, Alpha,
            x => Math.Round(x, MidpointRounding.ToEven), x => Reference.SoftRoundDx(x, Alpha)),
        new("perturb_and_apply", x => SoftRoundOps.perturb_and_apply(t => SoftRoundOps.soft_round(t, Alpha), x, full_like(x, 0.125)), null, Alpha,
            x => Reference.SoftRound(x + 0.125, Alpha),
            x => double.IsInfinity(x) ? 0 : Reference.SoftRound(x + 0.5, Alpha) - Reference.SoftRound(x - 0.5, Alpha)),
    };

    /// <summary>The op names, for <c>DynamicData</c>.</summary>
    public static IEnumerable<object[]> Names => All.Select(c => new object[] { c.Name });

    /// <summary>The op called <paramref name="name"/>.</summary>
    public static OpCase Named(string name) => All.Single(c => c.Name == name);

    /// <inheritdoc />
    public override string ToString() => Name;
}
