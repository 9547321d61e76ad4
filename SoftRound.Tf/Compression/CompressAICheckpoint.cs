using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using SoftRound.Tf.Entropy;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Compression;

/// <summary>
/// Reads state dicts that PyTorch's <c>torch.save</c> wrote (through TorchSharp.PyBridge's unpickler), and loads
/// CompressAI's into a <see cref="CompressionModel"/>: the mapping from CompressAI's keys to this library's modules.
/// </summary>
internal static class CompressAICheckpoint
{
    private const string Member = nameof(CompressionModel) + "." + nameof(CompressionModel.load_compressai);
    private static readonly string[] TableKeys = { "_quantized_cdf", "_cdf_length", "_offset" };
    private static readonly (string old, string now)[] OldNames = { ("_matrix", "matrices."), ("_bias", "biases."), ("_factor", "factors.") };

    /// <summary>The tensors of a <c>torch.save</c>d dictionary of tensors, by key; the caller owns them.</summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">The file is not such a dictionary (truncated, corrupted, another format).</exception>
    public static Dictionary<string, Tensor> read(string path)
    {
        ArgumentNullException.ThrowIfNull(path, nameof(path));
        if (!File.Exists(path)) throw new FileNotFoundException($"{Member}: there is no file {path}.", path);
        Hashtable table;
        try
        {
            using FileStream stream = File.OpenRead(path);
            table = TorchSharp.PyBridge.PyTorchUnpickler.UnpickleStateDict(stream);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException($"{Member}: {path} is not a state dict saved by torch.save ({e.GetType().Name}: {e.Message}).", e);
        }
        var result = new Dictionary<string, Tensor>();
        foreach (DictionaryEntry entry in table)
        {
            if (entry.Key is not string key || entry.Value is not Tensor value)
            {
                foreach (object? v in table.Values) (v as Tensor)?.Dispose();
                throw new InvalidDataException($"{Member}: {path} holds an entry {entry.Key} of type {entry.Value?.GetType().Name ?? "null"}; a state dict maps names to tensors.");
            }
            result[key] = value;
        }
        return result;
    }

    /// <summary>
    /// A new model of <paramref name="type"/> sized as the state dict's weights say (see
    /// <see cref="CompressionModel.from_compressai{T}"/>).
    /// </summary>
    public static CompressionModel Create(Type type, IReadOnlyDictionary<string, Tensor> stateDict, QuantizationMode mode, double alpha)
    {
        const string From = nameof(CompressionModel) + "." + nameof(CompressionModel.from_compressai);
        int Size(string key, int dim = 0) => stateDict.TryGetValue(key, out Tensor? t) && t.dim() > dim
            ? (int)t.shape[dim]
            : throw new InvalidDataException($"{From}: the state dict has no {key}, which a {type.Name}'s sizes are read from.");
        int[] ElicGroups()
        {
            string Context(int k) => $"latent_codec.y.latent_codec.y{k}.context_prediction.weight";
            var groups = new List<int>();
            do groups.Add(Size(Context(groups.Count), 1));
            while (stateDict.ContainsKey(Context(groups.Count)));
            return groups.ToArray();
        }
        int[]? ElicWidths() => stateDict.ContainsKey("latent_codec.y.channel_context.y1.0.weight")
            ? new[] { Size("latent_codec.y.channel_context.y1.0.weight"), Size("latent_codec.y.channel_context.y1.2.weight") }
            : null;
        if (type == typeof(FactorizedPrior)) return new FactorizedPrior(Size("g_a.0.weight"), Size("g_a.6.weight"), mode, alpha);
        if (type == typeof(FactorizedPriorReLU)) return new FactorizedPriorReLU(Size("g_a.0.weight"), Size("g_a.6.weight"), mode, alpha);
        if (type == typeof(ScaleHyperprior)) return new ScaleHyperprior(Size("g_a.0.weight"), Size("g_a.6.weight"), mode, alpha);
        if (type == typeof(MeanScaleHyperprior)) return new MeanScaleHyperprior(Size("g_a.0.weight"), Size("g_a.6.weight"), mode, alpha);
        if (type == typeof(JointAutoregressiveHierarchicalPriors)) return new JointAutoregressiveHierarchicalPriors(Size("g_a.0.weight"), Size("g_a.6.weight"), mode, alpha);
        if (type == typeof(Cheng2020Anchor)) return new Cheng2020Anchor(Size("g_a.0.conv1.weight"), mode, alpha);
        if (type == typeof(Cheng2020Attention)) return new Cheng2020Attention(Size("g_a.0.conv1.weight"), mode, alpha);
        if (type == typeof(Cheng2020AnchorCheckerboard)) return new Cheng2020AnchorCheckerboard(Size("g_a.0.conv1.weight"), mode, alpha);
        if (type == typeof(Elic2022Official)) return new Elic2022Official(Size("g_a.0.weight"), Size("g_a.13.weight"), ElicGroups(), mode, alpha, ElicWidths());
        if (type == typeof(Elic2022Chandelier)) return new Elic2022Chandelier(Size("g_a.0.weight"), Size("g_a.13.weight"), ElicGroups(), mode, alpha, ElicWidths());
        throw new NotSupportedException($"{From}: {type.Name} is not one of the ported CompressAI models.");
    }

    /// <summary>Loads <paramref name="source"/> into <paramref name="model"/> as <see cref="CompressionModel.load_compressai_state_dict"/> describes.</summary>
    public static void load(CompressionModel model, IReadOnlyDictionary<string, Tensor> source)
    {
        var entries = new Dictionary<string, Tensor>();
        foreach ((string key, Tensor value) in source)
        {
            if (value is null) throw new InvalidDataException($"{Member}: the entry {key} is null.");
            entries[Renamed(model, key)] = value;
        }
        var constants = new List<(string key, double value)>();
        var tableLoads = new List<(Action<QuantizedCdf?> install, QuantizedCdf? cdfs)>();
        var scaleTables = new List<(GaussianConditional module, Tensor table)>();
        foreach ((string name, nn.Module module) in model.named_modules())
        {
            string prefix = name.Length == 0 ? "" : name + ".";
            switch (module)
            {
                case GDN gdn:
                    constants.AddRange(gdn.CompressAIConstants().Select(c => (prefix + c.key, c.value)));
                    break;
                case EntropyBottleneck b:
                    if (b.likelihood_bound > 0) constants.Add((prefix + "likelihood_lower_bound.bound", b.likelihood_bound));
                    tableLoads.Add((b.LoadTables, Tables(entries, prefix)));
                    break;
                case GaussianConditional g:
                    if (g.likelihood_bound > 0) constants.Add((prefix + "likelihood_lower_bound.bound", g.likelihood_bound));
                    constants.Add((prefix + "lower_bound_scale.bound", g.scale_bound));
                    constants.Add((prefix + "scale_bound", g.scale_bound));
                    Tensor scaleTable = Take(entries, prefix + "scale_table");
                    if (scaleTable.numel() > 0) scaleTables.Add((g, CheckScaleTable(prefix + "scale_table", scaleTable)));
                    tableLoads.Add((g.LoadTables, Tables(entries, prefix)));
                    break;
            }
        }
        foreach ((string key, double expected) in constants) CheckConstant(key, Take(entries, key), expected);

        Dictionary<string, Tensor> own = model.state_dict();
        // This library's own state (the training quantizers' steepness and offsets) is not in CompressAI's checkpoints: kept as it is.
        string[] ownOnly = model.named_modules().Where(m => m.module is QuantizationLayer).Select(m => m.name + ".").ToArray();
        foreach (string key in own.Keys.Where(k => ownOnly.Any(p => k.StartsWith(p, StringComparison.Ordinal))).ToArray()) own.Remove(key);
        string[] missing = own.Keys.Where(k => !entries.ContainsKey(k) && !IsScaleTable(model, k)).ToArray();
        string[] unexpected = entries.Keys.Where(k => !own.ContainsKey(k)).ToArray();
        if (missing.Length > 0 || unexpected.Length > 0)
        {
            throw new InvalidDataException($"{Member}: the state dict does not fit this {model.GetName()} (N = {model.N}, M = {model.M}): missing {List(missing)}; unexpected {List(unexpected)}.");
        }
        foreach ((string key, Tensor value) in entries)
        {
            Tensor mine = own[key];
            if (!mine.shape.SequenceEqual(value.shape))
            {
                throw new InvalidDataException($"{Member}: {key} has shape ({string.Join(", ", value.shape)}); this model's has ({string.Join(", ", mine.shape)}).");
            }
            if (mine.is_floating_point() != value.is_floating_point())
            {
                throw new InvalidDataException($"{Member}: {key} has dtype {value.dtype}; this model's has {mine.dtype}.");
            }
        }

        // Everything is checked: now the model changes.
        foreach ((GaussianConditional module, Tensor table) in scaleTables) module.SetScaleTable(table);
        using (no_grad())
        {
            foreach ((string key, Tensor value) in entries) own[key].copy_(value.to(own[key].dtype));
        }
        foreach ((Action<QuantizedCdf?> install, QuantizedCdf? cdfs) in tableLoads) install(cdfs);
    }

    /// <summary>Whether <paramref name="key"/> is a Gaussian conditional's scale table (taken from the checkpoint only when it holds one).</summary>
    private static bool IsScaleTable(CompressionModel model, string key) =>
        key.EndsWith(".scale_table", StringComparison.Ordinal) && model.named_modules().Any(m => m.module is GaussianConditional && key == m.name + ".scale_table");

    /// <summary>CompressAI's older key names (<c>_matrix0</c>) under an entropy bottleneck, as its current ones (<c>matrices.0</c>).</summary>
    private static string Renamed(CompressionModel model, string key)
    {
        int dot = key.LastIndexOf('.');
        if (dot < 0) return key;
        string leaf = key[(dot + 1)..];
        foreach ((string old, string now) in OldNames)
        {
            if (leaf.StartsWith(old, StringComparison.Ordinal) && int.TryParse(leaf[old.Length..], NumberStyles.None, CultureInfo.InvariantCulture, out int k))
            {
                string module = key[..dot];
                if (model.named_modules().Any(m => m.name == module && m.module is EntropyBottleneck)) return $"{module}.{now}{k}";
            }
        }
        return key;
    }

    /// <summary>The coding tables stored under <paramref name="prefix"/> (null when CompressAI's model had none yet), validated.</summary>
    private static QuantizedCdf? Tables(Dictionary<string, Tensor> entries, string prefix)
    {
        Tensor padded = Take(entries, prefix + TableKeys[0]), lengths = Take(entries, prefix + TableKeys[1]), offsets = Take(entries, prefix + TableKeys[2]);
        if (padded.numel() == 0 && lengths.numel() == 0 && offsets.numel() == 0) return null;
        try
        {
            return EntropyTables.ParsePadded(padded, lengths, offsets);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{Member}: the coding tables {prefix}_quantized_cdf, _cdf_length and _offset are not valid: {e.Message}", e);
        }
    }

    private static Tensor CheckScaleTable(string key, Tensor table)
    {
        if (table.dim() != 1 || !table.is_floating_point()) throw new InvalidDataException($"{Member}: {key} has shape ({string.Join(", ", table.shape)}) and dtype {table.dtype}; expected a 1-dim float tensor.");
        double[] values = table.to(ScalarType.Float64).cpu().data<double>().ToArray();
        for (int i = 0; i < values.Length; i++)
        {
            if (!(double.IsFinite(values[i]) && values[i] > 0 && (i == 0 || values[i] > values[i - 1])))
            {
                throw new InvalidDataException($"{Member}: {key}[{i}] is {values[i]}; the entries must be finite, > 0 and increasing.");
            }
        }
        return table;
    }

    private static void CheckConstant(string key, Tensor value, double expected)
    {
        double actual = value.numel() == 1 && value.is_floating_point() ? value.to(ScalarType.Float64).item<double>() : double.NaN;
        if (!(Math.Abs(actual - expected) <= 1e-6 * Math.Abs(expected)))
        {
            throw new InvalidDataException($"{Member}: {key} is {(value.numel() == 1 ? actual.ToString(CultureInfo.InvariantCulture) : $"a tensor of shape ({string.Join(", ", value.shape)})")}; this model has {expected.ToString(CultureInfo.InvariantCulture)} (construct it with the checkpoint's settings).");
        }
    }

    private static Tensor Take(Dictionary<string, Tensor> entries, string key)
    {
        if (!entries.Remove(key, out Tensor? value)) throw new InvalidDataException($"{Member}: the state dict has no {key}, which CompressAI's model saves.");
        return value;
    }

    private static string List(string[] keys) => keys.Length == 0 ? "none" : string.Join(", ", keys.Order(StringComparer.Ordinal).Take(6)) + (keys.Length > 6 ? $" and {keys.Length - 6} more" : "");
}
