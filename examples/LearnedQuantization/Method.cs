using System;
using SoftRound.Tf;
using TorchSharp;
using static TorchSharp.torch;

namespace LearnedQuantization;

/// <summary>
/// How a method turns the encoder's latents z into the decoder's input, in training (at a given step) and at evaluation.
/// </summary>
public sealed class Method
{
    private readonly Func<Tensor, long, Tensor> train;
    private readonly Func<Tensor, Tensor> evaluate;

    private Method(string name, Func<Tensor, long, Tensor> train, Func<Tensor, Tensor> evaluate)
    {
        Name = name;
        this.train = train;
        this.evaluate = evaluate;
    }

    /// <summary>The method's name in the results table.</summary>
    public string Name { get; }

    /// <summary>The decoder's input in training, at <paramref name="step"/>.</summary>
    public Tensor Train(Tensor z, long step) => train(z, step);

    /// <summary>The decoder's input at evaluation.</summary>
    public Tensor Evaluate(Tensor z) => evaluate(z);

    /// <summary>The four methods compared, the steepness schedules spanning <paramref name="steps"/> training steps.</summary>
    public static Method[] All(long steps)
    {
        var k = SteepnessSchedule.Exponential(1, 50, steps);
        // T ends at 0.2 (α = 5), not lower: the conditional mean's slope reaches sinh(α)/α at half-integers, so the
        // variance of the gradient it passes grows like e^α/α² (about 110× its squared mean at α = 10) and training
        // degrades as T approaches 0.1 (README, "The main example").
        var alpha = SteepnessSchedule.Linear(0.3, 0.2, steps, ScheduleSpace.Temperature);
        return new[]
        {
            // torch.round has a zero gradient: the encoder never learns.
            new Method("hard round", (z, _) => z.round(), z => z.round()),
            new Method("round_st", (z, _) => SoftRoundOps.round_st(z), z => z.round()),
            // Rounded at evaluation, as DifferentiableRoundLayer does in eval mode: a deployed code is integers.
            new Method("differentiable_round (k: 1 → 50)", (z, step) => SoftRoundOps.differentiable_round(z, k.at(step)), z => z.round()),
            // Agustsson & Theis: soft round plus noise, decoded through the conditional mean; rounded at evaluation.
            new Method("soft_round + noise (T: 0.3 → 0.2)", (z, step) =>
            {
                double a = alpha.at(step);
                using Scalar one = 1.ToScalar(), half = 0.5.ToScalar();
                return SoftRoundOps.soft_round_conditional_mean(SoftRoundOps.soft_round(z, a).add(rand_like(z).sub(half), one), a);
            }, z => z.round()),
        };
    }
}
