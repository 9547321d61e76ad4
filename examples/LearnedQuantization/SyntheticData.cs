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
        Tensor mixing = randn(new long[] { 3, 16 }, generator: generator) * 1.5;
        Tensor bias = rand(new long[] { 16 }, generator: generator) * 6.28;
        Tensor Draw(int n)
        {
            Tensor s = rand(new long[] { n, 3 }, generator: generator) * 3 - 1.5;
            return (s.matmul(mixing) + bias).sin() + randn(new long[] { n, 16 }, generator: generator) * 0.02;
        }
        return (Draw(trainSize).MoveToOuterDisposeScope(), Draw(testSize).MoveToOuterDisposeScope());
    }
}
