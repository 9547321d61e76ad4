using System;
using System.Linq;
using SoftRound.Tf.Quantization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace QuantizationAwareTraining;

/// <summary>The small CNN of the example, in floating point and quantized.</summary>
public static class Cnn
{
    // TorchSharp's BatchNorm2d.forward counts batches with a temporary Scalar of its own (rule SRTF001; README, "A rare
    // crash in long runs"), and the library's QAT folding takes TorchSharp's BatchNorm2d: the float model's training
    // (minutes) accepts that risk. Its QAT copy folds each batch norm into a QuantConvBn2d, which never calls forward.
#pragma warning disable SRTF001
    /// <summary>conv 3×3 (1→16) · batch norm · ReLU · max-pool 2 · conv 3×3 (16→32) · batch norm · ReLU · max-pool 2 · linear (1568→10).</summary>
    public static Sequential Float() => nn.Sequential(
        ("conv1", nn.Conv2d(1, 16, 3, padding: 1, bias: false)), ("bn1", nn.BatchNorm2d(16)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(2)),
        ("conv2", nn.Conv2d(16, 32, 3, padding: 1, bias: false)), ("bn2", nn.BatchNorm2d(32)), ("relu2", nn.ReLU()), ("pool2", nn.MaxPool2d(2)),
        ("flatten", nn.Flatten()), ("fc", nn.Linear(32 * 7 * 7, 10)));
#pragma warning restore SRTF001

    /// <summary>
    /// A quantized copy of <paramref name="model"/> (from <see cref="Float"/>): weights <paramref name="bits"/> bits
    /// signed symmetric per output channel, activations <paramref name="bits"/> bits unsigned (they follow a ReLU), the
    /// image itself 8 bits (it is 8-bit data). With <paramref name="edgesAt8Bits"/> the first and the last layer (weights
    /// and inputs) stay at 8 bits, as in LSQ's experiments. Learned scales (LSQ) for QAT, observed ones for post-training
    /// calibration. A convolution's batch norm is folded into it as <see cref="QuantizationOps.prepare_qat"/> folds it: for
    /// QAT a <see cref="QuantConvBn2d"/> (the batch norm's statistics still train), for calibration the eval-mode fold.
    /// </summary>
    public static Sequential Quantized(Sequential model, int bits, RoundingGradient rounding, double? steepness, bool learnScales, bool edgesAt8Bits = false)
    {
        var image = new QuantSpec(8, signed: false, symmetric: false);
        int layers = 0, last = 0;
        foreach ((string _, nn.Module child) in model.named_children()) if (child is Conv2d or Linear) last = layers++;
        QuantObserver? WeightObserver() => learnScales ? null : new MinMaxObserver();
        QuantObserver? InputObserver() => learnScales ? null : new MseObserver();
        var result = nn.Sequential();
        var children = model.named_children().ToArray();
        int layer = 0;
        for (int i = 0; i < children.Length; i++)
        {
            (string name, nn.Module child) = children[i];
            int width = edgesAt8Bits && (layer == 0 || layer == last) ? 8 : bits;
            var weights = new QuantSpec(width, axis: 0);
            QuantSpec input = layer == 0 ? image : new QuantSpec(width, signed: false, symmetric: false);
            BatchNorm2d? bn = i + 1 < children.Length ? children[i + 1].module as BatchNorm2d : null;
            nn.Module<Tensor, Tensor> module = (child, bn) switch
            {
                (Conv2d conv, not null) when learnScales => QuantConvBn2d.from_conv_bn(conv, bn, weights, input, rounding, steepness, learnScales, WeightObserver(), InputObserver()),
                (Conv2d conv, not null) => QuantConv2d.from_conv2d(QuantizationOps.fuse_conv_bn_eval(conv, bn), weights, input, rounding, steepness, learnScales, WeightObserver(), InputObserver()),
                (Conv2d conv, null) => QuantConv2d.from_conv2d(conv, weights, input, rounding, steepness, learnScales, WeightObserver(), InputObserver()),
                (Linear linear, _) => QuantLinear.from_linear(linear, weights, input, rounding, steepness, learnScales, WeightObserver(), InputObserver()),
                _ => (nn.Module<Tensor, Tensor>)child,
            };
            if (child is Conv2d or Linear) layer++;
            result.append(name, module);
            if (child is Conv2d && bn is not null) result.append(children[++i].name, nn.Identity());
        }
        return result;
    }

    /// <summary>Every fake quantizer of a model built by <see cref="Quantized"/>.</summary>
    public static FakeQuantizeLayer[] Quantizers(Sequential model)
    {
        var list = new System.Collections.Generic.List<FakeQuantizeLayer>();
        foreach ((string _, nn.Module m) in model.named_modules()) if (m is FakeQuantizeLayer q) list.Add(q);
        return list.ToArray();
    }
}
