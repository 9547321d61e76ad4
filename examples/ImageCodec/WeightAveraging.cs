using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using SoftRound.Tf.Compression;
using TorchSharp;
using static TorchSharp.torch;

namespace ImageCodec;

/// <summary>
/// The uniform average of trained codecs' weights, w = (w₁ + … + wₖ) / k parameter by parameter (a "model soup",
/// Wortsman et al. 2022): runs fine-tuned from one start with other seeds end in one basin of the loss, and their
/// average is often better than each of them. Models that did not share a start average to a model that codes well
/// for none: nothing here can tell, so judge the result as any trained model (on a validation split).
/// </summary>
public static class WeightAveraging
{
    /// <summary>
    /// Reads the weights files and returns a new model whose every parameter is the mean of theirs (summed in float64,
    /// rounded once to float32), its buffers the first file's, its coding tables rebuilt as training leaves them
    /// (<c>update(force: true)</c>, the default scale table), so that <see cref="ModelFile.Save"/> writes what
    /// <c>train</c> would have written for those weights. Its configuration is the first file's, with the most steps
    /// any of the files records.
    /// </summary>
    /// <exception cref="ArgumentException">Fewer than two paths; the message names the parameter and the count.</exception>
    /// <exception cref="InvalidDataException">
    /// A file differs from the first in architecture, N, M, training quantizer, α or λ (the message names the file, the
    /// field and both values), or <see cref="ModelFile.Load"/> refuses it.
    /// </exception>
    /// <exception cref="IOException">A file cannot be read.</exception>
    public static (CompressionModel model, ModelFile.Config config) Average(IReadOnlyList<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        if (paths.Count < 2)
            throw new ArgumentException($"{nameof(WeightAveraging)}.{nameof(Average)}: {nameof(paths)} must name at least two weights files; it names {paths.Count}.", nameof(paths));
        (CompressionModel first, ModelFile.Config config) = ModelFile.Load(paths[0]);
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var sums = first.named_parameters().ToDictionary(p => p.name, p => p.parameter.to(ScalarType.Float64));
            int steps = config.Steps;
            using Scalar one = 1.ToScalar();
            foreach (string path in paths.Skip(1))
            {
                (CompressionModel other, ModelFile.Config otherConfig) = ModelFile.Load(path);
                using (other)
                {
                    CheckSame(paths[0], config, path, otherConfig);
                    foreach ((string name, TorchSharp.Modules.Parameter p) in other.named_parameters()) sums[name].add_(p.to(ScalarType.Float64), one);
                }
                steps = Math.Max(steps, otherConfig.Steps);
            }
            using Scalar count = paths.Count.ToScalar();
            foreach ((string name, TorchSharp.Modules.Parameter p) in first.named_parameters()) p.copy_(sums[name].div_(count));
            first.update(force: true);
            return (first, config with { Steps = steps });
        }
        catch
        {
            first.Dispose();
            throw;
        }
    }

    // The fields that make two files' weights the same kind of model: the shapes (architecture, N, M) and what the
    // model was trained for (the quantizer, α, λ).
    private static void CheckSame(string firstPath, ModelFile.Config first, string path, ModelFile.Config other)
    {
        (string field, object a, object b)[] fields =
        {
            ("architecture", first.Architecture, other.Architecture), ("N", first.N, other.N), ("M", first.M, other.M),
            ("training quantizer", first.Mode, other.Mode), ("α", first.Alpha, other.Alpha), ("λ", first.Lambda, other.Lambda),
        };
        foreach ((string field, object a, object b) in fields)
        {
            if (!a.Equals(b))
                throw new InvalidDataException($"{nameof(WeightAveraging)}.{nameof(Average)}: {path} has {field} {Format(b)} and {firstPath} {Format(a)}; only weights of one configuration average.");
        }
    }

    private static string Format(object value) => value is double d ? d.ToString("R", System.Globalization.CultureInfo.InvariantCulture) : value.ToString()!;
}
