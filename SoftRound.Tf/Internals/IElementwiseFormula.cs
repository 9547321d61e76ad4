using static TorchSharp.torch;

namespace SoftRound.Tf.Internals;

/// <summary>
/// An element-wise op y = f(x, a) with a steepness-like parameter a that broadcasts to x: its value and its partial
/// derivatives. Each formula of docs/MATH.md has exactly one implementation of this interface.
/// </summary>
/// <remarks>
/// x and a arrive in the same floating dtype on the same device. <see cref="Value"/> and <see cref="Partials"/> are the
/// composite path, for any device and dtype and for a steepness of any shape; Partials must be built from
/// differentiable torch ops, so that the backward pass can itself be differentiated (<c>create_graph</c>). The kernel
/// methods are the fused path for CPU float32/float64 and a single steepness value, with identical semantics.
/// </remarks>
internal interface IElementwiseFormula
{
    /// <summary>The autograd node's name, as shown in errors.</summary>
    static abstract string Name { get; }

    /// <summary>y = f(x, a), in x's shape.</summary>
    static abstract Tensor Value(Tensor x, Tensor a);

    /// <summary>∂y/∂x and ∂y/∂a element-wise in x's shape; each only when asked for (null otherwise).</summary>
    static abstract (Tensor? dx, Tensor? da) Partials(Tensor x, Tensor a, bool needX, bool needA);

    /// <summary>y = f(x, a) in one pass by the fused kernel, for x that <see cref="Kernels.KernelLoop.Supports"/>.</summary>
    static abstract Tensor KernelValue(Tensor x, double a);

    /// <summary>grad·∂y/∂x in one pass by the fused kernel, for x that <see cref="Kernels.KernelLoop.Supports"/>.</summary>
    static abstract Tensor KernelGradient(Tensor x, double a, Tensor grad);
}
