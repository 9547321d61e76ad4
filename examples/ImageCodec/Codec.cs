using System;
using System.IO;
using static TorchSharp.torch;
using SoftRound.Tf.Compression;

namespace ImageCodec;

/// <summary>Compresses an image to an .srz file with a trained <see cref="FactorizedPrior"/>, and back.</summary>
public static class Codec
{
    /// <summary>
    /// The .srz file of <paramref name="image"/> (1, 3, H, W) in [0, 1]: padded to multiples of 16 by repeating its
    /// edges, y = g_a(x), and the bottleneck's stream of round(y − medians). The model must be in eval mode with
    /// its tables built (<c>EntropyBottleneck.update()</c>).
    /// </summary>
    public static byte[] Compress(FactorizedPrior model, Tensor image)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        int height = (int)image.shape[2], width = (int)image.shape[3];
        Tensor y = model.analysis(Images.Pad(image, model.downsampling_factor));
        byte[] stream = model.EntropyBottleneck.compress(y)[0];
        return SrzFile.Write(new SrzFile.Header(Weights.Identifier(model), width, height), stream);
    }

    /// <summary>The image of an .srz file: ŷ from its stream, x̂ = g_s(ŷ) cropped to the image's size and clamped to [0, 1].</summary>
    /// <exception cref="InvalidDataException">The file is not one this model can decode (see <see cref="SrzFile.Read"/>), or its stream is damaged.</exception>
    public static Tensor Decompress(FactorizedPrior model, byte[] file)
    {
        (SrzFile.Header header, byte[] stream) = SrzFile.Read(file, Weights.Identifier(model));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        long h = (header.Height + model.downsampling_factor - 1) / model.downsampling_factor, w = (header.Width + model.downsampling_factor - 1) / model.downsampling_factor;
        Tensor yHat = model.EntropyBottleneck.decompress(new[] { stream }, new[] { h, w });
        Tensor xHat = model.synthesis(yHat);
        return Images.Crop(xHat, header.Width, header.Height).clamp(0, 1).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>The eval forward pass on the padded image, cropped and clamped as <see cref="Decompress"/> gives it, and the likelihoods.</summary>
    public static (Tensor image, Tensor likelihoods) Forward(FactorizedPrior model, Tensor image)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        CompressionOutput output = model.call(Images.Pad(image, model.downsampling_factor));
        (Tensor xHat, Tensor likelihoods) = (output.x_hat, output.likelihoods["y"]);
        Tensor cropped = Images.Crop(xHat, (int)image.shape[3], (int)image.shape[2]).clamp(0, 1).contiguous();
        return (cropped.MoveToOuterDisposeScope(), likelihoods.MoveToOuterDisposeScope());
    }
}
