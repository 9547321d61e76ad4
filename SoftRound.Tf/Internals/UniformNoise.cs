using TorchSharp;
using static TorchSharp.torch;
using static SoftRound.Tf.Internals.KeptScalars;

namespace SoftRound.Tf.Internals;

/// <summary>Uniform quantization noise.</summary>
internal static class UniformNoise
{
    /// <summary>u ~ U(−½, ½) in x's shape, dtype and device, drawn from <paramref name="generator"/> or torch's default one.</summary>
    public static Tensor Like(Tensor x, Generator? generator = null)
    {
        using var scope = NewDisposeScope();
        Tensor u = rand(x.shape, OpGuard.ComputeType(x.dtype), x.device, generator: generator) - S(0.5);
        return u.to(x.dtype).MoveToOuterDisposeScope();
    }
}
