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
}
