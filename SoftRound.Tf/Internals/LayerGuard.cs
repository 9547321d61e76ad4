using System;

namespace SoftRound.Tf.Internals;

/// <summary>The constructor checks that CompressAI's layer builders and blocks share.</summary>
internal static class LayerGuard
{
    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> unless both channel counts are ≥ 1.</summary>
    public static void CheckChannels(string block, long inChannels, long outChannels)
    {
        if (inChannels < 1) throw new ArgumentOutOfRangeException(nameof(inChannels), inChannels, $"{block}: inChannels must be at least 1; got {inChannels}.");
        if (outChannels < 1) throw new ArgumentOutOfRangeException(nameof(outChannels), outChannels, $"{block}: outChannels must be at least 1; got {outChannels}.");
    }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> unless a stride or scale factor is ≥ 1.</summary>
    public static void CheckFactor(string block, string param, long value)
    {
        if (value < 1) throw new ArgumentOutOfRangeException(param, value, $"{block}: {param} must be at least 1; got {value}.");
    }
}
