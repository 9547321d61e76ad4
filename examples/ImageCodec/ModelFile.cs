using System;
using System.IO;
using SoftRound.Tf;

namespace ImageCodec;

/// <summary>
/// A trained codec on disk: "SRZW", a format version, N, M, the training quantizer and α, λ, the seed, then TorchSharp's
/// state-dict format. The coding tables are not stored: <see cref="Load"/> rebuilds them (<c>update()</c>).
/// </summary>
public static class ModelFile
{
    private static readonly byte[] Magic = "SRZW"u8.ToArray();
    private const int Version = 1;

    /// <summary>What the file records besides the weights.</summary>
    public readonly record struct Config(int N, int M, QuantizationMode Mode, double Alpha, double Lambda, int Seed);

    /// <summary>Writes the model and its configuration.</summary>
    public static void Save(FactorizedPrior model, Config config, string path)
    {
        using var stream = File.Create(path);
        using var writer = new BinaryWriter(stream);
        writer.Write(Magic);
        writer.Write(Version);
        writer.Write(config.N);
        writer.Write(config.M);
        writer.Write((int)config.Mode);
        writer.Write(config.Alpha);
        writer.Write(config.Lambda);
        writer.Write(config.Seed);
        model.save(writer);
    }

    /// <summary>Reads a model, in eval mode with its tables built.</summary>
    /// <exception cref="InvalidDataException">The file is not a codec weights file, or is damaged.</exception>
    public static (FactorizedPrior model, Config config) Load(string path)
    {
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream);
        try
        {
            if (!reader.ReadBytes(4).AsSpan().SequenceEqual(Magic)) throw new InvalidDataException($"{path} is not a codec weights file.");
            int version = reader.ReadInt32();
            if (version != Version) throw new InvalidDataException($"{path} is of weights format version {version}; this program reads {Version}.");
            var config = new Config(reader.ReadInt32(), reader.ReadInt32(), (QuantizationMode)reader.ReadInt32(), reader.ReadDouble(), reader.ReadDouble(), reader.ReadInt32());
            if (config.N is < 1 or > 1024 || config.M is < 1 or > 1024 || !Enum.IsDefined(config.Mode) || !double.IsFinite(config.Alpha) || config.Alpha < 0)
            {
                throw new InvalidDataException($"{path} has an invalid configuration ({config}).");
            }
            var model = new FactorizedPrior(config.N, config.M, config.Mode, config.Alpha);
            model.load(reader);
            model.eval();
            model.Bottleneck.update();
            return (model, config);
        }
        catch (Exception e) when (e is EndOfStreamException or ArgumentException)
        {
            throw new InvalidDataException($"{path} is truncated or damaged: {e.Message}");
        }
    }
}
