using System.Collections.Generic;
using System.Linq;
using SoftRound.Tf.Entropy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf.Compression;

/// <summary>
/// CompressAI's <c>ChannelGroupsLatentCodec</c> (Minnen &amp; Singh 2020, He et al. 2022): y split into channel groups
/// coded one after another, group k by its own <see cref="CheckerboardLatentCodec"/> (key <c>latent_codec.y{k}</c>) given
/// [channel context, side] for k ≥ 1, the channel context <c>channel_context.y{k}</c> of the groups decoded before it
/// (all of them, or with <c>firstAndLast</c> the first and the latest: ELIC as Chandelier's implementation has it), and
/// the side parameters alone for group 0. Its streams are each group's two, in order.
/// </summary>
internal sealed class ChannelGroupsLatentCodec : nn.Module, ISpatialLatentCodec
{
    internal readonly ModuleDict<Sequential> channel_context;
    internal readonly ModuleDict<CheckerboardLatentCodec> latent_codec;
    private readonly long[] groups;
    private readonly bool firstAndLast;

    public ChannelGroupsLatentCodec(long[] groups, Sequential[] channelContext, CheckerboardLatentCodec[] groupCodecs, bool firstAndLast)
        : base(nameof(ChannelGroupsLatentCodec))
    {
        this.groups = groups;
        this.firstAndLast = firstAndLast;
        channel_context = nn.ModuleDict(channelContext.Select((m, i) => ($"y{i + 1}", m)).ToArray());
        latent_codec = nn.ModuleDict(groupCodecs.Select((m, i) => ($"y{i}", m)).ToArray());
        RegisterComponents();
    }

    /// <inheritdoc/>
    public int Streams => 2 * groups.Length;

    /// <inheritdoc/>
    public (Tensor yHat, Tensor likelihoods) Forward(Tensor y, Tensor side)
    {
        Tensor[] parts = y.split(groups, 1);
        var yHats = new List<Tensor>();
        var likelihoods = new List<Tensor>();
        for (int k = 0; k < groups.Length; k++)
        {
            Tensor parameters = k == 0 ? side : cat(new[] { channel_context[$"y{k}"].call(Merge(yHats)), side }, 1);
            (Tensor yHat, Tensor p) = latent_codec[$"y{k}"].Forward(parts[k], parameters);
            yHats.Add(yHat);
            likelihoods.Add(p);
        }
        return (cat(yHats, 1), cat(likelihoods, 1));
    }

    /// <inheritdoc/>
    public (byte[][][] strings, Tensor yHat) Compress(string owner, Tensor y, Tensor side, RansStreamLayout layout)
    {
        Tensor[] parts = y.split(groups, 1);
        var yHats = new List<Tensor>();
        var strings = new List<byte[][]>();
        for (int k = 0; k < groups.Length; k++)
        {
            (byte[][][] groupStrings, Tensor yHat) = latent_codec[$"y{k}"].Compress(owner, parts[k], Parameters(owner, k, yHats, side), layout);
            strings.AddRange(groupStrings);
            yHats.Add(yHat);
        }
        return (strings.ToArray(), cat(yHats, 1));
    }

    /// <inheritdoc/>
    public Tensor Decompress(string owner, byte[][][] strings, Tensor side, RansStreamLayout layout)
    {
        var yHats = new List<Tensor>();
        for (int k = 0; k < groups.Length; k++)
        {
            yHats.Add(latent_codec[$"y{k}"].Decompress(owner, strings.Skip(2 * k).Take(2).ToArray(), Parameters(owner, k, yHats, side), layout));
        }
        return cat(yHats, 1);
    }

    /// <summary>Group k's side parameters in float64: [channel context of the decoded groups, side], or the side alone for group 0.</summary>
    private Tensor Parameters(string owner, int k, List<Tensor> decoded, Tensor side) =>
        k == 0 ? side : cat(new[] { new Float64Network(owner, channel_context[$"y{k}"]).call(Merge(decoded)), side }, 1);

    /// <summary>The groups the channel context sees: all decoded so far, or the first and the latest.</summary>
    private Tensor Merge(List<Tensor> decoded) =>
        firstAndLast && decoded.Count > 1 ? cat(new[] { decoded[0], decoded[^1] }, 1) : cat(decoded, 1);
}
