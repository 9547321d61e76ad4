using System;
using System.IO;
using System.Linq;
using BenchmarkDotNet.Attributes;
using ImageCodec;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Entropy;
using SoftRound.Tf.Performance;
using static TorchSharp.torch;

namespace SoftRound.Tf.Benchmarks;

/// <summary>
/// Decoding ŷ with the checkerboard context model (<see cref="Cheng2020AnchorCheckerboard"/>: two passes of tensor
/// operations) against the raster one (<see cref="Cheng2020Anchor"/>: position by position), the two models with the
/// same weights but for the context model's mask, N = M = <see cref="N"/>, seeded, on the 512×512 astronaut (32×32
/// latent positions); the synthesis transform of the same ŷ is the reference every decoder runs anyway. Two threads,
/// oneDNN off, as the codec runs.
/// </summary>
public class CheckerboardCodingBenchmark
{
    private Cheng2020Anchor raster = null!;
    private Cheng2020AnchorCheckerboard checkerboard = null!;
    private CompressedData rasterData = null!, checkerboardData = null!;
    private Tensor yHat = null!;
    private IDisposable libtorch = null!;

    /// <summary>The channels N = M.</summary>
    [Params(64, 128)]
    public int N { get; set; }

    /// <summary>Builds both models from one seeded set of weights and codes the photograph with each.</summary>
    [GlobalSetup]
    public void Setup()
    {
        set_num_threads(Math.Min(2, Environment.ProcessorCount));
        libtorch = MkldnnBackend.flags(enabled: false);
        manual_seed(1);
        raster = new Cheng2020Anchor(N);
        checkerboard = new Cheng2020AnchorCheckerboard(N);
        var source = raster.state_dict();
        using (no_grad())
        {
            // h_s's last layer scaled down, so that the scales are those of a trained model (around 1) rather than
            // an untrained one's; then every weight but the context model's mask goes across under CompressAI's keys.
            source["h_s.8.weight"].mul_(0.05);
            foreach ((string key, Tensor value) in checkerboard.state_dict())
            {
                string from = key.Replace("latent_codec.hyper.", "").Replace("latent_codec.y.y.", "").Replace("latent_codec.y.", "");
                if (!key.EndsWith("mask") && source.TryGetValue(from, out Tensor? t) && t.shape.SequenceEqual(value.shape)) value.copy_(t);
            }
        }
        raster.update();
        checkerboard.update();
        raster.eval();
        checkerboard.eval();
        string here = AppContext.BaseDirectory;
        using Tensor image = Images.Decode(File.ReadAllBytes(Path.Combine(here, "data", "eval", "astronaut.png")), out _);
        using Tensor padded = Images.Pad(image, raster.downsampling_factor);
        using (no_grad())
        {
            rasterData = raster.compress(padded);
            checkerboardData = checkerboard.compress(padded);
            yHat = checkerboard.decompress_latents(checkerboardData);
        }
    }

    /// <summary>x̂ = g_s(ŷ) (the reference).</summary>
    [Benchmark]
    public long Synthesis()
    {
        using var noGrad = no_grad();
        using Tensor xHat = checkerboard.synthesis(yHat);
        return xHat.shape[2];
    }

    /// <summary>ŷ decoded position by position (the baseline).</summary>
    [Benchmark(Baseline = true)]
    public long DecompressRaster()
    {
        using Tensor decoded = raster.decompress_latents(rasterData);
        return decoded.shape[3];
    }

    /// <summary>ŷ decoded in two checkerboard passes.</summary>
    [Benchmark]
    public long DecompressCheckerboard()
    {
        using Tensor decoded = checkerboard.decompress_latents(checkerboardData);
        return decoded.shape[3];
    }

    /// <summary>Disposes the models, the tensor and the settings.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        yHat.Dispose();
        raster.Dispose();
        checkerboard.Dispose();
        libtorch.Dispose();
    }
}
