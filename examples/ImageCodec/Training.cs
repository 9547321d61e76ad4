using System;
using System.Collections.Generic;
using System.Linq;
using SoftRound.Tf;
using SoftRound.Tf.Entropy;
using TorchSharp;
using static TorchSharp.torch;
using SoftRound.Tf.Compression;

namespace ImageCodec;

/// <summary>Trains a <see cref="FactorizedPrior"/> for R + λ·D on random crops, as CompressAI's example does.</summary>
public static class Training
{
    /// <summary>A training run's settings.</summary>
    /// <remarks>
    /// With <paramref name="AlphaStart"/>, the quantizer's α (k for differentiable_round) is annealed from it to
    /// <paramref name="Alpha"/> exponentially over the steps, as Agustsson &amp; Theis anneal soft round's steepness.
    /// </remarks>
    public sealed record Options(int N, int M, QuantizationMode Mode, double Alpha, double Lambda, int Steps, int Batch, int Crop, ulong Seed,
        double LearningRate, double? AlphaStart = null);

    /// <summary>The four training quantizers the comparison covers.</summary>
    public static readonly QuantizationMode[] Quantizers =
        { QuantizationMode.UniformNoise, QuantizationMode.RoundSt, QuantizationMode.SoftRoundNoise, QuantizationMode.DifferentiableRound };

    /// <summary>
    /// The settings every run shares (N = 32, M = 48, batches of 8 crops of 128×128, Adam at 1e−3), with each
    /// quantizer's steepness: soft round annealed from α = 1 to 5, differentiable_round from k = 2 to 20.
    /// </summary>
    public static Options Defaults(QuantizationMode mode, double lambda, int steps, int seed) => mode switch
    {
        QuantizationMode.SoftRoundNoise or QuantizationMode.SteSoftRound => new(32, 48, mode, 5.0, lambda, steps, 8, 128, (ulong)seed, 1e-3, AlphaStart: 1.0),
        QuantizationMode.DifferentiableRound => new(32, 48, mode, 20.0, lambda, steps, 8, 128, (ulong)seed, 1e-3, AlphaStart: 2.0),
        _ => new(32, 48, mode, 5.0, lambda, steps, 8, 128, (ulong)seed, 1e-3),
    };

    /// <summary>
    /// The loss of a batch: λ·255²·MSE(x̂, x) + bits per pixel (D on [0, 255]², as CompressAI's
    /// <c>RateDistortionLoss</c>), with its two parts.
    /// </summary>
    public static (Tensor loss, double bpp, double mse) Loss(FactorizedPrior model, Tensor x, double lambda)
    {
        CompressionOutput output = model.call(x);
        (Tensor xHat, Tensor likelihoods) = (output.x_hat, output.likelihoods["y"]);
        long pixels = x.shape[0] * x.shape[2] * x.shape[3];
        Tensor bpp = Bits.per_pixel(pixels, likelihoods);
        Tensor mse = nn.functional.mse_loss(xHat, x);
        return (mse * (lambda * 255 * 255) + bpp, bpp.item<float>(), mse.item<float>());
    }

    /// <summary>
    /// Trains a new model: Adam on the transforms and the density, its learning rate cut tenfold for the last fifth of the
    /// steps; a second Adam (lr 1e−3) on the quantiles with the bottleneck's auxiliary loss; batches of random crops,
    /// flipped and with their colour channels permuted at random. <paramref name="progress"/> gets the
    /// step and the batch's loss.
    /// </summary>
    public static FactorizedPrior Run(Options options, IReadOnlyList<Tensor> images, Action<int, double>? progress = null)
    {
        manual_seed((long)options.Seed);
        var random = new Random((int)(options.Seed % int.MaxValue));
        var trainer = new Trainer(options);
        Tensor[] usable = images.Where(i => i.shape[2] >= options.Crop && i.shape[3] >= options.Crop).ToArray();
        if (usable.Length == 0) throw new ArgumentException($"no training image is at least {options.Crop}×{options.Crop}.", nameof(images));
        for (int step = 0; step < options.Steps; step++)
        {
            using var scope = NewDisposeScope();
            Tensor batch = cat(Enumerable.Range(0, options.Batch).Select(_ => Crop(usable[random.Next(usable.Length)], options.Crop, random)).ToArray(), 0);
            double loss = trainer.Step(batch);
            progress?.Invoke(step, loss);
        }
        FactorizedPrior model = trainer.Model;
        model.eval();
        model.EntropyBottleneck.update();
        return model;
    }

    /// <summary>
    /// A model in training with its optimisers: Adam on the transforms and the density, its learning rate cut tenfold
    /// for the last fifth of the steps; a second Adam (lr 1e−3) on the quantiles with the bottleneck's auxiliary loss.
    /// </summary>
    public sealed class Trainer
    {
        private readonly Options options;
        private readonly optim.Optimizer main, aux;
        private readonly optim.lr_scheduler.LRScheduler decay;
        private readonly SteepnessSchedule? anneal;
        private int step;

        /// <summary>A new model (from the current torch seed) in training mode.</summary>
        public Trainer(Options options)
        {
            this.options = options;
            Model = new FactorizedPrior(options.N, options.M, options.Mode, options.Alpha);
            Model.train();
            var named = Model.named_parameters().ToList();
            main = optim.Adam(named.Where(p => !p.name.EndsWith("quantiles", StringComparison.Ordinal)).Select(p => p.parameter), lr: options.LearningRate);
            decay = optim.lr_scheduler.MultiStepLR(main, new[] { Math.Max(1, options.Steps * 4 / 5) }, 0.1);
            aux = optim.Adam(named.Where(p => p.name.EndsWith("quantiles", StringComparison.Ordinal)).Select(p => p.parameter), lr: 1e-3);
            anneal = options.AlphaStart is { } start ? SteepnessSchedule.Exponential(start, options.Alpha, options.Steps) : null;
        }

        /// <summary>The model.</summary>
        public FactorizedPrior Model { get; }

        /// <summary>
        /// One step on a batch (N, 3, H, W): the main loss's gradient clipped to norm 1 and an Adam step, then the
        /// auxiliary loss's; the batch's loss. <paramref name="phase"/>, when given, is called as each phase ends
        /// ("forward", "backward", "clip", "step", "aux"), for profiling.
        /// </summary>
        public double Step(Tensor batch, Action<string>? phase = null)
        {
            using var scope = NewDisposeScope();
            if (anneal is not null) Model.EntropyBottleneck.quantizer.alpha = anneal.at(step);
            main.zero_grad();
            (Tensor loss, _, _) = Loss(Model, batch, options.Lambda);
            phase?.Invoke("forward");
            loss.backward();
            phase?.Invoke("backward");
            nn.utils.clip_grad_norm_(Model.parameters(), 1.0);
            phase?.Invoke("clip");
            main.step();
            decay.step();
            phase?.Invoke("step");
            aux.zero_grad();
            Model.EntropyBottleneck.loss().backward();
            aux.step();
            phase?.Invoke("aux");
            step++;
            return loss.item<float>();
        }
    }

    /// <summary>
    /// A random crop, flipped left to right half of the time, with its colour channels in one of the six orders at
    /// random: few of the training photographs are in colour, and without the permutation a long training learns their
    /// hues (measured: 40,000 steps shifted the held-out photographs towards orange and lost 1.75 dB against 10,000).
    /// </summary>
    private static Tensor Crop(Tensor image, int size, Random random)
    {
        int top = random.Next((int)image.shape[2] - size + 1), left = random.Next((int)image.shape[3] - size + 1);
        Tensor crop = image[.., .., top..(top + size), left..(left + size)];
        if (random.Next(2) == 0) crop = crop.flip(3);
        long[] order = Permutations[random.Next(Permutations.Length)];
        return crop.index_select(1, tensor(order));
    }

    private static readonly long[][] Permutations =
        { new long[] { 0, 1, 2 }, new long[] { 0, 2, 1 }, new long[] { 1, 0, 2 }, new long[] { 1, 2, 0 }, new long[] { 2, 0, 1 }, new long[] { 2, 1, 0 } };
}
