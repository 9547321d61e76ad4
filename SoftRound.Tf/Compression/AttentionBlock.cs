using System;
using SoftRound.Tf.Internals;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static SoftRound.Tf.Internals.KeptScalars;
using static SoftRound.Tf.Compression.Layers;

namespace SoftRound.Tf.Compression;

/// <summary>
/// CompressAI's <c>AttentionBlock</c>, the simplified attention module of Cheng et al. 2020:
/// y = a(x) ⊙ σ(b(x)) + x, the trunk a three residual units and the mask branch b three residual units and a 1×1
/// convolution; a residual unit is u(x) = relu(conv1x1(relu(conv3x3(relu(conv1x1(x))))) + x) with N/2 channels
/// inside. The size and the N channels are kept. Children are named <c>conv_a</c> and <c>conv_b</c> (a unit's
/// <c>conv</c> and <c>relu</c>), as in CompressAI.
/// </summary>
public sealed class AttentionBlock : nn.Module<Tensor, Tensor>
{
    private readonly Sequential conv_a, conv_b;

    /// <summary>Creates the block with N channels.</summary>
    /// <exception cref="ArgumentOutOfRangeException">N is below 2 (the units work on N/2 channels).</exception>
    public AttentionBlock(int N) : base(nameof(AttentionBlock))
    {
        if (N < 2) throw new ArgumentOutOfRangeException(nameof(N), N, $"{nameof(AttentionBlock)}: N must be at least 2; got {N}.");
        this.N = N;
        conv_a = nn.Sequential(new ResidualUnit(N), new ResidualUnit(N), new ResidualUnit(N));
        conv_b = nn.Sequential(new ResidualUnit(N), new ResidualUnit(N), new ResidualUnit(N), conv1x1(N, N));
        RegisterComponents();
    }

    /// <summary>The channels N.</summary>
    public int N { get; }

    /// <summary>y = a(x) ⊙ σ(b(x)) + x.</summary>
    /// <exception cref="ArgumentException">x is not a floating-point (N, C, H, W) tensor with C the block's N.</exception>
    public override Tensor forward(Tensor x)
    {
        OpGuard.Images($"{nameof(AttentionBlock)}.{nameof(forward)}", nameof(x), x, N);
        using var scope = NewDisposeScope();
        Tensor y = conv_a.call(x) * conv_b.call(x).sigmoid();
        return y.add_(x, One).MoveToOuterDisposeScope();
    }

    /// <summary>A residual unit: u(x) = relu(conv(x) + x), conv = 1×1 to N/2, ReLU, 3×3, ReLU, 1×1 to N.</summary>
    private sealed class ResidualUnit : nn.Module<Tensor, Tensor>
    {
        private readonly Sequential conv;
        private readonly ReLU relu = nn.ReLU();

        public ResidualUnit(int n) : base(nameof(ResidualUnit))
        {
            conv = nn.Sequential(conv1x1(n, n / 2), nn.ReLU(), conv3x3(n / 2, n / 2), nn.ReLU(), conv1x1(n / 2, n));
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            return relu.call(conv.call(x).add_(x, One)).MoveToOuterDisposeScope();
        }
    }
}
