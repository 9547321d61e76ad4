namespace SoftRound.Tf;

/// <summary>How a <see cref="SteepnessSchedule"/> moves from its start value to its end value, with p = step/steps ∈ [0, 1].</summary>
public enum ScheduleCurve
{
    /// <summary>v = start + (end − start)·p.</summary>
    Linear,

    /// <summary>v = start·(end/start)^p: a constant factor per step.</summary>
    Exponential,

    /// <summary>v = end + (start − end)·(1 + cos(π·p))/2: slow at both ends.</summary>
    Cosine,
}
