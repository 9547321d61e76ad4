using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Internals;
using SoftRound.Tf.Performance;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Performance;

[TestClass]
public sealed class MkldnnBackendTests
{
    /// <summary>Seeded backward passes of a 6 → 4 channel 3×3 convolution on 4×4 inputs whose input gradient is not finite.</summary>
    private static int NonFiniteInputGradients(int passes)
    {
        int bad = 0;
        for (int t = 0; t < passes; t++)
        {
            using var scope = NewDisposeScope();
            manual_seed(t);
            Tensor w = randn(4, 6, 3, 3).requires_grad_(), u = randn(2, 6, 4, 4).requires_grad_(), g = randn(2, 4, 4, 4);
            (nn.functional.conv2d(u, w, padding: new long[] { 1, 1 }) * g).sum().backward();
            if (!u.grad!.isfinite().all().item<bool>()) bad++;
        }
        return bad;
    }

    [TestMethod]
    public void Disabled_ConvolutionGradientsAreFinite_AndTheSettingReadsBack()
    {
        bool before = MkldnnBackend.enabled;
        try
        {
            MkldnnBackend.enabled = false;
            Assert.IsFalse(MkldnnBackend.enabled);
            Assert.AreEqual(0, NonFiniteInputGradients(100));
            MkldnnBackend.enabled = true;
            Assert.IsTrue(MkldnnBackend.enabled);
        }
        finally
        {
            MkldnnBackend.enabled = before;
        }
    }

    /// <summary>
    /// Shapes whose forward pass oneDNN's AVX2 kernels got wrong (by about 1) in most runs: with oneDNN off they are
    /// float64's within float32 rounding, on any machine.
    /// </summary>
    [TestMethod]
    public void Disabled_ConvolutionsThatOneDnnsAvx2KernelsGetWrong_AreFloat64s()
    {
        using var scope = NewDisposeScope();
        using var off = MkldnnBackend.flags(enabled: false);
        manual_seed(2);
        foreach ((int cin, int cout, int k, int size, bool transposed) in new[] { (12, 8, 5, 4, false), (20, 24, 5, 16, false), (100, 8, 3, 16, false), (3, 3, 5, 8, true), (12, 24, 5, 4, true) })
        {
            Tensor x = randn(1, cin, size, size), w = transposed ? randn(cin, cout, k, k) * 0.1 : randn(cout, cin, k, k) * 0.1;
            long[] padding = { k / 2, k / 2 };
            Func<Tensor, Tensor, Tensor> conv = transposed
                ? (u, v) => nn.functional.conv_transpose2d(u, v, padding: padding)
                : (u, v) => nn.functional.conv2d(u, v, padding: padding);
            Tensor expected = conv(x.to(float64), w.to(float64));
            double error = (conv(x, w).to(float64) - expected).abs().max().item<double>();
            Assert.IsTrue(error < 1e-5, $"{cin} → {cout}, {k}×{k}{(transposed ? " transposed" : "")}: largest difference {error}");
        }
    }

    [TestMethod]
    public void Disabled_ConvolutionGivesTheSameValuesAsOneDnn()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        Tensor w = randn(8, 5, 3, 3), x = randn(3, 5, 9, 7);
        Tensor a, b;
        using (MkldnnBackend.flags(enabled: true)) a = nn.functional.conv2d(x, w, padding: new long[] { 1, 1 });
        using (MkldnnBackend.flags(enabled: false)) b = nn.functional.conv2d(x, w, padding: new long[] { 1, 1 });
        Assert.IsTrue(a.allclose(b, rtol: 1e-5, atol: 1e-5));
    }

    [TestMethod]
    public void Flags_SetTheSettingUntilDisposed_AndNest()
    {
        bool before = MkldnnBackend.enabled;
        IDisposable outer = MkldnnBackend.flags(enabled: !before);
        Assert.AreEqual(!before, MkldnnBackend.enabled);
        using (MkldnnBackend.flags(enabled: before)) Assert.AreEqual(before, MkldnnBackend.enabled);
        Assert.AreEqual(!before, MkldnnBackend.enabled);
        outer.Dispose();
        Assert.AreEqual(before, MkldnnBackend.enabled);
        // A second Dispose restores nothing again: the setting made since stays.
        MkldnnBackend.enabled = !before;
        outer.Dispose();
        Assert.AreEqual(!before, MkldnnBackend.enabled);
        MkldnnBackend.enabled = before;
    }

    [TestMethod]
    public void SetMaxCpuIsa_SetsTheVariableOneDnnReads_InTheProcesssNativeEnvironment()
    {
        string? before = NativeEnvironment.get(MkldnnBackend.MaxCpuIsaVariable, nameof(MkldnnBackendTests));
        try
        {
            // "DEFAULT" (no limit) changes nothing if oneDNN has not read the variable yet, whatever runs next.
            // Every name oneDNN 3 reads, each set and read back (no convolution runs in between).
            string[] names =
            {
                "DEFAULT", "SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2", "AVX512_CORE", "AVX512_CORE_VNNI", "AVX512_CORE_BF16",
                "AVX10_1_512", "AVX512_CORE_FP16", "AVX10_1_512_AMX", "AVX512_CORE_AMX", "AVX10_1_512_AMX_FP16", "AVX512_CORE_AMX_FP16",
                "AVX10_2_512", "AVX10_2_512_AMX_2",
            };
            CollectionAssert.AreEqual(names, MkldnnBackend.cpu_isas.ToArray());
            foreach (string isa in names)
            {
                MkldnnBackend.set_max_cpu_isa(isa);
                Assert.AreEqual(isa, NativeEnvironment.get("ONEDNN_MAX_CPU_ISA", nameof(MkldnnBackendTests)));
            }
            MkldnnBackend.set_max_cpu_isa("DEFAULT");
            Assert.AreEqual("DEFAULT", NativeEnvironment.get("ONEDNN_MAX_CPU_ISA", nameof(MkldnnBackendTests)));
        }
        finally
        {
            MkldnnBackend.set_max_cpu_isa(before ?? "DEFAULT");
        }
    }

    [TestMethod]
    public void SetMaxCpuIsa_AnUnknownName_IsRefused_AndTheVariableKept()
    {
        string? before = NativeEnvironment.get(MkldnnBackend.MaxCpuIsaVariable, nameof(MkldnnBackendTests));
        var e = Assert.ThrowsExactly<ArgumentException>(() => MkldnnBackend.set_max_cpu_isa("avx2"));
        Assert.AreEqual("isa", e.ParamName);
        StringAssert.Contains(e.Message, "MkldnnBackend.set_max_cpu_isa: isa must be one of DEFAULT, SSE41");
        StringAssert.Contains(e.Message, "got \"avx2\"");
        Assert.AreEqual("isa", Assert.ThrowsExactly<ArgumentNullException>(() => MkldnnBackend.set_max_cpu_isa(null!)).ParamName);
        Assert.AreEqual(before, NativeEnvironment.get(MkldnnBackend.MaxCpuIsaVariable, nameof(MkldnnBackendTests)));
    }
}
