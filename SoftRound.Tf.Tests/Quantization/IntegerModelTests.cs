using System;
using System.IO;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Quantization;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Quantization;

[TestClass]
public sealed class IntegerModelTests : WithoutOneDnn
{
    /// <summary>A small CNN prepared for QAT and trained a few seeded steps on random images, in eval mode.</summary>
    private static Sequential TrainedCnn(int weightBits, int activationBits, ulong seed = 1)
    {
        manual_seed((long)seed);
        Sequential model = nn.Sequential(
            ("conv1", nn.Conv2d(1, 6, 3, padding: 1)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(2)),
            ("conv2", nn.Conv2d(6, 8, 3, stride: 1, padding: 1, groups: 2)), ("relu2", nn.ReLU()), ("pool2", nn.MaxPool2d(2)),
            ("flatten", nn.Flatten()), ("drop", nn.Dropout(0.1)), ("fc1", nn.Linear(8 * 3 * 3, 16)), ("relu3", nn.ReLU()), ("fc2", nn.Linear(16, 5)));
        return QatFixture.Trained(model, weightBits, activationBits, seed);
    }

    /// <summary>
    /// Layer by layer, from the integer model's own input codes: the codes the fake-quantized model gives the next
    /// layer when each layer starts from the integer model's codes (its input quantizer's output as round(y/s) + Z),
    /// and its float output at the end.
    /// </summary>
    private static (int[][] codes, Tensor output) FakeQuantizedLayerByLayer(Sequential q, System.Collections.Generic.List<int[]> integerCodes, long[] sampleShape)
    {
        var codes = new System.Collections.Generic.List<int[]>();
        Tensor x = zeros(1);
        int layer = 0;
        foreach ((string _, nn.Module module) in q.named_children())
        {
            FakeQuantizeLayer? input = module switch { QuantConv2d c => c.input_quantizer, QuantLinear l => l.input_quantizer, _ => null };
            if (input is not null)
            {
                float s = input.scale.item<float>(), z = input.zero_point is null ? input.spec.symmetric_zero_point : input.zero_point.round().item<float>();
                if (layer > 0) codes.Add((input.forward(x) / s).round().add(z).flatten().to(ScalarType.Int32).data<int>().ToArray());
                long[] shape = layer == 0 ? sampleShape : x.shape[1..];
                x = ((tensor(integerCodes[layer]).to(ScalarType.Float32) - z) * s).reshape(new[] { 1L }.Concat(shape).ToArray());
                layer++;
            }
            x = ((nn.Module<Tensor, Tensor>)module).forward(x);
        }
        return (codes.ToArray(), x);
    }

    [TestMethod]
    [DataRow(8, 8)]
    [DataRow(4, 4)]
    [DataRow(2, 3)]
    public void IntegerInference_MatchesTheFakeQuantizedModel_LayerByLayerWithinOneCode_AndOnEveryClass(int weightBits, int activationBits)
    {
        using var scope = NewDisposeScope();
        Sequential q = TrainedCnn(weightBits, activationBits);
        IntegerModel model = IntegerModel.export(q);
        Assert.AreEqual(4, model.layer_count);
        Tensor x = rand(new long[] { 64, 1, 12, 12 }, generator: new Generator(99));
        Tensor expected;
        using (no_grad()) expected = q.forward(x);
        Tensor actual = model.forward(x);
        CollectionAssert.AreEqual(expected.shape, actual.shape);
        CollectionAssert.AreEqual(expected.argmax(1).data<long>().ToArray(), actual.argmax(1).data<long>().ToArray());
        var last = (QuantLinear)q.named_children().Last().module;
        double step = last.input_quantizer.scale.item<float>() * last.weight_quantizer.scale.max().item<float>();
        long total = 0, differing = 0;
        for (int i = 0; i < 64; i++)
        {
            using var inner = NewDisposeScope();
            var integer = model.InputCodes(x[i].flatten().data<float>().ToArray(), new long[] { 1, 12, 12 });
            (int[][] reference, Tensor output) = FakeQuantizedLayerByLayer(q, integer, new long[] { 1, 12, 12 });
            for (int layer = 0; layer < reference.Length; layer++)
            {
                for (int j = 0; j < reference[layer].Length; j++)
                {
                    int d = Math.Abs(reference[layer][j] - integer[layer + 1][j]);
                    Assert.IsTrue(d <= 1, $"sample {i}, layer {layer + 1}, code {j}: {reference[layer][j]} vs {integer[layer + 1][j]}");
                    total++;
                    if (d != 0) differing++;
                }
            }
            // The last layer from the same codes: within one step s_x·s_w (the bias is rounded to half a step).
            double worst = (output.squeeze(0) - actual[i]).abs().max().item<float>();
            Assert.IsTrue(worst <= step, $"sample {i}: {worst} against a step of {step}");
        }
        Assert.IsTrue(differing <= total / 200, $"{differing} of {total} codes differ");
    }

    [TestMethod]
    public void SaveAndLoad_RoundTrip_AndInt4IsPackedTwoPerByte()
    {
        using var scope = NewDisposeScope();
        Sequential q = TrainedCnn(4, 8);
        IntegerModel model = IntegerModel.export(q);
        // 6·1·3·3, 8·3·3·3 (two groups of 3 input channels), 16·72 and 5·16 weights, two per byte.
        Assert.AreEqual((54 + 216 + 1152 + 80) / 2, model.weight_bytes);
        var stream = new MemoryStream();
        model.save(stream);
        IntegerModel loaded = IntegerModel.load(new MemoryStream(stream.ToArray()));
        Tensor x = rand(new long[] { 8, 1, 12, 12 }, generator: new Generator(5));
        TensorAssert.Identical(model.forward(x), loaded.forward(x));
    }

    [TestMethod]
    public void Pack_AndUnpack_EveryInt4AndInt8Code()
    {
        sbyte[] int4 = Enumerable.Range(-8, 16).Concat(new[] { 3 }).Select(v => (sbyte)v).ToArray();
        byte[] packed = QuantizedLayer.Pack(int4, 4);
        Assert.AreEqual(9, packed.Length);
        Assert.AreEqual((byte)0x98, packed[0]); // −8 → 0x8 in the low nibble, −7 → 0x9 in the high one
        CollectionAssert.AreEqual(int4, QuantizedLayer.Unpack(packed, 4, int4.Length));
        sbyte[] int8 = Enumerable.Range(-128, 256).Select(v => (sbyte)v).ToArray();
        CollectionAssert.AreEqual(int8, QuantizedLayer.Unpack(QuantizedLayer.Pack(int8, 8), 8, int8.Length));
    }

    [TestMethod]
    public void Load_RefusesTruncatedCorruptedAndRandomBytes()
    {
        using var scope = NewDisposeScope();
        var stream = new MemoryStream();
        IntegerModel.export(TrainedCnn(8, 8)).save(stream);
        byte[] good = stream.ToArray();
        var random = new Random(8);
        void Refused(byte[] bytes) => Assert.ThrowsExactly<InvalidDataException>(() => IntegerModel.load(new MemoryStream(bytes)));
        for (int length = 0; length < good.Length; length += 1 + length / 7) Refused(good[..length]);
        for (int i = 0; i < 300; i++)
        {
            byte[] flipped = (byte[])good.Clone();
            flipped[random.Next(flipped.Length)] ^= (byte)(1 << random.Next(8));
            Refused(flipped);
        }
        for (int i = 0; i < 300; i++)
        {
            var bytes = new byte[random.Next(0, 400)];
            random.NextBytes(bytes);
            Refused(bytes);
        }
        Refused(good.Concat(new byte[] { 0 }).ToArray());
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => IntegerModel.load(new MemoryStream(good[..^1]))).Message, "IntegerModel.load: the stream is not an integer model");
    }

    [TestMethod]
    public void Load_RefusesBadValuesBehindAValidChecksum()
    {
        using var scope = NewDisposeScope();
        var stream = new MemoryStream();
        IntegerModel.export(TrainedCnn(8, 8)).save(stream);
        byte[] body = stream.ToArray()[..^32];
        var random = new Random(9);
        int refused = 0;
        for (int i = 0; i < 400; i++)
        {
            byte[] changed = (byte[])body.Clone();
            changed[random.Next(changed.Length)] = (byte)random.Next(256);
            byte[] file = WithChecksum(changed);
            try
            {
                IntegerModel m = IntegerModel.load(new MemoryStream(file));
                // A change the format cannot see (a weight code, a scale) still gives a model that runs, or that
                // refuses the 12×12 input its changed geometry cannot take.
                try { m.forward(rand(2, 1, 12, 12)); }
                catch (ArgumentException) { refused++; }
            }
            catch (InvalidDataException)
            {
                refused++;
            }
        }
        Assert.IsTrue(refused > 0);
    }

    /// <summary>A small exported model's bytes without the checksum: conv (1→2, 3×3, pad 1), ReLU, max-pool 2, flatten, linear (8→3).</summary>
    private static byte[] SmallModelBody()
    {
        manual_seed(4);
        Sequential model = nn.Sequential(("conv", nn.Conv2d(1, 2, 3, padding: 1)), ("relu", nn.ReLU()), ("pool", nn.MaxPool2d(2)),
            ("flatten", nn.Flatten()), ("fc", nn.Linear(8, 3)));
        Sequential q = QuantizationOps.prepare_qat(model);
        q.forward(rand(4, 1, 4, 4));
        q.eval();
        var stream = new MemoryStream();
        IntegerModel.export(q).save(stream);
        return stream.ToArray()[..^32];
    }

    /// <summary>A model body followed by its SHA-256, as <see cref="IntegerModel.save"/> writes it.</summary>
    private static byte[] WithChecksum(byte[] body) => body.Concat(System.Security.Cryptography.SHA256.HashData(body)).ToArray();

    /// <summary>Loads a model body with its checksum appended.</summary>
    private static IntegerModel LoadBody(byte[] body) => IntegerModel.load(new MemoryStream(WithChecksum(body)));

    private static void RefusedWith(byte[] body, string message)
    {
        byte[] file = WithChecksum(body);
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => IntegerModel.load(new MemoryStream(file))).Message, message);
    }

    private static byte[] WithInt(byte[] body, int offset, int value)
    {
        byte[] copy = (byte[])body.Clone();
        BitConverter.GetBytes(value).CopyTo(copy, offset);
        return copy;
    }

    [TestMethod]
    public void Load_NamesEachOutOfRangeFieldBehindAValidChecksum()
    {
        using var scope = NewDisposeScope();
        byte[] body = SmallModelBody();
        LoadBody(body);
        // The first layer's 14 integers start at byte 10: out, in, kH, kW, sH, sW, pH, pW, dH, dW, groups, bits, wmin, wmax.
        int Field(int i) => 10 + 4 * i;
        const string geometry = "a layer's geometry is out of range";
        foreach ((int field, int value, string message) in new[]
        {
            (0, 0, "a layer has 1 → 0 channels"), (0, 65537, "a layer has 1 → 65537 channels"), (1, 0, "a layer has 0 → 2 channels"),
            (1, 65537, "a layer has 65537 → 2 channels"),
            (2, 0, geometry), (2, 65, geometry), (3, 0, geometry), (3, 65, geometry), (4, 0, geometry), (4, 65, geometry), (5, 0, geometry),
            (5, 65, geometry), (6, -1, geometry), (6, 65, geometry), (7, -1, geometry), (7, 65, geometry), (8, 0, geometry), (8, 65, geometry),
            (9, 0, geometry), (9, 65, geometry), (10, 0, "a layer has 0 groups"), (10, 2, "a layer has 2 groups for 1 → 2 channels"),
            (11, 1, "does not fit 1 signed bits"), (11, 9, "does not fit 9 signed bits"), (12, -126, "weight grid [-126, 127]"), (13, 126, "weight grid [-128, 126]"),
        })
        {
            RefusedWith(WithInt(body, Field(field), value), message);
        }
        // Then two weight scales (doubles), the input's scale, its zero point, qmin and qmax.
        int scales = Field(14), inputScale = scales + 16, grid = inputScale + 8;
        byte[] zeroScale = (byte[])body.Clone();
        BitConverter.GetBytes(0.0).CopyTo(zeroScale, scales + 8);
        RefusedWith(zeroScale, "a layer's weight scales are not positive and finite");
        byte[] nanInput = (byte[])body.Clone();
        BitConverter.GetBytes(double.NaN).CopyTo(nanInput, inputScale);
        RefusedWith(nanInput, "a layer's input scale is NaN");
        RefusedWith(WithInt(body, grid + 4, -(1 << 15) - 1), "a layer's input grid");
        RefusedWith(WithInt(body, grid + 8, 1 << 16), "a layer's input grid");
        RefusedWith(WithInt(body, grid + 8, 0), "a layer's input grid [0, 0]");
        RefusedWith(WithInt(body, grid, -1), "with zero point -1 is invalid");
        RefusedWith(WithInt(body, grid, 256), "with zero point 256 is invalid");
        // The weights' length must be what the shape needs (2·1·3·3 int8 codes), and the shape must fit 2^28 bytes.
        int lengthAt = grid + 12 + 1 + 8;
        Assert.AreEqual(18, BitConverter.ToInt32(body, lengthAt));
        RefusedWith(WithInt(body, lengthAt, 17), "a layer has 17 weight bytes; its shape needs 18");
        RefusedWith(WithInt(body, lengthAt, int.MaxValue), $"a layer has {int.MaxValue} weight bytes; its shape needs 18");
        RefusedWith(WithInt(body, lengthAt, -1), "a layer has -1 weight bytes");
        RefusedWith(WithInt(WithInt(body, Field(0), 65536), Field(1), 65536), $"a layer's weights take {65536L * 65536 * 9} bytes, more than {1 << 28}");
        // After the bias and the weights: ReLU (kind 1), then the pooling step (kind 3) with kH, kW, sH, sW, pH, pW.
        int weightLength = BitConverter.ToInt32(body, grid + 12 + 1 + 8);
        int pool = grid + 12 + 1 + 8 + 4 + weightLength + 1;
        Assert.AreEqual(3, body[pool]);
        foreach ((int field, int value, string message) in new[]
        {
            (0, 0, "a pooling step has the geometry (0, 2"), (0, 65, "(65, 2"), (2, 0, "(2, 2, 0"), (3, 65, "(2, 2, 2, 65"),
            (4, -1, "(2, 2, 2, 2, -1"), (5, 65, "(2, 2, 2, 2, 0, 65)"), (4, 2, "a pooling step pads more than half its window"),
            (5, 2, "a pooling step pads more than half its window"),
        })
        {
            RefusedWith(WithInt(body, pool + 1 + 4 * field, value), message);
        }
        // A padding of exactly half the window is allowed, in either direction.
        foreach (int field in new[] { 4, 5 })
        {
            byte[] half = WithInt(body, pool + 1 + 4 * field, 1);
            LoadBody(half);
        }
    }

    [TestMethod]
    public void Load_NamesABadHeaderStepCountKindAndEnd_BehindAValidChecksum()
    {
        using var scope = NewDisposeScope();
        byte[] body = SmallModelBody();
        int count = BitConverter.ToUInt16(body, 6);
        byte[] WithHeader(int offset, ushort value)
        {
            byte[] copy = (byte[])body.Clone();
            BitConverter.GetBytes(value).CopyTo(copy, offset);
            return copy;
        }
        byte[] badMagic = (byte[])body.Clone();
        badMagic[0] ^= 1;
        RefusedWith(badMagic, "IntegerModel.load: the stream is not an integer model: it does not start with SRQI.");
        RefusedWith(WithHeader(4, 2), "its version is 2; this library reads 1");
        RefusedWith(WithHeader(6, 0), "it has 0 steps");
        RefusedWith(WithHeader(6, 1025), "it has 1025 steps");
        RefusedWith(WithHeader(6, (ushort)(count - 1)), "bytes follow the last step");
        RefusedWith(WithHeader(6, (ushort)(count + 1)), "it ends inside a step");
        RefusedWith(body.Concat(new byte[] { 1, 2, 3 }).ToArray(), "3 bytes follow the last step");
        RefusedWith(body[..^3], "it ends inside a step");
        // A flattening step after the last layer: only ReLU may follow it.
        RefusedWith(WithHeader(6, (ushort)(count + 1)).Concat(new byte[] { 2 }).ToArray(), "only ReLU may follow its last quantized layer");
        RefusedWith(WithHeader(6, (ushort)(count + 1)).Concat(new byte[] { 9 }).ToArray(), "a step has the unknown kind 9");
        // The smallest body the length check lets through (8 bytes and the checksum) reaches the step count.
        RefusedWith(body[..8].Take(6).Concat(new byte[] { 0, 0 }).ToArray(), "it has 0 steps");
        byte[] short39 = new byte[39];
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => IntegerModel.load(new MemoryStream(short39))).Message, "it has 39 bytes, fewer than the smallest model");
        byte[] badSum = body.Concat(new byte[32]).ToArray();
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => IntegerModel.load(new MemoryStream(badSum))).Message, "its checksum does not match its contents");
        Assert.AreEqual("stream", Assert.ThrowsExactly<ArgumentNullException>(() => IntegerModel.load(null!)).ParamName);
    }

    [TestMethod]
    public void IntegerInference_ConvolutionLast_StridedDilatedPaddedAndOneChannel_MatchesLayerByLayer()
    {
        // conv 3×3 stride 2 pad 1 (1→3), ReLU, max-pool 3 stride 2 pad 1 (padding the integer model skips), conv 3×3
        // dilation 2 pad 2 (3→1) last: a 13×13 image gives 7×7, 4×4 and a 1×4×4 output.
        using var scope = NewDisposeScope();
        manual_seed(6);
        Sequential model = nn.Sequential(("conv1", nn.Conv2d(1, 3, 3, stride: 2, padding: 1)), ("relu1", nn.ReLU()),
            ("pool", nn.MaxPool2d(3, stride: 2, padding: 1)), ("conv2", nn.Conv2d(3, 1, 3, padding: 2, dilation: 2)));
        Sequential q = QuantizationOps.prepare_qat(model);
        Tensor x = rand(new long[] { 16, 1, 13, 13 }, generator: new Generator(5));
        using (no_grad()) q.forward(x);
        q.eval();
        IntegerModel integer = IntegerModel.export(q);
        var stream = new MemoryStream();
        integer.save(stream);
        integer = IntegerModel.load(new MemoryStream(stream.ToArray()));
        Tensor actual = integer.forward(x);
        CollectionAssert.AreEqual(new long[] { 16, 1, 4, 4 }, actual.shape);
        var last = (QuantConv2d)q.named_children().Last().module;
        double step = last.input_quantizer.scale.item<float>() * last.weight_quantizer.scale.max().item<float>();
        for (int i = 0; i < 16; i++)
        {
            using var inner = NewDisposeScope();
            var codes = integer.InputCodes(x[i].flatten().data<float>().ToArray(), new long[] { 1, 13, 13 });
            (int[][] reference, Tensor output) = FakeQuantizedLayerByLayer(q, codes, new long[] { 1, 13, 13 });
            Assert.AreEqual(3 * 4 * 4, reference[0].Length);
            for (int j = 0; j < reference[0].Length; j++) Assert.IsTrue(Math.Abs(reference[0][j] - codes[1][j]) <= 1, $"sample {i}, code {j}");
            double worst = (output.squeeze(0) - actual[i]).abs().max().item<float>();
            Assert.IsTrue(worst <= step, $"sample {i}: {worst} against a step of {step}");
        }
        // A 3×3 image gives one position after every step (2×2, then 1×1 through the padded pooling and convolution).
        CollectionAssert.AreEqual(new long[] { 2, 1, 1, 1 }, integer.forward(rand(2, 1, 3, 3)).shape);
        // The same model must see 4-dim input with one channel.
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => integer.forward(rand(2, 13, 13))).Message, "x has shape (2, 13, 13); expected (N, 1, H, W) with N ≥ 1.");
    }

    [TestMethod]
    public void Export_AcceptsAnAccumulatorBoundUpToInt32Max_AndRefusesOneBeyond()
    {
        // uint16 inputs with Z = 0 and int8 weights: each product is at most 65535·128, so 256 inputs reach
        // 2,147,450,880 ≤ 2³¹ − 1 and 257 reach 2,155,839,360; a bias code of 40,000 adds its magnitude.
        using var scope = NewDisposeScope();
        Sequential Model(int inputs, bool withBias)
        {
            var layer = new QuantLinear(inputs, 2, hasBias: withBias, inputSpec: new QuantSpec(16, signed: false, symmetric: false),
                learnScales: false, inputObserver: new MinMaxObserver());
            Sequential model = nn.Sequential(("fc", layer));
            using (no_grad())
            {
                model.forward(rand(new long[] { 8, inputs }, generator: new Generator(3)));
                layer.bias?.zero_();
            }
            model.eval();
            return model;
        }
        IntegerModel.export(Model(256, withBias: true));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => IntegerModel.export(Model(257, withBias: false))).Message,
            "IntegerModel.export: the model cannot be stored: a layer's accumulator could reach 2155839360, beyond int32.");
        Sequential biased = Model(256, withBias: true);
        var fc = (QuantLinear)biased.named_children().First().module;
        using (no_grad())
        {
            double step = fc.input_quantizer.scale.item<float>() * fc.weight_quantizer.scale[1].item<float>();
            fc.bias![1] = (float)(40000 * step);
        }
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => IntegerModel.export(biased)).Message, "a layer's accumulator could reach 21474");
    }

    [TestMethod]
    public void NestedSequential_PerTensorWeights_SymmetricInputs_AndATrailingReLU_MatchTheFakeQuantizedModel()
    {
        // fc1 (uint8 affine input, Z = 0, per-tensor weights) · ReLU · fc2 (uint8 symmetric input: Z = 128, so the ReLU
        // between clamps codes at 128, not at fc1's 0) · ReLU, inside a nested Sequential.
        using var scope = NewDisposeScope();
        manual_seed(8);
        var fc1 = new QuantLinear(6, 5, weightSpec: new QuantSpec(8), learnScales: false);
        var fc2 = new QuantLinear(5, 4, inputSpec: new QuantSpec(8, signed: false), learnScales: false);
        Sequential model = nn.Sequential(("block", nn.Sequential(("fc1", fc1), ("relu1", nn.ReLU()), ("fc2", fc2))), ("relu2", nn.ReLU()));
        Tensor x = rand(new long[] { 32, 6 }, generator: new Generator(4));
        using (no_grad()) model.forward(x);
        model.eval();
        Assert.AreEqual(128, fc2.input_quantizer.spec.symmetric_zero_point);
        IntegerModel integer = IntegerModel.export(model);
        Assert.AreEqual(2, integer.layer_count);
        Tensor expected;
        using (no_grad()) expected = model.forward(x);
        Tensor actual = integer.forward(x);
        Assert.IsTrue(actual.min().item<float>() >= 0, "the trailing ReLU");
        Assert.IsTrue(expected.gt(0).any().item<bool>() && expected.eq(0).any().item<bool>());
        // End to end an off-by-one code in fc2's input can move an output by |w|·s_x·s_w, so allow two steps of fc2's weights.
        double step = fc2.input_quantizer.scale.item<float>() * fc2.weight_quantizer.scale.abs().max().item<float>() * 127;
        Assert.IsTrue((expected - actual).abs().max().item<float>() <= 2 * step, $"{(expected - actual).abs().max().item<float>()} against {step}");
    }

    [TestMethod]
    public void Export_RefusesAHalfInitialisedLayer_AnOverflowingBias_AndAFlattenOfTheBatch()
    {
        using var scope = NewDisposeScope();
        string M(Sequential s) => Assert.ThrowsExactly<ArgumentException>(() => IntegerModel.export(s)).Message;
        var half = new QuantLinear(2, 2);
        using (no_grad()) half.weight_quantizer.forward(half.weight);
        Assert.IsTrue(half.weight_quantizer.is_initialized && !half.input_quantizer.is_initialized);
        StringAssert.Contains(M(nn.Sequential(("fc", half))), "fc: its quantizers have not been initialised");
        var big = new QuantLinear(2, 2);
        var bigModel = nn.Sequential(("fc", big));
        using (no_grad())
        {
            bigModel.forward(rand(4, 2));
            big.bias![0] = 1e30f;
        }
        bigModel.eval();
        StringAssert.Contains(M(bigModel), "IntegerModel.export: fc: bias[0] = ");
        var flat = nn.Sequential(("fc", new QuantLinear(2, 2)), ("flatten", nn.Flatten(0)));
        using (no_grad()) flat.forward(rand(4, 2));
        StringAssert.Contains(M(flat), "flatten is a Flatten, which the integer format cannot express");
    }

    [TestMethod]
    public void Forward_OfALinearFirstModel_NamesTheShapeItNeeds()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        Sequential q = QuantizationOps.prepare_qat(nn.Sequential(("fc", nn.Linear(4, 3))));
        using (no_grad()) q.forward(randn(8, 4));
        q.eval();
        IntegerModel integer = IntegerModel.export(q);
        string M(Tensor x) => Assert.ThrowsExactly<ArgumentException>(() => integer.forward(x)).Message;
        StringAssert.Contains(M(randn(2, 5)), "IntegerModel.forward: x has shape (2, 5); expected (N, 4) with N ≥ 1.");
        StringAssert.Contains(M(randn(2, 4, 1)), "x has shape (2, 4, 1); expected (N, 4)");
        StringAssert.Contains(M(randn(0, 4)), "x has shape (0, 4)");
        StringAssert.Contains(M(tensor(1.0f)), "x has shape (); expected (N, 4)");
        Tensor x = randn(5, 4);
        Tensor y = integer.forward(x);
        CollectionAssert.AreEqual(new long[] { 5, 3 }, y.shape);
        Tensor expected;
        using (no_grad()) expected = q.forward(x);
        var fc = (QuantLinear)q.named_children().First().module;
        double step = fc.input_quantizer.scale.item<float>() * fc.weight_quantizer.scale.max().item<float>();
        Assert.IsTrue((expected - y).abs().max().item<float>() <= step);
    }

    [TestMethod]
    public void Export_RefusesWhatTheFormatCannotExpress()
    {
        using var scope = NewDisposeScope();
        string M(Sequential s) => Assert.ThrowsExactly<ArgumentException>(() => IntegerModel.export(s)).Message;
        StringAssert.Contains(M(nn.Sequential(("fc", new QuantLinear(2, 2)))), "IntegerModel.export: fc: its quantizers have not been initialised");
        var affine = nn.Sequential(("fc", new QuantLinear(2, 2, weightSpec: new QuantSpec(8, symmetric: false, axis: 0))));
        affine.forward(ones(1, 2));
        StringAssert.Contains(M(affine), "weights must be signed symmetric of at most 8 bits; got int8 affine");
        var tanh = nn.Sequential(("fc", new QuantLinear(2, 2)), ("t", nn.Tanh()));
        tanh.forward(ones(1, 2));
        StringAssert.Contains(M(tanh), "IntegerModel.export: t is a Tanh, which the integer format cannot express.");
        var floatFirst = nn.Sequential(("relu", nn.ReLU()), ("fc", new QuantLinear(2, 2)));
        floatFirst.forward(ones(1, 2));
        StringAssert.Contains(M(floatFirst), "it does not start with a quantized layer");
        Assert.ThrowsExactly<ArgumentNullException>(() => IntegerModel.export(null!));
    }

    [TestMethod]
    public void Export_RefusesWhatTheLoaderWouldRefuse_ChannelsAScaleAndAPoolingWindow()
    {
        using var scope = NewDisposeScope();
        var wide = nn.Sequential(("fc", new QuantLinear(1, 65537)));
        wide.forward(ones(1, 1));
        Assert.AreEqual("IntegerModel.export: the model cannot be stored: a layer has 1 → 65537 channels. (Parameter 'model')",
            Assert.ThrowsExactly<ArgumentException>(() => IntegerModel.export(wide)).Message);
        var fc = new QuantLinear(2, 2);
        var negative = nn.Sequential(("fc", fc));
        negative.forward(ones(1, 2));
        using (no_grad()) fc.input_quantizer.scale.fill_(-0.5);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => IntegerModel.export(negative)).Message,
            "IntegerModel.export: the model cannot be stored: a layer's input scale is -0.5.");
        // A pooling window the loader would refuse is refused when exported, not written.
        var widePool = nn.Sequential(("fc", new QuantConv2d(1, 1, 1)), ("pool", nn.MaxPool2d(65)), ("fc2", new QuantConv2d(1, 1, 1)));
        widePool.forward(ones(1, 1, 65, 65));
        Assert.AreEqual("IntegerModel.export: the model cannot be stored: a pooling step has the geometry (65, 65, 65, 65, 0, 0). (Parameter 'model')",
            Assert.ThrowsExactly<ArgumentException>(() => IntegerModel.export(widePool)).Message);
    }

    [TestMethod]
    public void Forward_RefusesInputsTheFirstLayerCannotTake()
    {
        using var scope = NewDisposeScope();
        IntegerModel model = IntegerModel.export(TrainedCnn(8, 8));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => model.forward(rand(2, 3, 12, 12))).Message, "IntegerModel.forward: x has shape (2, 3, 12, 12); expected (N, 1, H, W) with N ≥ 1.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => model.forward(full(new long[] { 1, 1, 12, 12 }, float.NaN))).Message, "x must be finite");
        Tensor oneNaN = rand(2, 1, 12, 12);
        oneNaN[1, 0, 5, 7] = tensor(float.NaN);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => model.forward(oneNaN)).Message, "x must be finite");
        // A 1×1 image survives the padded 3×3 convolution but not the 2×2 pooling (stride 2: ⌊−1/2⌋ + 1 = 0 positions).
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => model.forward(rand(1, 1, 1, 1))).Message, "IntegerModel.forward: a 1×1 input is smaller than a 2×2 pooling window.");
        Assert.AreEqual("stream", Assert.ThrowsExactly<ArgumentNullException>(() => model.save(null!)).ParamName);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => model.forward(rand(1, 1, 10, 10))).Message, "IntegerModel.forward: a linear layer of 72 inputs gets samples of shape (32).");
    }

    [TestMethod]
    public void FixedPointMultipliers_AreWithinHalfAUnitOfTheirLastPlace()
    {
        foreach (double m in new[] { 1e-6, 0.0123, 0.5, 0.999999, 1.0, 3.7, 1000.0 })
        {
            (long mantissa, int shift) = IntegerModelFixedPoint(m);
            Assert.IsTrue(mantissa >= 1L << 30 && mantissa < 1L << 31, $"{m}");
            Assert.AreEqual(m, Math.ScaleB(mantissa, -shift), m * Math.ScaleB(1, -31));
        }
    }

    [TestMethod]
    public void FixedPoint_RefusesMultipliersWithoutAFixedPointForm_AndCarriesARoundingUpToTwo()
    {
        foreach (double m in new[] { 0.0, -1.0, double.NaN, double.PositiveInfinity, Math.ScaleB(1, 31), Math.ScaleB(1, -33) })
        {
            var e = Assert.ThrowsExactly<InvalidDataException>(() => IntegerModelFixedPoint(m));
            StringAssert.Contains(e.Message, $"a requantization multiplier {m} is out of range");
        }
        // The edges of 1 ≤ t ≤ 62, and a multiplier whose mantissa rounds up to 2^31.
        Assert.AreEqual((1L << 30, 62), IntegerModelFixedPoint(Math.ScaleB(1, -32)));
        Assert.AreEqual((1L << 30, 1), IntegerModelFixedPoint(Math.ScaleB(1, 29)));
        Assert.AreEqual((1L << 30, 29), IntegerModelFixedPoint(2 - Math.ScaleB(1, -40)));
    }

    /// <summary>A linear layer (out 1, in 1, 8-bit weights) built as the loader builds it, with the given input grid and bias.</summary>
    private static QuantizedLayer LinearLayer(int zero, int min, int max, int bias) =>
        new(false, new[] { 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 8, -128, 127 }, new[] { 1.0 }, 1.0, zero, min, max, new[] { bias }, new byte[] { 0x80 });

    private static void CheckAccumulator(QuantizedLayer layer) => layer.CheckAccumulator();

    [TestMethod]
    public void AccumulatorBound_IsExactAtInt32Max_AndCountsTheInputsLargestDistanceFromItsZeroPoint()
    {
        // |q_x − Z| ≤ 65535 and |q_w| ≤ 128: the products reach 8,388,480; a bias of 2^31 − 1 − that reaches int32's maximum exactly.
        CheckAccumulator(LinearLayer(0, 0, 65535, int.MaxValue - 8388480));
        var beyond = Assert.ThrowsExactly<InvalidDataException>(() => CheckAccumulator(LinearLayer(0, 0, 65535, int.MaxValue - 8388479)));
        StringAssert.Contains(beyond.Message, "a layer's accumulator could reach 2147483648, beyond int32");
        // A signed grid [−32768, 100] around 0: the largest distance is the 32768 below the zero point.
        CheckAccumulator(LinearLayer(0, -32768, 100, int.MaxValue - 32768 * 128));
        beyond = Assert.ThrowsExactly<InvalidDataException>(() => CheckAccumulator(LinearLayer(0, -32768, 100, int.MaxValue - 32768 * 128 + 1)));
        StringAssert.Contains(beyond.Message, "beyond int32");
        // An unsigned grid [0, 65535] around 1000: the largest distance is the 64535 above it.
        CheckAccumulator(LinearLayer(1000, 0, 65535, int.MaxValue - 64535 * 128));
        beyond = Assert.ThrowsExactly<InvalidDataException>(() => CheckAccumulator(LinearLayer(1000, 0, 65535, int.MaxValue - 64535 * 128 + 1)));
        StringAssert.Contains(beyond.Message, "beyond int32");
        // A bias of exactly −2^31 steps fits in int32 (the bias check lets it through); the accumulator bound refuses it.
        var fc = new QuantLinear(1, 1, learnScales: false);
        var model = nn.Sequential(("fc", fc));
        model.forward(ones(1, 1));
        using (no_grad())
        {
            fc.input_quantizer.scale.fill_(0.5);
            fc.weight_quantizer.scale.fill_(0.25);
            fc.bias!.fill_(-(float)Math.ScaleB(1, 28));
        }
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => IntegerModel.export(model)).Message, "the model cannot be stored: a layer's accumulator could reach 2147516288, beyond int32");
    }

    [TestMethod]
    public void Load_AcceptsTheGridsEdges_AndNamesALinearLayerWithAConvolutionsGeometry_AndAWeightOffItsGrid()
    {
        using var scope = NewDisposeScope();
        byte[] body = SmallModelBody();
        int Field(int i) => 10 + 4 * i;
        int grid = Field(14) + 16 + 8;
        int zero = BitConverter.ToInt32(body, grid), min = BitConverter.ToInt32(body, grid + 4), max = BitConverter.ToInt32(body, grid + 8);
        Assert.IsTrue(min < max);
        foreach (int z in new[] { min, max })
        {
            byte[] edge = WithInt(body, grid, z);
            LoadBody(edge);
        }
        RefusedWith(WithInt(WithInt(body, grid + 4, zero), grid + 8, zero), $"a layer's input grid [{zero}, {zero}] with zero point {zero} is invalid");
        // The linear layer's 14 integers follow the pooling step (kind and six integers), the flattening step, the
        // layer's kind and its convolution flag; a stride of 2 is a convolution's.
        int weightLength = BitConverter.ToInt32(body, grid + 12 + 1 + 8);
        int pool = grid + 12 + 1 + 8 + 4 + weightLength + 1;
        int linear = pool + 1 + 24 + 1 + 1 + 1;
        Assert.AreEqual(0, body[linear - 1]);
        Assert.AreEqual(8, BitConverter.ToInt32(body, linear + 4));
        RefusedWith(WithInt(body, linear + 4 * 4, 2), "a linear layer has a convolution's geometry");

        // Narrow-range weights (qmin = 1 − 2^(b−1)) round-trip at 8 and 4 bits; −128 is off an 8-bit narrow grid.
        foreach (int bits in new[] { 8, 4 })
        {
            manual_seed(5);
            Sequential q = QuantizationOps.prepare_qat(nn.Sequential(("fc", nn.Linear(3, 2))), new QuantSpec(bits, narrowRange: true, axis: 0));
            q.forward(randn(4, 3));
            q.eval();
            var stream = new MemoryStream();
            IntegerModel.export(q).save(stream);
            IntegerModel loaded = IntegerModel.load(new MemoryStream(stream.ToArray()));
            Tensor x = randn(3, 3);
            Assert.IsTrue(IntegerModel.export(q).forward(x).eq(loaded.forward(x)).all().item<bool>());
            byte[] narrow = stream.ToArray()[..^32];
            Assert.AreEqual(1 - (1 << (bits - 1)), BitConverter.ToInt32(narrow, Field(12)));
            if (bits == 8)
            {
                int weights = Field(14) + 16 + 8 + 12 + 1 + 8 + 4; // two scales, the input scale and grid, a bias flag and two biases, the length
                byte[] offGrid = (byte[])narrow.Clone();
                offGrid[weights] = 0x80;
                RefusedWith(offGrid, "a weight code lies outside its grid");
            }
        }
    }

    [TestMethod]
    public void Export_AcceptsOneAnd1024Steps_WindowsOf1And64_AndAPaddingOf64_AndRefuses1025Steps()
    {
        using var scope = NewDisposeScope();
        IntegerModel Roundtrip(Sequential model)
        {
            var stream = new MemoryStream();
            IntegerModel.export(model).save(stream);
            return IntegerModel.load(new MemoryStream(stream.ToArray()));
        }
        var fc = new QuantLinear(2, 2);
        fc.forward(ones(1, 2));
        Assert.AreEqual(1, Roundtrip(nn.Sequential(("fc", fc))).layer_count);
        Sequential Steps(int reLUs) => nn.Sequential(new[] { ("fc", (nn.Module<Tensor, Tensor>)fc) }.Concat(Enumerable.Range(0, reLUs).Select(i => ($"r{i}", (nn.Module<Tensor, Tensor>)nn.ReLU()))).ToArray());
        Assert.AreEqual(1, Roundtrip(Steps(1023)).layer_count);
        Assert.AreEqual("IntegerModel.export: the model cannot be stored: it has 1025 steps. (Parameter 'model')",
            Assert.ThrowsExactly<ArgumentException>(() => IntegerModel.export(Steps(1024))).Message);
        var a = new QuantConv2d(1, 2, 1, padding: 64);
        var b = new QuantConv2d(2, 2, 1);
        a.forward(rand(1, 1, 2, 2));
        b.forward(rand(1, 2, 2, 2));
        IntegerModel model = Roundtrip(nn.Sequential(("a", a), ("one", nn.MaxPool2d(1)), ("wide", nn.MaxPool2d(64)), ("b", b)));
        CollectionAssert.AreEqual(new long[] { 1, 2, 2, 2 }, model.forward(rand(1, 1, 2, 2)).shape);
    }

    [TestMethod]
    public void Forward_NamesInnerShapesALayerOrPoolingCannotTake_AndAConvolutionLastWithTwoChannelsMatches()
    {
        using var scope = NewDisposeScope();
        var fc4 = new QuantLinear(4, 4);
        var fc2 = new QuantLinear(4, 2);
        var conv = new QuantConv2d(4, 2, 1);
        fc4.forward(randn(2, 4));
        fc2.forward(randn(2, 4));
        conv.forward(randn(2, 4, 3, 3));
        string M(Sequential s, Tensor x) => Assert.ThrowsExactly<ArgumentException>(() => IntegerModel.export(s).forward(x)).Message;
        Assert.AreEqual("IntegerModel.forward: max pooling needs (C, H, W) samples; got (4).",
            M(nn.Sequential(("fc4", fc4), ("pool", nn.MaxPool2d(2)), ("fc2", fc2)), randn(1, 4)));
        Assert.AreEqual("IntegerModel.forward: a convolution of 4 channels gets samples of shape (4).", M(nn.Sequential(("fc4", fc4), ("conv", conv)), randn(1, 4)));
        var first = new QuantConv2d(1, 4, 3);
        first.forward(rand(1, 1, 5, 5));
        Assert.AreEqual("IntegerModel.forward: a linear layer of 4 inputs gets samples of shape (4, 3, 1).", M(nn.Sequential(("first", first), ("fc2", fc2)), rand(1, 1, 5, 3)));
        var two = new QuantConv2d(2, 2, 1);
        two.forward(rand(1, 2, 3, 3));
        Assert.AreEqual("IntegerModel.forward: a convolution of 2 channels gets samples of shape (4, 3, 3).", M(nn.Sequential(("first", first), ("two", two)), rand(1, 1, 5, 5)));
        StringAssert.StartsWith(M(nn.Sequential(("first", first)), rand(1, 1, 12, 2)), "IntegerModel.forward: a 12×2 input is smaller than the 3×3 kernel.");
        StringAssert.StartsWith(M(nn.Sequential(("first", first)), rand(2, 1)), "IntegerModel.forward: x has shape (2, 1); expected (N, 1, H, W)");
        // A convolution last with two channels of nine positions each: every output within one step of the fake-quantized model.
        manual_seed(6);
        Sequential q = QuantizationOps.prepare_qat(nn.Sequential(("conv", nn.Conv2d(1, 2, 3, padding: 1))));
        q.forward(rand(4, 1, 3, 3));
        q.eval();
        Tensor x = rand(2, 1, 3, 3);
        Tensor expected;
        using (no_grad()) expected = q.forward(x);
        var c = (QuantConv2d)q.named_children().First().module;
        double step = c.input_quantizer.scale.item<float>() * c.weight_quantizer.scale.max().item<float>();
        Assert.IsTrue((expected - IntegerModel.export(q).forward(x)).abs().max().item<float>() <= step);
    }

    [TestMethod]
    public void Export_NamesNestedModulesByTheirPath_AndItsArgumentAsModel()
    {
        using var scope = NewDisposeScope();
        var fc = new QuantLinear(2, 2);
        fc.forward(ones(1, 2));
        var e = Assert.ThrowsExactly<ArgumentException>(() => IntegerModel.export(nn.Sequential(("fc", fc), ("block", nn.Sequential(("t", nn.Tanh()))))));
        StringAssert.StartsWith(e.Message, "IntegerModel.export: block.t is a Tanh");
        Assert.AreEqual("model", e.ParamName);
        Assert.AreEqual("model", Assert.ThrowsExactly<ArgumentException>(() => IntegerModel.export(nn.Sequential(("fc", new QuantLinear(2, 2))))).ParamName);
        var affine = nn.Sequential(("fc", new QuantLinear(2, 2, weightSpec: new QuantSpec(8, symmetric: false, axis: 0))));
        affine.forward(ones(1, 2));
        Assert.AreEqual("model", Assert.ThrowsExactly<ArgumentException>(() => IntegerModel.export(affine)).ParamName);
        var huge = new QuantLinear(2, 2);
        var hugeModel = nn.Sequential(("fc", huge));
        hugeModel.forward(ones(1, 2));
        using (no_grad()) huge.bias!.fill_(1e30f);
        var big = Assert.ThrowsExactly<ArgumentException>(() => IntegerModel.export(hugeModel));
        StringAssert.Contains(big.Message, "IntegerModel.export: fc: bias[0] = ");
        Assert.AreEqual("model", big.ParamName);
    }

    private static (long, int) IntegerModelFixedPoint(double m) => QuantizedLayer.FixedPoint(m);
}
