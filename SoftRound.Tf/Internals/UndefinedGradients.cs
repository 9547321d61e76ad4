using System.Collections.Generic;
using static TorchSharp.torch;

namespace SoftRound.Tf.Internals;

/// <summary>
/// What our autograd functions return when their incoming gradient is undefined (an output that nothing downstream
/// differentiates, such as an offset passed to round_st): undefined gradients for every input.
/// </summary>
/// <remarks>
/// Each function turns off materialising such gradients (<c>set_materialize_grads(false)</c>). TorchSharp would
/// otherwise build zeros from a tensor it keeps from the forward pass, which a dispose scope may already have freed.
/// </remarks>
internal static class UndefinedGradients
{
    /// <summary>One undefined (null) gradient per forward argument.</summary>
    public static List<Tensor> For(int arguments) => new(new Tensor[arguments]);
}
