using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Entropy;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Helpers;

/// <summary>The checks every ported model passes: CompressAI's keys, training with each quantizer, coding round trips.</summary>
internal static class CompressionModelChecks
{
    /// <summary>A seeded batch of smooth random images in [0, 1].</summary>
    public static Tensor Images(int n, int size, int seed)
    {
        Generator g = manual_seed(seed);
        Tensor coarse = rand(new long[] { n, 3, size / 8, size / 8 }, generator: g);
        Tensor fine = nn.functional.interpolate(coarse, new long[] { size, size }, mode: InterpolationMode.Bilinear, align_corners: false);
        return (fine + rand(new long[] { n, 3, size, size }, generator: g) * 0.05).clamp(0, 1);
    }

    /// <summary>
    /// The model's state dict has CompressAI's keys for this architecture: those of CompressAI's checkpoint
    /// <paramref name="fixture"/>, less CompressAI's coding tables and constant buffers, plus only this library's
    /// training quantizers.
    /// </summary>
    public static void AssertKeysAreCompressAIs(CompressionModel model, string fixture)
    {
        using var scope = NewDisposeScope();
        string[] constants = { "_quantized_cdf", "_offset", "_cdf_length", "likelihood_lower_bound.bound", "lower_bound_scale.bound", "scale_bound", "_reparam.pedestal", "_reparam.lower_bound.bound" };
        string[] theirs = CompressAIFixtures.Read(fixture).Keys.Where(k => !constants.Any(k.EndsWith)).OrderBy(k => k, StringComparer.Ordinal).ToArray();
        string[] ours = model.state_dict().Keys.Where(k => !k.Contains(".quantizer.")).OrderBy(k => k, StringComparer.Ordinal).ToArray();
        CollectionAssert.AreEqual(theirs, ours);
    }

    /// <summary>
    /// With every training quantizer, a forward and backward pass of R + λ·D gives finite gradients to every
    /// parameter but the quantiles (which only the auxiliary loss trains); with the default one, 25 seeded steps of Adam
    /// lower the loss. Run it with oneDNN off (<see cref="WithoutOneDnn"/>): its convolution backward can give NaN input
    /// gradients on two threads, which the hyperprior models' small 3×3 convolutions hit.
    /// </summary>
    public static void AssertTrains(Func<QuantizationMode, CompressionModel> make)
    {
        using var scope = NewDisposeScope();
        Tensor x = Images(2, 64, 5);
        foreach (QuantizationMode mode in Enum.GetValues<QuantizationMode>())
        {
            using var step = NewDisposeScope();
            manual_seed(11);
            CompressionModel model = make(mode);
            model.train();
            Loss(model, x).backward();
            foreach ((string name, TorchSharp.Modules.Parameter p) in model.named_parameters())
            {
                if (name.EndsWith("quantiles", StringComparison.Ordinal) || name.Contains(".quantizer.")) continue;
                Assert.IsNotNull(p.grad, $"{mode}: {name} has no gradient");
                Assert.IsTrue(p.grad.isfinite().all().item<bool>(), $"{mode}: {name}'s gradient is not finite");
            }
            Assert.IsTrue(model.named_parameters().Where(p => p.name.StartsWith("g_a.", StringComparison.Ordinal)).Any(p => p.parameter.grad!.abs().sum().item<float>() > 0), $"{mode}: g_a learns nothing");
            model.aux_loss().backward();
            Assert.IsTrue(model.named_parameters().Where(p => p.name.EndsWith("quantiles", StringComparison.Ordinal)).All(p => p.parameter.grad is not null), $"{mode}: the auxiliary loss reaches the quantiles");
        }
        manual_seed(12);
        CompressionModel trained = make(QuantizationMode.UniformNoise);
        trained.train();
        var optimizer = optim.Adam(trained.parameters(), 1e-3);
        var losses = new List<double>();
        for (int i = 0; i < 25; i++)
        {
            using var step = NewDisposeScope();
            optimizer.zero_grad();
            Tensor loss = Loss(trained, x) + trained.aux_loss();
            loss.backward();
            optimizer.step();
            losses.Add(loss.item<float>());
        }
        Assert.IsLessThan(losses.Take(3).Average(), losses.TakeLast(3).Average(), $"losses {string.Join(", ", losses.Select(l => l.ToString("F1")))}");
    }

    /// <summary>
    /// After update(), compress then decompress gives the ŷ <paramref name="compress"/> names for a batch of two
    /// images, bit for bit (or within <paramref name="rtol"/> relative, for an ŷ the coder's float64 means round
    /// differently from the float32 forward's), in both stream layouts; decompress gives clamp(g_s(ŷ), 0, 1) of the
    /// decoded ŷ; and no tensor leaks.
    /// </summary>
    public static void AssertRoundTrip(CompressionModel model, Func<Tensor, RansStreamLayout, (CompressedData data, Tensor yHat)> compress, double rtol = 0)
    {
        using var scope = NewDisposeScope();
        model.update(force: true);
        model.eval();
        Tensor x = Images(2, 64, 9);
        foreach (RansStreamLayout layout in Enum.GetValues<RansStreamLayout>())
        {
            (CompressedData data, Tensor yHat) = compress(x, layout);
            Assert.AreEqual(2, data.strings[0].Length);
            Tensor decoded = model.decompress_latents(data, layout);
            if (rtol == 0) TensorAssert.Identical(yHat, decoded);
            else TensorAssert.Close(yHat, decoded, rtol, rtol);
            using (no_grad()) TensorAssert.Identical(model.synthesis(decoded).clamp(0, 1), model.decompress(data, layout));
        }
        long before = LiveTensors.Count();
        for (int i = 0; i < 3; i++)
        {
            using var inner = NewDisposeScope();
            model.decompress(model.compress(x));
        }
        Assert.AreEqual(before, LiveTensors.Count(), "live tensors after compress and decompress");
    }

    /// <summary>Bad images and bad data are refused with the member's name.</summary>
    public static void AssertRefusesBadInput(CompressionModel model, int latents)
    {
        using var scope = NewDisposeScope();
        model.update(force: true);
        string name = model.GetName();
        StringAssert.StartsWith(Assert.ThrowsExactly<ArgumentException>(() => model.call(zeros(1, 3, 64, 40))).Message,
            $"{name}.forward: x has shape (1, 3, 64, 40); expected (N, 3, H, W) with H and W positive multiples of {model.downsampling_factor} (pad the image).");
        foreach (Tensor bad in new[] { zeros(1, 3, 64, 40), zeros(1, 1, 64, 64), zeros(3, 64, 64), zeros(new long[] { 1, 3, 64, 64 }, ScalarType.Int32) })
        {
            var e = Assert.ThrowsExactly<ArgumentException>(() => model.call(bad));
            StringAssert.StartsWith(e.Message, $"{name}.forward: x ");
            StringAssert.StartsWith(Assert.ThrowsExactly<ArgumentException>(() => model.compress(bad)).Message, $"{name}.compress: x ");
        }
        CompressedData good = model.compress(Images(1, 64, 1));
        StringAssert.StartsWith(Assert.ThrowsExactly<ArgumentException>(() => model.decompress(good with { strings = good.strings.Take(latents - 1).ToArray() })).Message,
            $"{name}.decompress_latents: data.strings must hold {latents} lists");
        if (latents > 1)
        {
            byte[][][] uneven = good.strings.Select((s, k) => k == 0 ? s.Concat(s).ToArray() : s).ToArray();
            StringAssert.StartsWith(Assert.ThrowsExactly<ArgumentException>(() => model.decompress(good with { strings = uneven })).Message,
                $"{name}.decompress_latents: data.strings must hold {latents} lists of equally many non-null streams");
        }
        // A null stream beside a good one, and a null list.
        byte[][][] withNull = good.strings.Select(s => new[] { s[0], null! }).ToArray();
        Assert.ThrowsExactly<ArgumentException>(() => model.decompress(good with { strings = withNull }));
        Assert.ThrowsExactly<ArgumentException>(() => model.decompress(good with { strings = good.strings.Select((s, k) => k == 0 ? null! : s).ToArray() }));
        StringAssert.StartsWith(Assert.ThrowsExactly<ArgumentException>(() => model.decompress(good with { shape = new long[] { 1, 0 } })).Message,
            $"{name}.decompress_latents: data.shape is (1, 0); expected two sizes ≥ 1.");
        Assert.ThrowsExactly<ArgumentNullException>(() => model.decompress(null!));
        // A damaged stream: an InvalidDataException, never another exception.
        byte[][][] damaged = good.strings.Select(s => s.Select(b => b[..^4]).ToArray()).ToArray();
        Assert.ThrowsExactly<System.IO.InvalidDataException>(() => model.decompress(good with { strings = damaged }));
    }

    private static Tensor Loss(CompressionModel model, Tensor x)
    {
        CompressionOutput output = model.call(x);
        Tensor bpp = Bits.per_pixel(x.shape[0] * x.shape[2] * x.shape[3], output.likelihoods.Values.ToArray());
        return bpp + 0.01 * 255 * 255 * nn.functional.mse_loss(output.x_hat, x);
    }

    /// <summary>
    /// Asserts that R + D of a forward pass from latents (<paramref name="forwardLatents"/>, the model in training) sends
    /// a gradient to both: the bits of every likelihood plus the squared error of x̂ to <paramref name="x"/>.
    /// </summary>
    public static void LatentsGetGradients(Func<Tensor, Tensor, CompressionOutput> forwardLatents, Tensor x, Tensor y0, Tensor z0)
    {
        Tensor y = y0.detach().requires_grad_(), z = z0.detach().requires_grad_();
        CompressionOutput output = forwardLatents(y, z);
        Tensor loss = output.likelihoods.Values.Select(l => -l.log2().sum()).Aggregate((a, b) => a + b) + (output.x_hat - x).pow(2).sum();
        loss.backward();
        Assert.IsTrue(y.grad is not null && y.grad.abs().sum().item<float>() > 0, "y gets a gradient");
        Assert.IsTrue(z.grad is not null && z.grad.abs().sum().item<float>() > 0, "z gets a gradient");
    }

    /// <summary>Asserts that <paramref name="call"/> throws exactly <typeparamref name="T"/> naming <paramref name="param"/>, its message containing <paramref name="message"/>.</summary>
    public static void Throws<T>(Action call, string param, string message) where T : ArgumentException
    {
        T e = Assert.ThrowsExactly<T>(call);
        Assert.AreEqual(param, e.ParamName);
        StringAssert.Contains(e.Message, message);
    }
}
