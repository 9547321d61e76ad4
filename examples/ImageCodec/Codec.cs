using System;
using System.Globalization;
using System.IO;
using System.Linq;
using static TorchSharp.torch;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Entropy;
using SoftRound.Tf;
using SoftRound.Tf.Performance;
using TorchSharp;
using TorchSharp.Modules;
using Adam = SoftRound.Tf.Optim.Adam;

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
    /// with <paramref name="quality"/> recorded in the header. With <paramref name="refinement"/> (models that
    /// <see cref="CanRefine"/>), the latents coded are those <see cref="Refine"/> finds for this image; the decoder is
    /// the same. The model must be in eval mode with its tables built (<c>update()</c>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The quality is outside 0 to <see cref="SrzFile.MaxQuality"/>, or a side of the image outside 1 to 65535.</exception>
    /// <exception cref="ArgumentException"><paramref name="refinement"/> is given for a model that cannot refine (<see cref="CanRefine"/>).</exception>
    public static byte[] Compress(CompressionModel model, Tensor image, int quality = 0, Refinement? refinement = null)
    {
        if (refinement is not null && !CanRefine(model))
        {
            throw CannotRefine(nameof(Compress), model, nameof(refinement));
        }
        using var oneDnn = MkldnnBackend.flags(enabled: false);
        using var scope = NewDisposeScope();
        int height = (int)image.shape[2], width = (int)image.shape[3];
        CompressedData data;
        if (refinement is null)
        {
            using var noGrad = no_grad();
            data = model.compress(Images.Pad(image, model.downsampling_factor));
        }
        else
        {
            (Tensor y, Tensor z) = Refine(model, image, refinement);
            data = Joint(model)?.compress_latents(y, z, RansStreamLayout.SoftRound, out _) ?? MeanScale(model).compress_latents(y, z);
        }
        return SrzFile.Write(new SrzFile.Header(Weights.Identifier(model), width, height, quality), data.strings.Select(s => s[0]).ToArray());
    }

    /// <summary>
    /// How <see cref="Refine"/> searches: Adam for <see cref="Steps"/> steps at <see cref="LearningRate"/>, for
    /// R + <see cref="Lambda"/>·D. Every value is checked where it is set (the constructor, or <c>with</c>).
    /// </summary>
    public sealed record Refinement
    {
        /// <summary>How often (in steps) the coded loss is measured to keep the best latents.</summary>
        public const int CheckEvery = 10;

        /// <summary>The most steps a refinement may take.</summary>
        public const int MaxSteps = 10_000;

        private readonly double lambda, learningRate;
        private readonly int steps;

        /// <summary>A refinement with the given settings.</summary>
        /// <exception cref="ArgumentOutOfRangeException">A setting is out of range (see each property), named by the property.</exception>
        public Refinement(double Lambda, int Steps, double LearningRate = 0.01, int Seed = 1)
        {
            this.Lambda = Lambda;
            this.Steps = Steps;
            this.LearningRate = LearningRate;
            this.Seed = Seed;
        }

        /// <summary>λ of the loss, the model's own (its weights file records it): finite and &gt; 0.</summary>
        /// <exception cref="ArgumentOutOfRangeException">Set to a value that is not finite and &gt; 0.</exception>
        public double Lambda
        {
            get => lambda;
            init => lambda = Positive(nameof(Lambda), value);
        }

        /// <summary>Steps of Adam, 1 to <see cref="MaxSteps"/>.</summary>
        /// <exception cref="ArgumentOutOfRangeException">Set outside 1 to <see cref="MaxSteps"/>.</exception>
        public int Steps
        {
            get => steps;
            init => steps = value is >= 1 and <= MaxSteps ? value : throw Refused(nameof(Steps), value, $"1 to {MaxSteps:N0}");
        }

        /// <summary>Adam's step size on the latents: finite and &gt; 0.</summary>
        /// <exception cref="ArgumentOutOfRangeException">Set to a value that is not finite and &gt; 0.</exception>
        public double LearningRate
        {
            get => learningRate;
            init => learningRate = Positive(nameof(LearningRate), value);
        }

        /// <summary>Seed of the training quantizers' noise.</summary>
        public int Seed { get; init; }

        private static double Positive(string name, double value) => value > 0 && double.IsFinite(value) ? value : throw Refused(name, value, "finite and > 0");

        private static ArgumentOutOfRangeException Refused(string name, object value, string range) =>
            new(name, value, string.Create(CultureInfo.InvariantCulture, $"{nameof(Codec)}.{nameof(Refinement)}: {name} must be {range}; got {value}."));
    }

    /// <summary>Whether <see cref="Refine"/> can search this model's latents: a mean-scale or a joint autoregressive hyperprior.</summary>
    public static bool CanRefine(CompressionModel model) => model is MeanScaleHyperprior or JointAutoregressiveHierarchicalPriors;

    private static ArgumentException CannotRefine(string member, CompressionModel model, string parameter) =>
        new($"{nameof(Codec)}.{member}: refinement needs a mean-scale or joint autoregressive hyperprior; got {model.GetName()}.", parameter);

    // The two kinds of model that can refine share no base with latents; these pick the call, after CanRefine. (No
    // pattern variables: Stryker cannot compile its mutants of them.)
    private static JointAutoregressiveHierarchicalPriors? Joint(CompressionModel model) => model as JointAutoregressiveHierarchicalPriors;

    private static MeanScaleHyperprior MeanScale(CompressionModel model) => (MeanScaleHyperprior)model;

    private static (Tensor y, Tensor z) Latents(CompressionModel model, Tensor x) => Joint(model)?.latents(x) ?? MeanScale(model).latents(x);

    private static CompressionOutput ForwardLatents(CompressionModel model, Tensor y, Tensor z) => Joint(model)?.forward_latents(y, z) ?? MeanScale(model).forward_latents(y, z);

    /// <summary>
    /// Latents for <paramref name="image"/> better than the encoder's: from (y, z), the model's <c>latents</c> of the
    /// padded image, Adam on y and z alone for the model's training loss R + λ·D (R the likelihoods' bits per
    /// pixel of the image, D its mean squared error on [0, 255]², x̂ cropped to the image; ŷ and ẑ quantized with soft
    /// round and noise at the model's α, whatever quantizer its weights file records), an amortization gap closed per image (Campos et al. 2019; Yang, Bamler and Mandt 2020). Every
    /// <see cref="Refinement.CheckEvery"/> steps, and at the start and end, the loss is measured as the file will have
    /// it, with libtorch's convolutions (x̂ clamped and rounded to 8 bits; a mean-scale model's eval forward, whose ŷ
    /// and x̂ are the decoder's to the rounding of its means (the coder computes them in float64, the forward in
    /// float32), and its likelihoods' bits; a joint autoregressive model's coded ŷ, position by
    /// position, and the bytes of its streams), and the best latents are returned: never worse than the encoder's by
    /// that measure. The steps use oneDNN where <see cref="MkldnnBackend.check"/> passes for the
    /// padded image (a few seconds). The model's parameters, mode, quantizers' modes, torch's random state and oneDNN's
    /// setting are left as they were.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="refinement"/> is null.</exception>
    /// <exception cref="ArgumentException">The model cannot refine (<see cref="CanRefine"/>).</exception>
    public static (Tensor y, Tensor z) Refine(CompressionModel model, Tensor image, Refinement refinement)
    {
        ArgumentNullException.ThrowIfNull(refinement);
        if (!CanRefine(model)) throw CannotRefine(nameof(Refine), model, nameof(model));
        using var scope = NewDisposeScope();
        int height = (int)image.shape[2], width = (int)image.shape[3];
        double scale = refinement.Lambda * 255 * 255;
        Tensor x = Images.Pad(image, model.downsampling_factor);
        Tensor rngState = torch.random.get_rng_state();
        // The steps run faster with oneDNN's convolutions (100 steps on the 512×512 astronaut: 87 s, check included,
        // against 148 s, other work running beside), used only where they agree with libtorch's on this image's shapes;
        // whichever computed them, the latents are then coded with oneDNN off.
        using var oneDnn = MkldnnBackend.flags(enabled: MkldnnBackend.check(model, x, backward: true, repeats: 1).passed);
        // Scalars held for the whole search: TorchSharp's implicit ones can be finalized during a native call (README,
        // "A rare crash in long runs"), and a search makes thousands of calls.
        using Scalar full = 255.0.ToScalar(), weight = scale.ToScalar(), one = 1L.ToScalar();
        Tensor Loss(CompressionOutput output) => Bits.per_pixel(height * width, output.likelihoods.Values.ToArray()).add(Distortion(output.x_hat, image, weight, full, coded: false), one);
        bool training = model.training;
        var parameters = model.parameters().Select(p => (p, p.requires_grad)).ToArray();
        // The search quantizes with soft round and noise whatever the model was last trained with: a model fine-tuned on
        // rounded latents (train --freeze-analysis --mode RoundSt) records RoundSt, whose straight-through gradient
        // searches far worse (measured: the three held-out photographs' refined BD-rate against WebP −12.7 % with it,
        // where soft round gives −19.2 % with the same weights).
        var quantizers = ModelFile.Quantizers(model).Select(q => (q, q.mode)).ToArray();
        try
        {
            foreach ((var q, _) in quantizers) q.mode = QuantizationMode.SoftRoundNoise;
            foreach ((var p, _) in parameters) p.requires_grad_(false);
            torch.random.manual_seed(refinement.Seed);
            Tensor y, z;
            using (no_grad()) (y, z) = Latents(model, x);
            // Parameters, for Adam; they live outside dispose scopes and are disposed below.
            using Parameter yParameter = new(y.clone()), zParameter = new(z.clone());
            var latents = new[] { yParameter, zParameter };
            (Tensor y, Tensor z) best = (y, z);
            double bestLoss = CodedLoss(model, image, y, z, refinement.Lambda);
            using var optimizer = new Adam(latents, refinement.LearningRate);
            for (int step = 1; step <= refinement.Steps; step++)
            {
                using (var inner = NewDisposeScope())
                {
                    model.train();
                    optimizer.zero_grad();
                    Loss(ForwardLatents(model, latents[0], latents[1])).backward();
                    optimizer.step();
                }
                if (step % Refinement.CheckEvery != 0 && step != refinement.Steps) continue;
                double loss = CodedLoss(model, image, latents[0], latents[1], refinement.Lambda);
                if (loss < bestLoss) (bestLoss, best) = (loss, (latents[0].detach().clone(), latents[1].detach().clone()));
            }
            return (best.y.MoveToOuterDisposeScope(), best.z.MoveToOuterDisposeScope());
        }
        finally
        {
            model.train(training);
            foreach ((var p, bool requiresGrad) in parameters) p.requires_grad_(requiresGrad);
            foreach ((var q, QuantizationMode mode) in quantizers) q.mode = mode;
            torch.random.set_rng_state(rngState);
        }
    }

    /// <summary>
    /// R + λ·D of latents (y, z) of <paramref name="image"/> as their file will have it, the .srz header aside, in eval
    /// mode (left so) with libtorch's convolutions: D the mean squared error on [0, 255]² of x̂ cropped to the image,
    /// clamped and rounded to 8 bits; R per pixel of the image: for a joint autoregressive model the bits of the
    /// streams <c>compress_latents</c> writes (ŷ coded position by position), for a mean-scale model its eval
    /// forward's likelihoods (its ŷ and x̂ the decoder's to the rounding of the means). <see cref="Refine"/>'s measure.
    /// </summary>
    /// <exception cref="ArgumentException">The model is not one that can refine (<see cref="CanRefine"/>), or the latents do not fit it.</exception>
    public static double CodedLoss(CompressionModel model, Tensor image, Tensor y, Tensor z, double lambda)
    {
        if (!CanRefine(model)) throw CannotRefine(nameof(CodedLoss), model, nameof(model));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var libtorch = MkldnnBackend.flags(enabled: false);
        using Scalar full = 255.0.ToScalar(), weight = (lambda * 255 * 255).ToScalar();
        model.eval();
        double pixels = image.shape[2] * image.shape[3];
        JointAutoregressiveHierarchicalPriors? joint = Joint(model);
        if (joint is not null)
        {
            CompressedData data = joint.compress_latents(y, z, RansStreamLayout.SoftRound, out Tensor yHat);
            return 8.0 * data.strings.Sum(s => s[0].Length) / pixels + Distortion(joint.synthesis(yHat), image, weight, full, coded: true).item<float>();
        }
        CompressionOutput output = MeanScale(model).forward_latents(y, z);
        return Bits.per_pixel((long)pixels, output.likelihoods.Values.ToArray()).item<float>() + Distortion(output.x_hat, image, weight, full, coded: true).item<float>();
    }

    /// <summary>weight · MSE(x̂, image), x̂ the padded output cropped to the image and, when <paramref name="coded"/>, clamped and rounded to 8 bits (<paramref name="full"/> = 255).</summary>
    private static Tensor Distortion(Tensor padded, Tensor image, Scalar weight, Scalar full, bool coded)
    {
        Tensor xHat = Images.Crop(padded, (int)image.shape[3], (int)image.shape[2]);
        if (coded) xHat = Images.EightBit(xHat).to(xHat.dtype).div(full);
        return nn.functional.mse_loss(xHat, image).mul(weight);
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
        return Images.Crop(Decode(model, data), header.Width, header.Height).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>x̂ = g_s(ŷ) of <paramref name="data"/>'s streams; a model's refusal of them becomes the file's fault.</summary>
    /// <exception cref="InvalidDataException">The model refuses the streams (their number, or their content).</exception>
    private static Tensor Decode(CompressionModel model, CompressedData data)
    {
        try
        {
            return model.decompress(data);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"the file's streams ({data.strings.Count}) do not fit {model.GetName()}: {e.Message}", e);
        }
    }

    /// <summary>The eval forward pass on the padded image, cropped and clamped as <see cref="Decompress"/> gives it, and the likelihoods of every latent.</summary>
    public static (Tensor image, Tensor[] likelihoods) Forward(CompressionModel model, Tensor image)
    {
        using var oneDnn = MkldnnBackend.flags(enabled: false);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        CompressionOutput output = model.call(Images.Pad(image, model.downsampling_factor));
        using Scalar black = 0.0.ToScalar(), white = 1.0.ToScalar();
        Tensor cropped = Images.Crop(output.x_hat, (int)image.shape[3], (int)image.shape[2]).clamp(black, white).contiguous();
        return (cropped.MoveToOuterDisposeScope(), output.likelihoods.Values.Select(l => l.MoveToOuterDisposeScope()).ToArray());
    }
}
