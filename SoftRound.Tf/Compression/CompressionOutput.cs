using System.Collections.Generic;
using static TorchSharp.torch;

namespace SoftRound.Tf.Compression;

/// <summary>
/// What a <see cref="CompressionModel"/>'s forward pass gives (CompressAI's dictionary
/// <c>{"x_hat": …, "likelihoods": {"y": …, "z": …}}</c>): the reconstruction and the likelihoods of each latent,
/// by the latent's name, and (beyond CompressAI) the quantized latent ŷ that g_s decoded. The rate of a batch is
/// Σ −log2 p over every likelihood tensor.
/// </summary>
/// <param name="x_hat">The reconstruction g_s(ŷ), not clamped (as CompressAI's forward).</param>
/// <param name="likelihoods">The likelihoods of each latent: "y", and "z" for the hyperprior models.</param>
/// <param name="y_hat">ŷ, the input of g_s.</param>
public sealed record CompressionOutput(Tensor x_hat, IReadOnlyDictionary<string, Tensor> likelihoods, Tensor y_hat);
