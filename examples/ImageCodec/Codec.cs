using System;
using System.IO;
using System.Linq;
using static TorchSharp.torch;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Entropy;
using SoftRound.Tf.Performance;

namespace ImageCodec;

/// <summary>Compresses an image to an .srz file with a trained <see cref="CompressionModel"/>, and back.</summary>
/// <remarks>
/// Every method runs with oneDNN off (<see cref="MkldnnBackend"/>): its float32 convolutions returned NaN, now and then
/// and not the same from run to run, in the hyperprior models' forward pass (measured: 5 of 60 compress–decompress
/// round trips of the validation photographs on 2 threads, 1 of 60 on one; none of 60 with it off; on one machine its
/// AVX-512 kernels get the hyper-synthesis's shapes wrong every time), and a decoder must compute the scales exactly as
/// the encoder did, whichever kernels a machine's check would allow.
/// </remarks>
public static class Codec
{
    /// <summary>
    /// The scales a hyperprior model codes ŷ with: 256 from 0.11 to 256, evenly spaced in log (CompressAI's 64 cost
    /// 1.7 % above the model's estimate on the validation photographs, these 0.1 %). Part of the .srz format: the
    /// decoder must use the encoder's table.
    /// </summary>
    public static readonly System.Collections.Generic.IReadOnlyList<double> ScaleTable = GaussianConditional.get_scale_table(0.11, 256, 256);

    /// <summary>
    /// The .srz file of <paramref name="image"/> (1, 3, H, W) in [0, 1]: padded to multiples of the model's
    /// downsampling factor by repeating its edges, and the model's streams (<see cref="CompressionModel.compress"/>),
    /// with <paramref name="quality"/> recorded in the header. The model must be in eval mode with its tables built
    /// (<c>update()</c>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The quality is outside 0 to <see cref="SrzFile.MaxQuality"/>, or a side of the image outside 1 to 65535.</exception>
    public static byte[] Compress(CompressionModel model, Tensor image, int quality = 0)
    {
        using var oneDnn = MkldnnBackend.flags(enabled: false);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        int height = (int)image.shape[2], width = (int)image.shape[3];
        CompressedData data = model.compress(Images.Pad(image, model.downsampling_factor));
        return SrzFile.Write(new SrzFile.Header(Weights.Identifier(model), width, height, quality), data.strings.Select(s => s[0]).ToArray());
    }

    /// <summary>The image of an .srz file: ŷ from its streams, x̂ = g_s(ŷ) cropped to the image's size and clamped to [0, 1].</summary>
    /// <exception cref="InvalidDataException">The file is not one this model can decode (see <see cref="SrzFile.Read"/>), holds another number of streams than the model writes, or a stream is damaged.</exception>
    public static Tensor Decompress(CompressionModel model, byte[] file)
    {
        (SrzFile.Header header, byte[][] streams) = SrzFile.Read(file, Weights.Identifier(model));
        using var oneDnn = MkldnnBackend.flags(enabled: false);
        using var scope = NewDisposeScope();
        int factor = model.downsampling_factor;
        var data = new CompressedData(streams.Select(s => new[] { s }).ToArray(), new long[] { (header.Height + factor - 1) / factor, (header.Width + factor - 1) / factor });
        Tensor xHat;
        try
        {
            xHat = model.decompress(data);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"the file's streams ({streams.Length}) do not fit {model.GetName()}: {e.Message}", e);
        }
        return Images.Crop(xHat, header.Width, header.Height).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>The eval forward pass on the padded image, cropped and clamped as <see cref="Decompress"/> gives it, and the likelihoods of every latent.</summary>
    public static (Tensor image, Tensor[] likelihoods) Forward(CompressionModel model, Tensor image)
    {
        using var oneDnn = MkldnnBackend.flags(enabled: false);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        CompressionOutput output = model.call(Images.Pad(image, model.downsampling_factor));
        Tensor cropped = Images.Crop(output.x_hat, (int)image.shape[3], (int)image.shape[2]).clamp(0, 1).contiguous();
        return (cropped.MoveToOuterDisposeScope(), output.likelihoods.Values.Select(l => l.MoveToOuterDisposeScope()).ToArray());
    }
}
