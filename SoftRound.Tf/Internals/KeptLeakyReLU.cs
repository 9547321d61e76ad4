using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Internals;

/// <summary>
/// y = x for x ≥ 0, <see cref="negative_slope"/>·x below: TorchSharp's <c>nn.LeakyReLU</c> with its slope a
/// <see cref="Scalar"/> kept for the process (<see cref="KeptScalars.S(double)"/>). TorchSharp's module converts its slope to a temporary Scalar on every
/// call, which a garbage collection during the native call can free (see <see cref="KeptScalars"/>). No parameters,
/// so a model's state dict is the same as with TorchSharp's module.
/// </summary>
internal sealed class KeptLeakyReLU : nn.Module<Tensor, Tensor>
{
    private readonly Scalar slope;

    /// <summary>Creates the activation; the slope is CompressAI's and PyTorch's default, 0.01.</summary>
    public KeptLeakyReLU(double negativeSlope = 0.01) : base("LeakyReLU")
    {
        negative_slope = negativeSlope;
        slope = KeptScalars.S(negativeSlope);
    }

    /// <summary>The slope below zero.</summary>
    public double negative_slope { get; }

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => input.leaky_relu(slope);
}
