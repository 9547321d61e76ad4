using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf;

/// <summary>
/// A layer that applies <see cref="SoftRoundOps.round_st(Tensor, Tensor)"/>: y = round(x) forward, with the incoming
/// gradient passed straight through. It has no parameters.
/// </summary>
public sealed class RoundStLayer : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the layer.</summary>
    public RoundStLayer() : base(nameof(RoundStLayer))
    {
    }

    /// <summary>y = <see cref="SoftRoundOps.round_st(Tensor, Tensor)"/>(x).</summary>
    /// <exception cref="System.ArgumentException">As <see cref="SoftRoundOps.round_st(Tensor, Tensor)"/>.</exception>
    public override Tensor forward(Tensor x) => SoftRoundOps.round_st(x);
}
