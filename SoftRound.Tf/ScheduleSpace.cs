namespace SoftRound.Tf;

/// <summary>Which quantity a <see cref="SteepnessSchedule"/>'s start and end values, and its curve, are in.</summary>
public enum ScheduleSpace
{
    /// <summary>The steepness itself (α or k).</summary>
    Steepness,

    /// <summary>The temperature T = 1/α: the curve runs in T and the schedule yields α = 1/T.</summary>
    Temperature,
}
