using System;
using System.Collections.Generic;
using System.Linq;
using SoftRound.Tf;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Entropy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ImageCodec;

/// <summary>
/// One <see cref="MeanScaleHyperprior"/> for every quality level: the transforms and entropy models are shared, and each
/// level l has a learned quantization step per latent channel, Δ_l = exp(log_step_sizes[l − 1]), so that ŷ = Δ_l·Q((y −
/// μ)/Δ_l) + μ (a larger step, fewer bits and more distortion; the gain units of Cui et al. 2021, as a step). Trained
/// for R + λ_l·D with the level changing from batch to batch (<see cref="Training"/>), it replaces six models with one.
/// The state dict is the mean-scale model's under "model." and the steps as "log_step_sizes".
/// </summary>
public sealed class VariableRateHyperprior : CompressionModel
{
    /// <summary>The λ of each level, CompressAI's for its qualities 1–6 (those the per-level weights were trained for).</summary>
    public static IReadOnlyList<double> Lambdas { get; } = Array.AsReadOnly(new[] { 0.0018, 0.0035, 0.0067, 0.0130, 0.0250, 0.0483 });

    private readonly MeanScaleHyperprior model;
    private readonly Parameter log_step_sizes;
    private int level = 3;

    /// <summary>
    /// A new model with N hidden and M latent channels, its steps starting at Δ_l = √(λ_3/λ_l) for every channel (at
    /// high rates the distortion of a step Δ is Δ²/12 and the best step for R + λ·D goes as 1/√λ), level 3 at Δ = 1.
    /// </summary>
    public VariableRateHyperprior(int N, int M, QuantizationMode mode = QuantizationMode.UniformNoise, double alpha = 5.0)
        : base(nameof(VariableRateHyperprior), N, M)
    {
        model = new MeanScaleHyperprior(N, M, mode, alpha);
        double[] start = Lambdas.SelectMany(l => Enumerable.Repeat(0.5 * Math.Log(Lambdas[2] / l), M)).ToArray();
        log_step_sizes = nn.Parameter(tensor(start, new long[] { Lambdas.Count, M }, ScalarType.Float32));
        RegisterComponents();
    }

    /// <summary>The level (1 to 6) that <see cref="forward"/>, <see cref="compress"/> and <see cref="decompress_latents"/> use.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The level is outside 1 to 6.</exception>
    public int Level
    {
        get => level;
        set
        {
            if (value < 1 || value > Lambdas.Count) throw new ArgumentOutOfRangeException(nameof(value), value, $"{nameof(VariableRateHyperprior)}.{nameof(Level)}: the level must be 1 to {Lambdas.Count}; got {value}.");
            level = value;
        }
    }

    /// <summary>The level's steps Δ, (1, M, 1, 1).</summary>
    public Tensor StepSize() => log_step_sizes[level - 1].exp().reshape(1, M, 1, 1);

    /// <inheritdoc/>
    public override int downsampling_factor => model.downsampling_factor;

    /// <summary>The mean-scale model's forward pass on the grid of the current level's steps.</summary>
    public override CompressionOutput forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        CompressionOutput output = model.forward(x, StepSize());
        return new CompressionOutput(output.x_hat.MoveToOuterDisposeScope(), output.likelihoods.ToDictionary(e => e.Key, e => e.Value.MoveToOuterDisposeScope()), output.y_hat.MoveToOuterDisposeScope());
    }

    /// <inheritdoc/>
    public override CompressedData compress(Tensor x, RansStreamLayout layout = RansStreamLayout.SoftRound)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return model.compress(x, StepSize(), layout);
    }

    /// <inheritdoc/>
    public override Tensor decompress_latents(CompressedData data, RansStreamLayout layout = RansStreamLayout.SoftRound)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return model.decompress_latents(data, StepSize(), layout).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public override Tensor synthesis(Tensor yHat) => model.synthesis(yHat);
}
