using System;

namespace SoftRound.Tf.Optim;

/// <summary>The optimizers' checks of their options, with one wording.</summary>
internal static class OptionChecks
{
    /// <summary>The option's name, with where it was found (a parameter group) if given.</summary>
    public static string At(string name, string? where) => where is null ? name : $"{name} ({where})";

    /// <summary>Refuses, naming it, an option that is negative or not finite.</summary>
    public static void AtLeastZero(string member, string? where, params (string name, double value)[] options)
    {
        foreach ((string name, double value) in options)
            if (!double.IsFinite(value) || value < 0) throw new ArgumentOutOfRangeException(name, value, $"{member}: {At(name, where)} must be finite and at least 0; it is {value}.");
    }
}
