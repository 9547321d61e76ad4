using System;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Compression;

[TestClass]
public sealed class Float64NetworkTests
{
    /// <summary>A hyper-synthesis of the shape the models use: transposed convolutions, leaky ReLUs, a 3×3 convolution.</summary>
    private static nn.Module<Tensor, Tensor> Network(long seed)
    {
        manual_seed(seed);
        return nn.Sequential(
            nn.ConvTranspose2d(4, 6, 5, stride: 2, padding: 2, output_padding: 1), nn.LeakyReLU(),
            nn.ConvTranspose2d(6, 8, 5, stride: 2, padding: 2, output_padding: 1), nn.ReLU(),
            nn.Conv2d(8, 10, 3, stride: 1, padding: 1));
    }

    [TestMethod]
    public void IsTheNetworkInFloat64_BitForBit_AndItsFloat32ResultToRounding()
    {
        using var scope = NewDisposeScope();
        var network = (TorchSharp.Modules.Sequential)Network(3);
        var wide = (TorchSharp.Modules.Sequential)Network(3);
        wide.to(ScalarType.Float64);
        Tensor x = randn(2, 4, 3, 5, generator: new Generator(4));
        long before = LiveTensors.Count();
        Tensor y;
        using (var inner = NewDisposeScope())
        {
            y = new Float64Network("test", network).call(x).MoveToOuterDisposeScope();
        }
        // The widened weights live in the call's scope and go with it.
        Assert.AreEqual(before + 1, LiveTensors.Count());
        Assert.AreEqual(ScalarType.Float64, y.dtype);
        CollectionAssert.AreEqual(new long[] { 2, 10, 12, 20 }, y.shape);
        TensorAssert.Identical(wide.call(x.to(ScalarType.Float64)), y);
        // The float32 network's rounding, against it: a few ulps of float32.
        TensorAssert.Close(y.to(ScalarType.Float32), network.call(x), 1e-5, 1e-6);
        Assert.AreEqual(ScalarType.Float32, network.parameters().GetEnumerator() is var e && e.MoveNext() ? e.Current.dtype : ScalarType.Float64, "the network keeps its dtype");
    }

    [TestMethod]
    public void NestedSequentials_AsCheng2020sSubpixelConvolutions_AreWidenedToo()
    {
        using var scope = NewDisposeScope();
        TorchSharp.Modules.Sequential Subpel(long seed)
        {
            manual_seed(seed);
            return nn.Sequential(Layers.conv3x3(4, 6), nn.LeakyReLU(), Layers.subpel_conv3x3(6, 5, 2), nn.LeakyReLU(), Layers.conv3x3(5, 8));
        }
        var network = Subpel(5);
        var wide = Subpel(5);
        wide.to(ScalarType.Float64);
        Tensor x = randn(2, 4, 3, 5, generator: new Generator(6));
        Tensor y = new Float64Network("test", network).call(x);
        CollectionAssert.AreEqual(new long[] { 2, 8, 6, 10 }, y.shape);
        TensorAssert.Identical(wide.call(x.to(ScalarType.Float64)), y);
        // A layer it cannot widen inside a nested Sequential is named by its path.
        var nested = nn.Sequential(nn.Conv2d(2, 2, 3), nn.Sequential(nn.Conv2d(2, 2, 1), nn.Linear(2, 2)));
        var error = Assert.ThrowsExactly<NotSupportedException>(() => new Float64Network("Model.compress", nested));
        StringAssert.StartsWith(error.Message, "Model.compress: layer 1.1 (Linear) is not a Conv2d");
    }

    [TestMethod]
    public void LayersItCannotWiden_AreRefused_WithMemberAndLayer()
    {
        using var scope = NewDisposeScope();
        var linear = nn.Sequential(nn.Conv2d(2, 2, 3), nn.Linear(2, 2));
        var error = Assert.ThrowsExactly<NotSupportedException>(() => new Float64Network("Model.compress", linear));
        StringAssert.StartsWith(error.Message, "Model.compress: layer 1 (Linear) is not a Conv2d");
        var reflect = nn.Sequential(nn.Conv2d(2, 2, 3, padding: 1, padding_mode: PaddingModes.Reflect));
        error = Assert.ThrowsExactly<NotSupportedException>(() => new Float64Network("Model.compress", reflect));
        StringAssert.StartsWith(error.Message, "Model.compress: layer 0 (Conv2d) pads with Reflect;");
        // Padding given as "same" rather than in numbers: refused too, and named.
        var same = nn.Sequential(nn.Conv2d(2, 2, 3, padding: Padding.Same));
        error = Assert.ThrowsExactly<NotSupportedException>(() => new Float64Network("Model.compress", same));
        StringAssert.StartsWith(error.Message, "Model.compress: layer 0 (Conv2d) pads with Zeros (Same); the float64 coding path takes zero padding given in numbers.");
    }
}
