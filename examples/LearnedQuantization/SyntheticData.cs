using TorchSharp;
using static TorchSharp.torch;

namespace LearnedQuantization;

/// <summary>
/// Built-in data, no download: 16-dimensional points on a smooth 3-dimensional manifold, x = sin(A·s + b) + noise with
/// s ~ U(−1.5, 1.5)³, so an encoder with a few latents can describe them, and rounding those latents costs accuracy.
/// </summary>
public static class SyntheticData
{
    /// <summary>Train and held-out sets of the given sizes, drawn from the generator seeded with <paramref name="seed"/>.</summary>
    public static (Tensor train, Tensor test) Create(int trainSize, int testSize, ulong seed)
    {
        using var generator = new Generator(seed);
        using var scope = NewDisposeScope();
        using Scalar one = 1.ToScalar(), mixingScale = 1.5.ToScalar(), phase = 6.28.ToScalar(), width = 3.ToScalar(), offset = 1.5.ToScalar(), noise = 0.02.ToScalar();
        Tensor mixing = randn(new long[] { 3, 16 }, generator: generator).mul(mixingScale);
        Tensor bias = rand(new long[] { 16 }, generator: generator).mul(phase);
        Tensor Draw(int n)
        {
            // s uniform on [−1.5, 1.5): rand·3 − 1.5.
            Tensor s = rand(new long[] { n, 3 }, generator: generator).mul(width).sub(offset);
            return s.matmul(mixing).add(bias, one).sin().add(randn(new long[] { n, 16 }, generator: generator).mul(noise), one);
        }
        return (Draw(trainSize).MoveToOuterDisposeScope(), Draw(testSize).MoveToOuterDisposeScope());
    }
}
