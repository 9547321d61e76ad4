using System;
using System.IO;
using System.Linq;
using SoftRound.Tf;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Entropy;

namespace ImageCodec;

/// <summary>
/// A trained codec on disk: "SRZW", the format version (int32, 3), the <see cref="Architecture"/>, N, M (int32), the
/// training quantizer (int32), α and λ (float64), the seed and the training steps (int32), TorchSharp's state-dict
/// format, and SHA-256 over everything before it (32 bytes). The coding tables are not stored: <see cref="Load"/>
/// rebuilds them (<c>update()</c>).
/// </summary>
public static class ModelFile
{
    private static readonly byte[] Magic = "SRZW"u8.ToArray();
    private const int Version = 3;

    /// <summary>The largest N and M a file may ask for (the factorized prior of Ballé et al. uses at most 192 and 320).</summary>
    public const int MaxChannels = 512;

    /// <summary>What the file records besides the weights.</summary>
    public readonly record struct Config(int N, int M, QuantizationMode Mode, double Alpha, double Lambda, int Seed, int Steps,
        Architecture Architecture = Architecture.FactorizedPrior);

    /// <summary>A new model of the configuration's architecture, size and training quantizer (with the current torch seed).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The architecture is not one of <see cref="Architecture"/>'s, or N, M or α are out of range.</exception>
    public static CompressionModel Create(Config config) => config.Architecture switch
    {
        Architecture.FactorizedPrior => new FactorizedPrior(config.N, config.M, config.Mode, config.Alpha),
        Architecture.ScaleHyperprior => new ScaleHyperprior(config.N, config.M, config.Mode, config.Alpha),
        Architecture.MeanScaleHyperprior => new MeanScaleHyperprior(config.N, config.M, config.Mode, config.Alpha),
        Architecture.VariableRateHyperprior => new VariableRateHyperprior(config.N, config.M, config.Mode, config.Alpha),
        Architecture.JointAutoregressiveHierarchicalPriors => new JointAutoregressiveHierarchicalPriors(config.N, config.M, config.Mode, config.Alpha),
        _ => throw new ArgumentOutOfRangeException(nameof(config), config.Architecture, $"{nameof(ModelFile)}.{nameof(Create)}: no architecture {(int)config.Architecture}."),
    };

    /// <summary>The quantizers of the model's entropy models (its <see cref="EntropyBottleneck"/>'s and <see cref="GaussianConditional"/>'s), in module order.</summary>
    public static QuantizationLayer[] Quantizers(CompressionModel model) =>
        model.modules().Select(m => m switch { EntropyBottleneck b => b.quantizer, GaussianConditional g => g.quantizer, _ => null }).OfType<QuantizationLayer>().ToArray();

    /// <summary>Writes the model and its configuration.</summary>
    public static void Save(CompressionModel model, Config config, string path)
    {
        using var content = new MemoryStream();
        using (var writer = new BinaryWriter(content, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            writer.Write(Version);
            writer.Write((int)config.Architecture);
            writer.Write(config.N);
            writer.Write(config.M);
            writer.Write((int)config.Mode);
            writer.Write(config.Alpha);
            writer.Write(config.Lambda);
            writer.Write(config.Seed);
            writer.Write(config.Steps);
            model.save(writer);
        }
        File.WriteAllBytes(path, Sha256Trailer.Append(content));
    }

    /// <summary>
    /// Reads a model, in eval mode with its tables built; a hyperprior model's scale table (saved as trained) is replaced
    /// by <see cref="Codec.ScaleTable"/>, which the weights identifier then covers.
    /// </summary>
    /// <exception cref="InvalidDataException">
    /// The file is not a codec weights file, is of another format version, is truncated or corrupted (its checksum), or
    /// holds a configuration or weights this program cannot use; the message says which.
    /// </exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static (CompressionModel model, Config config) Load(string path)
    {
        byte[] file = File.ReadAllBytes(path);
        if (file.Length < 8 || !file.AsSpan(0, 4).SequenceEqual(Magic)) throw new InvalidDataException($"{path} is not a codec weights file.");
        int version = BitConverter.ToInt32(file, 4);
        if (version != Version) throw new InvalidDataException($"{path} is of weights format version {version}; this program reads {Version}.");
        int content = file.Length - Sha256Trailer.Length;
        if (!Sha256Trailer.Verify(file, 8))
        {
            throw new InvalidDataException($"{path} is truncated or corrupted: its checksum does not match.");
        }
        using var reader = new BinaryReader(new MemoryStream(file, 8, content - 8, writable: false));
        try
        {
            var architecture = (Architecture)reader.ReadInt32();
            var config = new Config(reader.ReadInt32(), reader.ReadInt32(), (QuantizationMode)reader.ReadInt32(), reader.ReadDouble(), reader.ReadDouble(), reader.ReadInt32(), reader.ReadInt32(), architecture);
            if (!Enum.IsDefined(config.Architecture) || config.N is < 1 or > MaxChannels || config.M is < 1 or > MaxChannels || !Enum.IsDefined(config.Mode) || !double.IsFinite(config.Alpha) || config.Alpha < 0 || config.Steps < 0)
            {
                throw new InvalidDataException($"{path} has an invalid configuration ({config}).");
            }
            CompressionModel model = Create(config);
            model.load(reader);
            if (reader.BaseStream.Position != reader.BaseStream.Length) throw new InvalidDataException($"{path} has {reader.BaseStream.Length - reader.BaseStream.Position} bytes after its weights.");
            model.eval();
            model.update(Codec.ScaleTable);
            return (model, config);
        }
        catch (Exception e) when (e is EndOfStreamException or ArgumentException or InvalidOperationException or OverflowException or FormatException or IndexOutOfRangeException)
        {
            throw new InvalidDataException($"{path} holds weights this program cannot use: {e.Message}");
        }
    }
}
