using System;
using SoftRound.Tf.Internals;

namespace SoftRound.Tf;

/// <summary>
/// An annealing schedule for a steepness (α or k): a <see cref="ScheduleCurve"/> from a start to an end value over a
/// number of steps, in the steepness itself or in the temperature T = 1/α (<see cref="ScheduleSpace"/>). After the
/// last step it stays at the end value.
/// </summary>
/// <example>
/// Anneal soft round's temperature from 0.3 to 0.1 (α from 3.33 to 10) over training:
/// <code>
/// var schedule = SteepnessSchedule.Linear(0.3, 0.1, steps: 10_000, ScheduleSpace.Temperature);
/// for (long step = 0; step &lt; 10_000; step++)
/// {
///     schedule.apply(softRoundLayer, step);   // softRoundLayer.alpha = schedule.at(step)
///     // forward, loss, backward, optimizer step …
/// }
/// </code>
/// </example>
public sealed class SteepnessSchedule
{
    private const string Name = nameof(SteepnessSchedule);

    /// <summary>Creates a schedule.</summary>
    /// <param name="curve">The shape of the curve.</param>
    /// <param name="start">The value at step 0, in <paramref name="space"/>; finite and &gt; 0.</param>
    /// <param name="end">The value from step <paramref name="steps"/> on, in <paramref name="space"/>; finite and &gt; 0.</param>
    /// <param name="steps">The number of steps from start to end; &gt; 0.</param>
    /// <param name="space">Whether start and end are steepnesses or temperatures.</param>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="start"/> or <paramref name="end"/> is not finite and &gt; 0, <paramref name="steps"/> is ≤ 0, or
    /// <paramref name="curve"/> or <paramref name="space"/> is not a defined value.
    /// </exception>
    public SteepnessSchedule(ScheduleCurve curve, double start, double end, long steps, ScheduleSpace space = ScheduleSpace.Steepness)
    {
        OpGuard.Defined(Name, nameof(curve), curve);
        OpGuard.Defined(Name, nameof(space), space);
        OpGuard.Steepness(Name, nameof(start), start, allowZero: false);
        OpGuard.Steepness(Name, nameof(end), end, allowZero: false);
        if (steps <= 0) throw new ArgumentOutOfRangeException(nameof(steps), steps, $"{Name}: steps must be greater than 0; got {steps}.");
        this.curve = curve;
        this.start = start;
        this.end = end;
        this.steps = steps;
        this.space = space;
    }

    /// <summary>A linear schedule; see <see cref="SteepnessSchedule(ScheduleCurve, double, double, long, ScheduleSpace)"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">As the constructor.</exception>
    public static SteepnessSchedule Linear(double start, double end, long steps, ScheduleSpace space = ScheduleSpace.Steepness) =>
        new(ScheduleCurve.Linear, start, end, steps, space);

    /// <summary>An exponential schedule; see <see cref="SteepnessSchedule(ScheduleCurve, double, double, long, ScheduleSpace)"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">As the constructor.</exception>
    public static SteepnessSchedule Exponential(double start, double end, long steps, ScheduleSpace space = ScheduleSpace.Steepness) =>
        new(ScheduleCurve.Exponential, start, end, steps, space);

    /// <summary>A cosine schedule; see <see cref="SteepnessSchedule(ScheduleCurve, double, double, long, ScheduleSpace)"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">As the constructor.</exception>
    public static SteepnessSchedule Cosine(double start, double end, long steps, ScheduleSpace space = ScheduleSpace.Steepness) =>
        new(ScheduleCurve.Cosine, start, end, steps, space);

    /// <summary>The curve's shape.</summary>
    public ScheduleCurve curve { get; }

    /// <summary>The value at step 0, in <see cref="space"/>.</summary>
    public double start { get; }

    /// <summary>The value from step <see cref="steps"/> on, in <see cref="space"/>.</summary>
    public double end { get; }

    /// <summary>The number of steps from start to end.</summary>
    public long steps { get; }

    /// <summary>Whether start and end are steepnesses or temperatures.</summary>
    public ScheduleSpace space { get; }

    /// <summary>
    /// The steepness at <paramref name="step"/>: v(p) of the curve at p = min(step, steps)/steps, or 1/v(p) in
    /// temperature space.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is negative.</exception>
    public double at(long step)
    {
        if (step < 0) throw new ArgumentOutOfRangeException(nameof(step), step, $"{Name}.at: step must be at least 0; got {step}.");
        double p = Math.Min(step, steps) / (double)steps;
        double v = curve switch
        {
            ScheduleCurve.Linear => start + (end - start) * p,
            ScheduleCurve.Exponential => start * Math.Pow(end / start, p),
            _ => end + (start - end) * (1 + Math.Cos(Math.PI * p)) / 2,
        };
        return space == ScheduleSpace.Temperature ? 1 / v : v;
    }

    /// <summary>Sets <paramref name="layer"/>'s steepness to <see cref="at"/>(<paramref name="step"/>).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="layer"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is negative.</exception>
    public void apply(SteepnessLayer layer, long step)
    {
        ArgumentNullException.ThrowIfNull(layer);
        layer.steepness = at(step);
    }
}
