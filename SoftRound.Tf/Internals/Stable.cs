using static TorchSharp.torch;
using static SoftRound.Tf.Internals.KeptScalars;

namespace SoftRound.Tf.Internals;

/// <summary>Forms that stay accurate where the textbook ones cancel or saturate (docs/MATH.md §1–§3), as torch ops.</summary>
internal static class Stable
{
    /// <summary>σ(z)·σ(−z) = e^(−|z|) / (1 + e^(−|z|))², accurate where σ(z) rounds to 1.</summary>
    public static Tensor SigmoidProduct(Tensor z)
    {
        using var scope = NewDisposeScope();
        Tensor e = z.abs().neg().exp();
        return (e / e.add(S(1), One).pow(S(2L))).MoveToOuterDisposeScope();
    }

    /// <summary>sech²(u) = 4·σ(2u)·σ(−2u), which does not cancel for large |u| as 1 − tanh²(u) does.</summary>
    public static Tensor Sech2(Tensor u)
    {
        using var scope = NewDisposeScope();
        return (SigmoidProduct(u * S(2)) * S(4)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The nearest integer n = round(x) (half to even), d = x − n (exact for every float) and its magnitude w ∈ [0, ½]:
    /// the coordinates every rounding formula here is evaluated in.
    /// </summary>
    public static (Tensor n, Tensor d, Tensor w) AboutNearestInteger(Tensor x)
    {
        Tensor n = x.round();
        Tensor d = x - n;
        return (n, d, d.abs());
    }

    /// <summary>
    /// E = exp(α·(2w − 1)) for 0 ≤ w ≤ ½, with the exponent carried exactly: α·2w = P + e₁ (Dekker's product, since
    /// torch has no element-wise FMA) and P − α = s + e₂ (Fast2Sum), so E = eˢ·(1 + e₁ + e₂). Relative error a few
    /// ulp for every α, where exp(α·(2w − 1)) evaluated directly loses about α ulp to the rounding of its exponent.
    /// Built from differentiable ops (the correction terms have zero derivative, as the exact exponent's rounding does).
    /// </summary>
    public static Tensor ExpCentred(Tensor alpha, Tensor w)
    {
        using var scope = NewDisposeScope();
        Tensor twoW = w * S(2);
        Tensor product = alpha * twoW;
        (Tensor ah, Tensor al) = Split(alpha);
        (Tensor bh, Tensor bl) = Split(twoW);
        Tensor e1 = (ah * bh - product).add(ah * bl, One).add(al * bh, One).add(al * bl, One);
        Tensor s = product - alpha;
        Tensor e2 = product - s.add(alpha, One);
        return (s.exp() * e1.add(e2, One).add(S(1), One)).MoveToOuterDisposeScope();
    }

    /// <summary>Dekker's split a = hi + lo, each with half the significand, so that products of halves are exact.</summary>
    private static (Tensor hi, Tensor lo) Split(Tensor a)
    {
        Tensor t = a * S(a.dtype == ScalarType.Float64 ? 134217729.0 : 4097.0);
        Tensor hi = t - (t - a);
        return (hi, a - hi);
    }
}
