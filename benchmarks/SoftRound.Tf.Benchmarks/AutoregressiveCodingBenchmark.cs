using System;
using System.IO;
using BenchmarkDotNet.Attributes;
using ImageCodec;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Entropy;
using SoftRound.Tf.Performance;
using static TorchSharp.torch;

namespace SoftRound.Tf.Benchmarks;

/// <summary>
/// The sequential coding of the image codec's quality levels (<see cref="JointAutoregressiveHierarchicalPriors"/>,
/// level 6's committed weights, N = 64, M = 96) on a 512×512 photograph (32×32 latent positions), against the
/// synthesis transform g_s of the same ŷ (the baseline: one pass of the decoder's convolutions). compress_latents and
/// decompress_latents each run the hyper-synthesis and then the context model and the coder position by position;
/// the ratios say what that costs beside the transform every decode runs anyway. Two threads, oneDNN off, as the
/// codec's command line runs.
/// </summary>
public class AutoregressiveCodingBenchmark
{
    private JointAutoregressiveHierarchicalPriors model = null!;
    private Tensor y = null!, z = null!, yHat = null!;
    private CompressedData data = null!;
    private IDisposable libtorch = null!;

    /// <summary>Loads level 6 and the astronaut photograph, and codes it once.</summary>
    [GlobalSetup]
    public void Setup()
    {
        set_num_threads(Math.Min(2, Environment.ProcessorCount));
        libtorch = MkldnnBackend.flags(enabled: false);
        string here = AppContext.BaseDirectory;
        (CompressionModel loaded, _) = ModelFile.Load(Path.Combine(here, "weights", "q6.srzw"));
        model = (JointAutoregressiveHierarchicalPriors)loaded;
        using Tensor image = Images.Decode(File.ReadAllBytes(Path.Combine(here, "data", "eval", "astronaut.png")), out _);
        using Tensor padded = Images.Pad(image, model.downsampling_factor);
        using (no_grad()) (y, z) = model.latents(padded);
        data = model.compress_latents(y, z, RansStreamLayout.SoftRound, out yHat);
    }

    /// <summary>x̂ = g_s(ŷ) (the baseline).</summary>
    [Benchmark(Baseline = true)]
    public long Synthesis()
    {
        using var noGrad = no_grad();
        using Tensor xHat = model.synthesis(yHat);
        return xHat.shape[2];
    }

    /// <summary>The streams of ŷ and ẑ from the latents.</summary>
    [Benchmark]
    public int CompressLatents()
    {
        CompressedData coded = model.compress_latents(y, z, RansStreamLayout.SoftRound, out Tensor decoded);
        decoded.Dispose();
        return coded.strings[0][0].Length;
    }

    /// <summary>ŷ from the streams.</summary>
    [Benchmark]
    public long DecompressLatents()
    {
        using Tensor decoded = model.decompress_latents(data);
        return decoded.shape[3];
    }

    /// <summary>Disposes the model, the tensors and the settings.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (Tensor t in new[] { y, z, yHat }) t.Dispose();
        model.Dispose();
        libtorch.Dispose();
    }
}
