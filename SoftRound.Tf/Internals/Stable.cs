using static TorchSharp.torch;

namespace SoftRound.Tf.Internals;

/// <summary>Forms that stay accurate where the textbook ones cancel or saturate (../shared/MATH.md §1, §2).</summary>
internal static class Stable
{
    /// <summary>σ(z)·σ(−z) = e^(−|z|) / (1 + e^(−|z|))², accurate where σ(z) rounds to 1.</summary>
    public static Tensor SigmoidProduct(Tensor z)
    {
        using var scope = NewDisposeScope();
        Tensor e = z.abs().neg().exp();
        return (e / (e + 1).square()).MoveToOuterDisposeScope();
    }

    /// <summary>sech²(u) = 4·σ(2u)·σ(−2u), which does not cancel for large |u| as 1 − tanh²(u) does.</summary>
    public static Tensor Sech2(Tensor u)
    {
        using var scope = NewDisposeScope();
        return (SigmoidProduct(u * 2) * 4).MoveToOuterDisposeScope();
    }
}
