using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using SoftRound.Tf.Compression;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ImageCodec;

/// <summary>
/// Starts a wider model (more hidden channels N, more latent channels M) from a trained narrower one of the same
/// architecture so that it computes what the narrower one computed: the capacity grows without losing what training
/// has reached (the function-preserving widening of Net2Net, Chen et al. 2016, with new units that start at 0 where
/// their outputs would be seen).
/// </summary>
/// <remarks>
/// Every tensor of the narrower model is copied into its place in the wider one; the places are the leading ones of
/// each channel dimension, except where a dimension is two blocks side by side (the scales and the means of the entropy
/// parameters, and the h_s and context halves of a joint model's <c>entropy_parameters</c> input), which are copied
/// block by block. Then:
/// <list type="bullet">
/// <item>each convolution's old output channels get weight 0 from its new input channels, so no old unit sees a new one;</item>
/// <item>the new output channels of g_a's and h_a's last convolutions (y and z) and of the layer that gives the entropy
/// parameters are 0 (weights and biases): the new latents are 0, coded at the scale's lower bound and mean 0, and
/// decode to 0 (rounded about a mean of 0);</item>
/// <item>every other new weight keeps the wider model's random start: a new unit's input weights, among them g_s's and
/// h_s's from the new latents. So the new units' outputs are not all 0, the old units' weights from them (0) get a
/// gradient at the first step, and from the second the distortion's gradient reaches the new units and latents (were
/// the new units' input weights 0 as well, nothing new would ever move);</item>
/// <item>GDN's γ between old and new channels and the entropy bottleneck's densities of the new channels of z keep the
/// wider model's start (γ 0 off the diagonal), and so do buffers of another size (a scale table, which <c>update()</c>
/// replaces, and the context model's mask, the same for every channel).</item>
/// </list>
/// Decoded, the wider model gives the narrower one's x̂ and its likelihoods for the old channels (to float32
/// rounding); it also codes the new channels, ŷ's at a rate near 0 and ẑ's at the start densities' rate until
/// training fits them.
/// </remarks>
public static class Widening
{
    /// <summary>
    /// Copies <paramref name="source"/> into <paramref name="target"/> as the class describes; the target's other
    /// weights are taken as its random start.
    /// </summary>
    /// <exception cref="InvalidDataException">
    /// The two are not the same architecture, the architecture is not a factorized, scale, mean-scale or joint
    /// autoregressive model, or the target is narrower than the source in N or M; the message says which.
    /// </exception>
    public static void Widen(CompressionModel source, CompressionModel target)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        if (source.GetType() != target.GetType())
            throw new InvalidDataException($"{nameof(Widening)}.{nameof(Widen)}: cannot widen a {source.GetName()} into a {target.GetName()}.");
        Layout layout = LayoutOf(target);
        if (target.N < source.N || target.M < source.M)
            throw new InvalidDataException($"{nameof(Widening)}.{nameof(Widen)}: the target (N = {target.N}, M = {target.M}) is narrower than the source (N = {source.N}, M = {source.M}).");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using Scalar zero = 0.ToScalar();
        Dictionary<string, Tensor> from = source.state_dict();
        Dictionary<string, nn.Module> modules = target.named_modules().ToDictionary(m => m.name, m => m.module);
        var parameters = target.named_parameters().Select(p => p.name).ToHashSet();
        foreach ((string name, Tensor to) in target.state_dict())
        {
            Tensor old = from[name];
            if (old.shape.SequenceEqual(to.shape))
            {
                to.copy_(old);
                continue;
            }
            // Buffers of another size (a scale table, the context model's mask) are the wider model's own.
            if (!parameters.Contains(name)) continue;
            int dot = name.LastIndexOf('.');
            string owner = name[..dot], entry = name[(dot + 1)..];
            modules.TryGetValue(owner, out nn.Module? module);
            bool convolution = module is Conv2d or ConvTranspose2d or MaskedConv2d && entry is "weight" or "bias";
            // A bias has only outputs; a transposed convolution's weight is (in, out, …), the others' (out, in, …).
            (int outDim, int inDim) = entry == "bias" ? (0, -1) : module is ConvTranspose2d ? (1, 0) : (0, 1);
            var maps = new Tensor[to.dim()];
            for (int d = 0; d < maps.Length; d++)
            {
                int blocks = !convolution ? 1 : d == outDim ? layout.Blocks(owner, Side.Output) : d == inDim ? layout.Blocks(owner, Side.Input) : 1;
                maps[d] = Map(old.shape[d], to.shape[d], blocks);
            }
            CopyInto(to, old, maps, 0);
            if (!convolution) continue;
            if (inDim >= 0 && to.shape[inDim] > old.shape[inDim])
            {
                Tensor rows = to.index_select(outDim, maps[outDim]);
                rows.index_fill_(inDim, Complement(maps[inDim], to.shape[inDim]), zero);
                to.index_copy_(outDim, maps[outDim], rows);
            }
            if (layout.ZeroNewOutputs.Contains(owner) && to.shape[outDim] > old.shape[outDim])
                to.index_fill_(outDim, Complement(maps[outDim], to.shape[outDim]), zero);
        }
    }

    private enum Side { Input, Output }

    /// <summary>The layers whose new outputs start at 0 and the channel dimensions made of two blocks, by layer name.</summary>
    private sealed record Layout(string[] ZeroNewOutputs, string[] TwoBlockOutputs, string[] TwoBlockInputs)
    {
        public int Blocks(string layer, Side side) => (side == Side.Output ? TwoBlockOutputs : TwoBlockInputs).Contains(layer) ? 2 : 1;
    }

    // The names are CompressAI's: g_a.6 gives y, h_a.4 z, and h_s.4 or entropy_parameters.4 the entropy parameters
    // (scales, then means where there are means); a joint model's entropy_parameters.0 takes h_s's 2M, then the context's 2M.
    private static Layout LayoutOf(CompressionModel model) => model switch
    {
        FactorizedPrior => new(new[] { "g_a.6" }, Array.Empty<string>(), Array.Empty<string>()),
        ScaleHyperprior => new(new[] { "g_a.6", "h_a.4", "h_s.4" }, Array.Empty<string>(), Array.Empty<string>()),
        MeanScaleHyperprior => new(new[] { "g_a.6", "h_a.4", "h_s.4" }, new[] { "h_s.4" }, Array.Empty<string>()),
        JointAutoregressiveHierarchicalPriors => new(new[] { "g_a.6", "h_a.4", "entropy_parameters.4" }, new[] { "entropy_parameters.4" }, new[] { "entropy_parameters.0" }),
        _ => throw new InvalidDataException($"{nameof(Widening)}.{nameof(Widen)}: cannot widen a {model.GetName()}; only the factorized, scale, mean-scale and joint autoregressive models."),
    };

    // Where each of the old size's indices goes in the new size: block b's index j to b·(new block) + j. The channel
    // counts grow with N and M, and two-block dimensions are 2M or 4M wide, so the blocks divide both sizes.
    private static Tensor Map(long oldSize, long newSize, int blocks)
    {
        long oldBlock = oldSize / blocks, newBlock = newSize / blocks;
        return tensor(Enumerable.Range(0, (int)oldSize).Select(j => j / oldBlock * newBlock + j % oldBlock).ToArray());
    }

    private static Tensor Complement(Tensor map, long size)
    {
        var taken = new HashSet<long>(map.data<long>().ToArray());
        return tensor(Enumerable.Range(0, (int)size).Select(j => (long)j).Where(j => !taken.Contains(j)).ToArray());
    }

    // to[maps[0][i0], maps[1][i1], …] = from[i0, i1, …], one dimension at a time.
    private static void CopyInto(Tensor to, Tensor from, Tensor[] maps, int dim)
    {
        Tensor part = dim == maps.Length - 1 ? from : to.index_select(dim, maps[dim]);
        if (dim < maps.Length - 1) CopyInto(part, from, maps, dim + 1);
        to.index_copy_(dim, maps[dim], part);
    }
}
