using System;
using System.Linq;
using System.Security.Cryptography;
using ImageCodec;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Examples.ImageCodec;

[TestClass]
public sealed class WeightsTests
{
    private sealed class Two : nn.Module
    {
        public Two(float[] a, float[] b, long[] shapeB) : base("two")
        {
            register_parameter("b", new TorchSharp.Modules.Parameter(tensor(b).reshape(shapeB)));
            register_parameter("a", new TorchSharp.Modules.Parameter(tensor(a)));
            register_buffer("empty", zeros(0));
        }
    }

    /// <summary>SHA-256 over each entry in ordinal name order: its UTF-8 name, its shape as int64s, its float32 values.</summary>
    private static byte[] Expected(params (string name, long[] shape, float[] values)[] entries)
    {
        byte[] bytes = entries.OrderBy(e => e.name, StringComparer.Ordinal).SelectMany(e =>
            System.Text.Encoding.UTF8.GetBytes(e.name).Concat(e.shape.SelectMany(BitConverter.GetBytes)).Concat(e.values.SelectMany(BitConverter.GetBytes))).ToArray();
        return SHA256.HashData(bytes)[..8];
    }

    [TestMethod]
    public void Identifier_IsSha256OverNamesShapesAndValues_InNameOrder()
    {
        float[] a = { 1.5f, -2f }, b = { 0.25f, 3f, 4f, -1f, 0f, 9f };
        CollectionAssert.AreEqual(Expected(("a", new long[] { 2 }, a), ("b", new long[] { 2, 3 }, b), ("empty", new long[] { 0 }, Array.Empty<float>())),
            Weights.Identifier(new Two(a, b, new long[] { 2, 3 })));
        // The shape counts: the same values as 3×2 are other weights.
        CollectionAssert.AreNotEqual(Weights.Identifier(new Two(a, b, new long[] { 2, 3 })), Weights.Identifier(new Two(a, b, new long[] { 3, 2 })));
    }

    private sealed class Views : nn.Module
    {
        public Views() : base("views")
        {
            // A slice at a storage offset, a transposed (not contiguous) matrix, and float64 values.
            register_buffer("offset", tensor(new[] { 9f, 8f, 7f, 6f })[1..]);
            register_buffer("transposed", tensor(new[] { 1f, 2f, 3f, 4f, 5f, 6f }).reshape(2, 3).t());
            register_buffer("wide", tensor(new[] { 0.1, -2.5 }));
        }
    }

    [TestMethod]
    public void Identifier_ReadsViewsAndOtherDtypes_AsTheirFloat32Values()
    {
        CollectionAssert.AreEqual(Expected(("offset", new long[] { 3 }, new[] { 8f, 7f, 6f }), ("transposed", new long[] { 3, 2 }, new[] { 1f, 4f, 2f, 5f, 3f, 6f }),
            ("wide", new long[] { 2 }, new[] { 0.1f, -2.5f })), Weights.Identifier(new Views()));
    }
}
