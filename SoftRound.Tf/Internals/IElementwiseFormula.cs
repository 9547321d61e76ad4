using static TorchSharp.torch;

namespace SoftRound.Tf.Internals;

/// <summary>
/// An element-wise op y = f(x, a) with a steepness-like parameter a that broadcasts to x: its value and its partial
/// derivatives. Each formula of ../shared/MATH.md has exactly one implementation of this interface.
/// </summary>
/// <remarks>
/// x and a arrive in the same floating dtype on the same device. Partials must be built from differentiable torch ops,
/// so that the backward pass can itself be differentiated (<c>create_graph</c>).
/// </remarks>
internal interface IElementwiseFormula
{
    /// <summary>The autograd node's name, as shown in errors.</summary>
    static abstract string Name { get; }

    /// <summary>y = f(x, a), in x's shape.</summary>
    static abstract Tensor Value(Tensor x, Tensor a);

    /// <summary>∂y/∂x and ∂y/∂a element-wise in x's shape; each only when asked for (null otherwise).</summary>
    static abstract (Tensor? dx, Tensor? da) Partials(Tensor x, Tensor a, bool needX, bool needA);
}
