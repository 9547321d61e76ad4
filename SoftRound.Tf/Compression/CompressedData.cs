using System.Collections.Generic;

namespace SoftRound.Tf.Compression;

/// <summary>
/// What <see cref="CompressionModel.compress"/> writes (CompressAI's <c>{"strings": […], "shape": …}</c>): one list
/// of streams per latent, one stream per image of the batch, in CompressAI's order (ŷ's streams first, then ẑ's), and
/// the spatial size of the innermost latent, which <see cref="CompressionModel.decompress"/> needs.
/// </summary>
/// <param name="strings">The streams: strings[latent][image].</param>
/// <param name="shape">The innermost latent's (height, width): ŷ's for the factorized model, ẑ's for the others.</param>
public sealed record CompressedData(IReadOnlyList<byte[][]> strings, long[] shape);
