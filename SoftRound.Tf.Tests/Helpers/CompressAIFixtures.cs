using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Entropy;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Helpers;

/// <summary>
/// The fixtures CompressAI's own code wrote (SoftRound.Tf.Tests/Fixtures/CompressAI, made by make_fixtures.py there),
/// and the parity checks every ported model runs against them.
/// </summary>
internal static class CompressAIFixtures
{
    /// <summary>N and M of the fixtures' models.</summary>
    public const int N = 8, M = 12;

    /// <summary>The path of fixture file <paramref name="name"/>.</summary>
    public static string Path(string name) => System.IO.Path.Combine(Repository.Root, "SoftRound.Tf.Tests", "Fixtures", "CompressAI", name);

    /// <summary>The tensors of fixture file <paramref name="name"/>, registered in the caller's dispose scope.</summary>
    public static Dictionary<string, Tensor> Read(string name) => CompressAICheckpoint.read(Path(name));

    /// <summary>
    /// The streams CompressAI wrote for the fixture image, in its order: y's (the checkerboard model's anchors, then its
    /// non-anchors; ELIC's numbered, each group's two), and z's for the hyperprior models.
    /// </summary>
    public static byte[][][] Strings(Dictionary<string, Tensor> io)
    {
        IEnumerable<string> keys = io.ContainsKey("strings.y.0")
            ? Enumerable.Range(0, io.Count).Select(i => $"strings.y.{i}").TakeWhile(io.ContainsKey).Append("strings.z")
            : new[] { "y", "y_non_anchor", "z" }.Select(k => $"strings.{k}").Where(io.ContainsKey);
        return keys.Select(k => new[] { io[k].data<byte>().ToArray() }).ToArray();
    }

    /// <summary>
    /// Loads CompressAI's checkpoint <paramref name="name"/>.pt into <paramref name="model"/> and checks the eval forward
    /// against CompressAI's on the same image: ŷ's symbols exactly (ŷ itself within an ulp of its means), the
    /// likelihoods and x̂ within float32 tolerance. <paramref name="forwardUsesMeans"/>: whether the forward's ŷ is
    /// round(y − μ) + μ (mbt2018-mean) rather than round(y) (mbt2018's context path, and the models without means).
    /// </summary>
    public static Dictionary<string, Tensor> AssertForwardParity(CompressionModel model, string name, bool forwardUsesMeans = false)
    {
        model.load_compressai(Path($"{name}.pt"));
        model.eval();
        Dictionary<string, Tensor> io = Read($"{name}.io.pt");
        using var noGrad = no_grad();
        CompressionOutput output = model.call(io["x"]);
        AssertYHat(io["y_hat"], output.y_hat, forwardUsesMeans ? io["means_hat"] : null);
        foreach ((string key, Tensor p) in output.likelihoods)
        {
            Tensor expected = io[$"likelihoods.{key}"];
            Assert.IsTrue(p.allclose(expected, rtol: 1e-4, atol: 1e-6), $"likelihoods of {key}: largest difference {(p - expected).abs().max().item<float>()}");
        }
        Assert.IsTrue(output.x_hat.allclose(io["x_hat"], rtol: 1e-4, atol: 1e-5), $"x̂: largest difference {(output.x_hat - io["x_hat"]).abs().max().item<float>()}");
        return io;
    }

    /// <summary>
    /// CompressAI's streams decode here (in CompressAI's layout) to CompressAI's ŷ and x̂, and this model's
    /// CompressAI-layout streams of the same image are CompressAI's, byte for byte.
    /// </summary>
    public static void AssertStreamParity(CompressionModel model, Dictionary<string, Tensor> io)
    {
        using var noGrad = no_grad();
        byte[][][] strings = Strings(io);
        long[] shape = io["shape"].data<long>().ToArray();
        var data = new CompressedData(strings, shape);
        Tensor yHat = model.decompress_latents(data, RansStreamLayout.CompressAI);
        AssertYHat(io["y_hat_decoded"], yHat, io.GetValueOrDefault("means_hat"));
        Tensor xHat = model.decompress(data, RansStreamLayout.CompressAI);
        Assert.IsTrue(xHat.allclose(io["x_hat_decompressed"], rtol: 1e-4, atol: 1e-5), $"decompressed x̂: largest difference {(xHat - io["x_hat_decompressed"]).abs().max().item<float>()}");
        CompressedData ours = model.compress(io["x"], RansStreamLayout.CompressAI);
        CollectionAssert.AreEqual(shape, ours.shape);
        for (int k = 0; k < strings.Length; k++) CollectionAssert.AreEqual(strings[k][0], ours.strings[k][0], $"stream {k}");
    }

    /// <summary>
    /// ŷ as CompressAI's: equal in value where there are no means (CompressAI's round gives −0 where this library's
    /// eval output gives +0); with means, the symbols round(ŷ − μ) equal and ŷ within an ulp.
    /// </summary>
    private static void AssertYHat(Tensor expected, Tensor actual, Tensor? means)
    {
        CollectionAssert.AreEqual(expected.shape, actual.shape, "ŷ's shape");
        if (means is null)
        {
            Assert.IsTrue(expected.eq(actual).all().item<bool>(), $"ŷ: largest difference {(actual - expected).abs().max().item<float>()}");
            return;
        }
        Tensor difference = (expected - means).round() - (actual - means).round();
        Assert.AreEqual(0, difference.count_nonzero().item<long>(), $"the symbols round(ŷ − μ) differ at {difference.count_nonzero().item<long>()} of {difference.numel()} positions");
        Assert.IsTrue(actual.allclose(expected, rtol: 1e-6, atol: 1e-6), $"ŷ: largest difference {(actual - expected).abs().max().item<float>()}");
    }
}
