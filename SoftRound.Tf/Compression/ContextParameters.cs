using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using System.Runtime.CompilerServices;
using SoftRound.Tf.Internals;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf.Compression;

/// <summary>
/// The entropy parameters of one latent position of <see cref="JointAutoregressiveHierarchicalPriors"/> in managed
/// float64: the context c = b + Σ W·ŷ over the taps its <see cref="MaskedConv2d"/> opens, then the entropy-parameter
/// network's 1×1 convolutions on [hyperprior parameters, c] with their activations. What its sequential coding calls
/// once per position, as a few dense products instead of some fifty small tensor operations.
/// </summary>
/// <remarks>
/// Every sum is taken in one fixed order, whatever the machine: y[o] = b[o], then y[o] += W[i, o]·x[i] for i
/// ascending, each product rounded before it is added (no fused multiply-add). The vector path only computes several
/// outputs at once, each in that order, so it equals the scalar reference bit for bit on every vector width, and an
/// encoder and a decoder on different machines find the same scales and means (libtorch's float64 kernels agree only
/// to about 10⁻¹⁵). The weights are read once, to the host, when the instance is made. Not for use by several
/// threads at once.
/// </remarks>
internal sealed class ContextParameters
{
    /// <summary>One 1×1 convolution (weights [in][out]) and the LeakyReLU after it (its slope; null for none).</summary>
    private sealed record Dense(string Name, int Inputs, int Outputs, double[] Weight, double[] Bias, double? Slope);

    private readonly (int Row, int Column)[] taps;
    private readonly int channels;
    private readonly Dense context;
    private readonly Dense[] network;
    private readonly double[] window, joined;
    private readonly double[][] hidden;

    /// <summary>The parameters of <paramref name="contextPrediction"/> followed by <paramref name="entropyParameters"/>.</summary>
    /// <exception cref="NotSupportedException">
    /// The network holds a layer other than a 1×1, stride-1, unpadded, ungrouped Conv2d or a LeakyReLU after one, or a
    /// layer does not take the channels the one before gives (the first: the hyperprior's and the context's); the
    /// message names <paramref name="member"/> and the layer.
    /// </exception>
    public ContextParameters(string member, MaskedConv2d contextPrediction, Sequential entropyParameters)
    {
        using var scope = NewDisposeScope();
        Tensor masked = contextPrediction.masked_weight().detach().to(ScalarType.Float64, CPU);
        long outputs = masked.shape[0], kernel = masked.shape[2];
        channels = (int)masked.shape[1];
        // The taps the mask opens for some channel pair, in raster order.
        double[] mask = contextPrediction.mask.to(ScalarType.Float64, CPU).abs().sum(new long[] { 0, 1 }).data<double>().ToArray();
        taps = Enumerable.Range(0, mask.Length).Where(t => mask[t] != 0).Select(t => (Row: t / (int)kernel, Column: t % (int)kernel)).ToArray();
        // [tap][in][out], taps in raster order.
        var weight = new double[taps.Length * channels * outputs];
        for (int t = 0; t < taps.Length; t++)
        {
            double[] tap = masked[.., .., taps[t].Row, taps[t].Column].t().contiguous().data<double>().ToArray();
            Array.Copy(tap, 0, weight, t * channels * outputs, tap.Length);
        }
        context = new Dense("context", taps.Length * channels, (int)outputs, weight, Values(contextPrediction.bias, outputs), null);
        network = Layers(member, entropyParameters).ToArray();
        if (network.Length == 0 || network[0].Inputs <= outputs)
        {
            throw new NotSupportedException($"{member}: the entropy-parameter network's first layer must take the hyperprior's channels and the context's {outputs}.");
        }
        for (int l = 1; l < network.Length; l++)
        {
            if (network[l].Inputs != network[l - 1].Outputs)
            {
                throw new NotSupportedException($"{member}: entropy-parameter layer {network[l].Name} takes {network[l].Inputs} channels; the one before gives {network[l - 1].Outputs}.");
            }
        }
        window = new double[context.Inputs];
        joined = new double[network[0].Inputs];
        hidden = network.Select(d => new double[d.Outputs]).ToArray();
    }

    /// <summary>The channels of the hyperprior's parameters the first layer takes before the context's.</summary>
    public int HyperChannels => joined.Length - context.Outputs;

    /// <summary>The channels of the result (scales, then means).</summary>
    public int Outputs => network[^1].Outputs;

    /// <summary>
    /// The network's output at padded position (<paramref name="row"/> + p, <paramref name="column"/> + p) of
    /// <paramref name="plane"/> (positions of <paramref name="planeWidth"/> columns, each its latents' channels in a row;
    /// p the mask's centre), its window's top-left corner at (row, column), with <paramref name="hyper"/> the
    /// hyperprior's parameters there; written to <paramref name="output"/> (<see cref="Outputs"/> values).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Compute(ReadOnlySpan<double> plane, int planeWidth, int row, int column, ReadOnlySpan<double> hyper, Span<double> output)
    {
        for (int t = 0; t < taps.Length; t++)
        {
            plane.Slice(((row + taps[t].Row) * planeWidth + column + taps[t].Column) * channels, channels).CopyTo(window.AsSpan(t * channels));
        }
        hyper.CopyTo(joined);
        Apply(context, window, joined.AsSpan(hyper.Length));
        ReadOnlySpan<double> x = joined;
        for (int l = 0; l < network.Length; l++)
        {
            Span<double> y = l == network.Length - 1 ? output : hidden[l];
            Apply(network[l], x, y);
            x = y;
        }
    }

    private static void Apply(Dense layer, ReadOnlySpan<double> x, Span<double> y)
    {
        Affine(x, layer.Weight, layer.Bias, y);
        if (layer.Slope is not double slope) return;
        for (int o = 0; o < y.Length; o++)
        {
            if (!(y[o] > 0)) y[o] *= slope;
        }
    }

    /// <summary>y[o] = b[o] + Σ_i W[i, o]·x[i] (W as [in][out]), i ascending, each product rounded: the vector path, bit for bit <see cref="AffineScalar"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Affine(ReadOnlySpan<double> x, ReadOnlySpan<double> weight, ReadOnlySpan<double> bias, Span<double> y)
    {
        int outputs = y.Length, width = Vector<double>.Count, o = 0;
        if (Vector.IsHardwareAccelerated)
        {
            // Four vectors of outputs held in registers over all the inputs.
            for (; o + 4 * width <= outputs; o += 4 * width)
            {
                Vector<double> a0 = new(bias[o..]), a1 = new(bias[(o + width)..]), a2 = new(bias[(o + 2 * width)..]), a3 = new(bias[(o + 3 * width)..]);
                for (int i = 0; i < x.Length; i++)
                {
                    ReadOnlySpan<double> row = weight.Slice(i * outputs + o, 4 * width);
                    Vector<double> xi = new(x[i]);
                    a0 += new Vector<double>(row) * xi;
                    a1 += new Vector<double>(row[width..]) * xi;
                    a2 += new Vector<double>(row[(2 * width)..]) * xi;
                    a3 += new Vector<double>(row[(3 * width)..]) * xi;
                }
                a0.CopyTo(y[o..]);
                a1.CopyTo(y[(o + width)..]);
                a2.CopyTo(y[(o + 2 * width)..]);
                a3.CopyTo(y[(o + 3 * width)..]);
            }
            for (; o + width <= outputs; o += width)
            {
                Vector<double> a = new(bias[o..]);
                for (int i = 0; i < x.Length; i++) a += new Vector<double>(weight.Slice(i * outputs + o, width)) * new Vector<double>(x[i]);
                a.CopyTo(y[o..]);
            }
        }
        AffineScalar(x, weight, bias, y, o);
    }

    /// <summary>The scalar reference of <see cref="Affine"/>, for outputs <paramref name="from"/> on.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AffineScalar(ReadOnlySpan<double> x, ReadOnlySpan<double> weight, ReadOnlySpan<double> bias, Span<double> y, int from = 0)
    {
        int outputs = y.Length;
        for (int o = from; o < outputs; o++)
        {
            double a = bias[o];
            for (int i = 0; i < x.Length; i++) a += weight[i * outputs + o] * x[i];
            y[o] = a;
        }
    }

    private static IEnumerable<Dense> Layers(string member, Sequential network)
    {
        var children = network.named_children().ToArray();
        for (int k = 0; k < children.Length; k++)
        {
            (string name, nn.Module module) = children[k];
            if (module is not Conv2d c || c.weight!.shape[2] != 1 || c.weight.shape[3] != 1 || c.stride.Any(s => s != 1) || (c.padding ?? Array.Empty<long>()).Any(p => p != 0) || c.groups != 1 || c.padding_type is not null)
            {
                throw new NotSupportedException($"{member}: entropy-parameter layer {name} ({module.GetName()}) is not a 1×1 convolution of stride 1 without padding or groups, or a LeakyReLU after one.");
            }
            double? slope = k + 1 < children.Length ? children[k + 1].module switch
            {
                KeptLeakyReLU kept => kept.negative_slope,
                LeakyReLU leaky => leaky.negative_slope,
                _ => null,
            } : null;
            if (slope is not null) k++;
            using var scope = NewDisposeScope();
            Tensor w = c.weight.detach().to(ScalarType.Float64, CPU);
            yield return new Dense(name, (int)w.shape[1], (int)w.shape[0], w[.., .., 0, 0].t().contiguous().data<double>().ToArray(), Values(c.bias, w.shape[0]), slope);
        }
    }

    private static double[] Values(Tensor? bias, long outputs) => bias is null ? new double[outputs] : bias.detach().to(ScalarType.Float64, CPU).data<double>().ToArray();
}
