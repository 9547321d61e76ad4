using System;
using System.Collections.Generic;
using System.Linq;
using SoftRound.Tf.Kernels;

namespace SoftRound.Tf.Quantization;

/// <summary>
/// The reference integer inference of a <see cref="QuantizedGraph"/>, one sample at a time in plain loops: every layer
/// accumulates Σ (q_x − Z_x)·q_w + q_b in int32 (checked) and requantizes into the next layer's input grid with a
/// fixed-point multiplier, q = clamp(⌊(acc·m + 2^(t−1))/2^t⌋ + Z_next, qmin, qmax) in 64-bit integers (gemmlowp's
/// rounding up at ties); ReLU and max pooling act on the codes; the last layer's output is acc·s_x·s_w in float32.
/// </summary>
internal static class IntegerReference
{
    /// <summary>
    /// One sample (C, H, W) or (F) through the graph: codes between layers, floats after the last. With
    /// <paramref name="trace"/>, the codes every quantized layer takes as input are added to it.
    /// </summary>
    public static float[] Run(QuantizedGraph graph, float[] x, long[] shape, List<int[]>? trace = null)
    {
        IReadOnlyList<QuantizedStep> steps = graph.Steps;
        var first = (QuantizedLayer)steps[0];
        var grid = new FakeQuantizeKernel.Grid<float>(first.InputScale, first.InputZero, first.InputMin, first.InputMax);
        int[] codes = x.Select(v => (int)FakeQuantizeKernel.Code(v, grid)).ToArray();
        float[]? result = null;
        for (int i = 0; i < steps.Count; i++)
        {
            switch (steps[i])
            {
                case QuantizedLayer layer:
                    trace?.Add((int[])codes.Clone());
                    int[] acc = Accumulate(layer, codes, shape, out long[] next);
                    shape = next;
                    QuantizedLayer? target = graph.NextLayer(i);
                    if (target is null) result = Dequantize(layer, acc);
                    else codes = Requantize(layer, acc, target);
                    break;
                case ReluStep when result is not null:
                    for (int j = 0; j < result.Length; j++) result[j] = Math.Max(result[j], 0f);
                    break;
                case ReluStep:
                    int zero = graph.NextLayer(i)!.InputZero;
                    for (int j = 0; j < codes.Length; j++) codes[j] = Math.Max(codes[j], zero);
                    break;
                case MaxPoolStep pool:
                    codes = Pool(pool, codes, shape, out shape);
                    break;
                case FlattenStep flatten:
                    shape = flatten.Shape(shape);
                    break;
            }
        }
        return result!;
    }

    /// <summary>The sample shape the graph's output has for input samples of <paramref name="shape"/>.</summary>
    public static long[] OutputShape(QuantizedGraph graph, long[] shape)
    {
        foreach (QuantizedStep s in graph.Steps) shape = s.Shape(shape);
        return shape;
    }

    /// <summary>acc = Σ (q_x − Z_x)·q_w + q_b per output, in int32 (checked).</summary>
    private static int[] Accumulate(QuantizedLayer l, int[] x, long[] shape, out long[] next)
    {
        next = l.Shape(shape);
        sbyte[] codes = l.Codes;
        if (!l.Convolution)
        {
            var acc = new int[l.OutChannels];
            for (int o = 0; o < l.OutChannels; o++)
            {
                long sum = l.Bias?[o] ?? 0;
                int row = o * l.InChannels;
                for (int i = 0; i < l.InChannels; i++) sum += (long)(x[i] - l.InputZero) * codes[row + i];
                acc[o] = checked((int)sum);
            }
            return acc;
        }
        int h = (int)shape[1], w = (int)shape[2], oh = (int)next[1], ow = (int)next[2], perGroupIn = l.InChannels / l.Groups, perGroupOut = l.OutChannels / l.Groups;
        var result = new int[l.OutChannels * oh * ow];
        for (int o = 0; o < l.OutChannels; o++)
        {
            int g = o / perGroupOut;
            for (int y = 0; y < oh; y++)
            for (int xo = 0; xo < ow; xo++)
            {
                long sum = l.Bias?[o] ?? 0;
                for (int ci = 0; ci < perGroupIn; ci++)
                {
                    int channel = g * perGroupIn + ci;
                    for (int i = 0; i < l.Kh; i++)
                    {
                        int yy = y * l.Sh - l.Ph + i * l.Dh;
                        if (yy < 0 || yy >= h) continue;
                        for (int j = 0; j < l.Kw; j++)
                        {
                            int xx = xo * l.Sw - l.Pw + j * l.Dw;
                            if (xx < 0 || xx >= w) continue;
                            sum += (long)(x[(channel * h + yy) * w + xx] - l.InputZero) * codes[((o * perGroupIn + ci) * l.Kh + i) * l.Kw + j];
                        }
                    }
                }
                result[(o * oh + y) * ow + xo] = checked((int)sum);
            }
        }
        return result;
    }

    /// <summary>The accumulators' real values acc·s_x·s_w, with the scales in float32 as the fake-quantized model has them.</summary>
    private static float[] Dequantize(QuantizedLayer l, int[] acc)
    {
        int per = acc.Length / l.OutChannels;
        var y = new float[acc.Length];
        for (int o = 0; o < l.OutChannels; o++)
        {
            double step = l.Step(o);
            for (int j = 0; j < per; j++) y[o * per + j] = (float)(acc[o * per + j] * step);
        }
        return y;
    }

    /// <summary>Codes in <paramref name="target"/>'s input grid: clamp(⌊(acc·m + 2^(t−1))/2^t⌋ + Z, qmin, qmax) with M = m·2^−t.</summary>
    private static int[] Requantize(QuantizedLayer l, int[] acc, QuantizedLayer target)
    {
        int per = acc.Length / l.OutChannels;
        var q = new int[acc.Length];
        (long m, int t)[] multipliers = l.Multipliers(target);
        for (int o = 0; o < l.OutChannels; o++)
        {
            (long m, int t) = multipliers[o];
            for (int j = 0; j < per; j++)
            {
                long v = ((acc[o * per + j] * m) + (1L << (t - 1))) >> t;
                q[o * per + j] = (int)Math.Clamp(v + target.InputZero, target.InputMin, target.InputMax);
            }
        }
        return q;
    }

    /// <summary>Max pooling of codes; padded positions never win.</summary>
    private static int[] Pool(MaxPoolStep p, int[] codes, long[] shape, out long[] next)
    {
        next = p.Shape(shape);
        int c = (int)shape[0], h = (int)shape[1], w = (int)shape[2], oh = (int)next[1], ow = (int)next[2];
        var result = new int[c * oh * ow];
        for (int ch = 0; ch < c; ch++)
        for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++)
        {
            int best = int.MinValue;
            for (int i = 0; i < p.Kh; i++)
            for (int j = 0; j < p.Kw; j++)
            {
                int yy = y * p.Sh - p.Ph + i, xx = x * p.Sw - p.Pw + j;
                if (yy >= 0 && yy < h && xx >= 0 && xx < w) best = Math.Max(best, codes[(ch * h + yy) * w + xx]);
            }
            result[(ch * oh + y) * ow + x] = best;
        }
        return result;
    }
}
