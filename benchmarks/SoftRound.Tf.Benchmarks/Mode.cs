namespace SoftRound.Tf.Benchmarks;

/// <summary>What one benchmark invocation does.</summary>
public enum Mode
{
    /// <summary>The forward pass under <c>torch.no_grad()</c>.</summary>
    Forward,

    /// <summary>The forward pass with autograd, then the gradient of the sum with respect to x.</summary>
    ForwardBackward,
}
