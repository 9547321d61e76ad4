using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using SoftRound.Tf.Internals;
using static TorchSharp.torch;

namespace SoftRound.Tf.Performance;

/// <summary>
/// Whether libtorch's CPU operators may use oneDNN (MKL-DNN): PyTorch's <c>torch.backends.mkldnn.enabled</c>, which
/// TorchSharp does not expose.
/// </summary>
/// <remarks>
/// <para>
/// Reasons to turn it off: two upstream bugs in oneDNN's float32 convolutions, seen only where a channel count is not a
/// multiple of 8, both in LibTorch 2.10 (through TorchSharp) as in PyTorch 2.6 (oneDNN 3.7.2). libtorch's own
/// convolution kernels, which take over when it is off, get both right:
/// </para>
/// <list type="bullet">
/// <item>The backward pass can return NaN in the input's gradient on two or more threads: a 3×3 stride-1 convolution,
/// 6 → 4 channels on 4×4 inputs, gave NaN in 21 of 200 seeded passes in LibTorch 2.10 and 59 of 300 in PyTorch 2.6
/// (AMD EPYC with AVX-512; none with one thread, none in float64). The hyperprior models' 3×3 convolutions on their
/// small latents hit it, so a training run can turn NaN.</item>
/// <item>With AVX2 kernels (a machine without AVX-512, or <c>DNNL_MAX_CPU_ISA=AVX2</c>) the forward pass gives wrong
/// values, by about 1 where the values are of order 1, on one or two threads alike, and not the same ones from run to
/// run: 263 to 299 of 1,440 convolution and transposed-convolution shapes with 1 to 196 input channels, against
/// float64 (for example 12 → 8 channels with a 5×5 kernel on 4×4 inputs, or 3 → 3 transposed 5×5); none of 384 shapes
/// whose channel counts are 64, 128 or 192 with 3 on one side. CompressAI's mbt2018 with M = 12 gives likelihoods off
/// by up to 0.016 here and 0.037 in PyTorch 2.6.</item>
/// <item>On another machine (a 2-vCPU AMD EPYC virtual machine with AVX-512, 2026-12-05) it was oneDNN's AVX-512
/// kernels that were wrong, on one thread as on two, and its AVX2 ones (<c>ONEDNN_MAX_CPU_ISA=AVX2</c>) right: of 1,200
/// shapes (3×3 and strided 5×5 convolutions and strided 5×5 transposed ones, 8 to 128 channels each side, inputs of 4×4
/// to 36×36, batch 2), 542 gave outputs or input gradients off by 0.08 to 1 relative or with NaN, the same 542 in
/// PyTorch 2.6; none with AVX2 kernels. A convolution's output was wrong where its input channels were 24, 40 or 72
/// (not a multiple of 16), its input gradient where its output channels were 8, 24, 40 or 72 (and 48 when strided),
/// a transposed convolution's the other way round; weight gradients were right. The codec example's 32 → 48 and
/// 48 → 72 transposed convolutions and 72 → 96 convolution in its hyper-synthesis were among them (the NaN its
/// training met). Which kernels are right is the machine's matter: check a model with <see cref="check"/>, and limit
/// the instruction set with <see cref="set_max_cpu_isa"/> before the first convolution.</item>
/// </list>
/// <para>
/// The setting is process-wide. It is reached through libtorch's C++ entry points
/// (<c>at::globalContext().setUserEnabledMkldnn</c>), whose names are the Itanium C++ ABI's: Linux and macOS builds
/// of libtorch.
/// </para>
/// </remarks>
public static class MkldnnBackend
{
    private const string Library = "libtorch_cpu";

    /// <summary>Whether oneDNN may be used (libtorch's default: true).</summary>
    /// <exception cref="PlatformNotSupportedException">The libtorch loaded does not have the entry points (a Windows build).</exception>
    public static bool enabled
    {
        get => Call(() => UserEnabledMkldnn(GlobalContext()));
        set => Call(() =>
        {
            SetUserEnabledMkldnn(GlobalContext(), value);
            return true;
        });
    }

    /// <summary>
    /// Sets <see cref="enabled"/> until the returned scope is disposed, which restores the value it had: PyTorch's
    /// <c>torch.backends.mkldnn.flags(enabled=…)</c>. Scopes nest; the setting stays process-wide meanwhile.
    /// </summary>
    /// <exception cref="PlatformNotSupportedException">As <see cref="enabled"/>.</exception>
    public static IDisposable flags(bool enabled)
    {
        var scope = new Scope(MkldnnBackend.enabled);
        MkldnnBackend.enabled = enabled;
        return scope;
    }

    /// <summary>
    /// Whether oneDNN computes <paramref name="model"/>'s convolutions right on this machine, with its current ISA and
    /// thread count (<see cref="MkldnnCheck"/>): each convolution layer, on the input it receives when the model runs
    /// on <paramref name="input"/>, with oneDNN on against libtorch's own kernels, <paramref name="repeats"/> times
    /// (oneDNN's wrong results can differ from run to run). Use it before turning oneDNN on for a model: which shapes
    /// oneDNN gets wrong depends on the machine (see the remarks). The model runs once in eval mode without gradients;
    /// its mode, parameters and gradients, the input and <see cref="enabled"/> are left as they were.
    /// </summary>
    /// <typeparam name="TResult">What the model returns (a tensor, or a <c>CompressionOutput</c>, …).</typeparam>
    /// <param name="model">The model; its convolution layers are the <see cref="TorchSharp.Modules.Convolution"/> modules among its <c>named_modules</c>.</param>
    /// <param name="input">A float32 input of the shape the model will see (the layers' shapes follow from it).</param>
    /// <param name="backward">Whether to compare the input and weight gradients too (for training).</param>
    /// <param name="repeats">How many times each layer is compared (1 or more).</param>
    /// <param name="tolerance">The largest relative error max |a − r| / max |r| that passes (finite, &gt; 0); float32 convolutions that agree differ by about 1e−6.</param>
    /// <exception cref="ArgumentNullException">A model or input is null.</exception>
    /// <exception cref="ArgumentException">The input is not float32.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The repeats are under 1, or the tolerance is not finite and &gt; 0.</exception>
    /// <exception cref="PlatformNotSupportedException">As <see cref="enabled"/>.</exception>
    public static MkldnnCheck check<TResult>(nn.Module<Tensor, TResult> model, Tensor input, bool backward = true, int repeats = 2, double tolerance = 1e-4)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(input);
        if (input.dtype != ScalarType.Float32) throw new ArgumentException($"{nameof(MkldnnBackend)}.{nameof(check)}: {nameof(input)} must be float32 (oneDNN's float32 convolutions are what is checked); got {input.dtype}.", nameof(input));
        if (repeats < 1) throw new ArgumentOutOfRangeException(nameof(repeats), repeats, $"{nameof(MkldnnBackend)}.{nameof(check)}: {nameof(repeats)} must be 1 or more; got {repeats}.");
        if (!double.IsFinite(tolerance) || tolerance <= 0) throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, $"{nameof(MkldnnBackend)}.{nameof(check)}: {nameof(tolerance)} must be finite and > 0; got {tolerance}.");
        using var restore = flags(enabled);
        return MkldnnCheck.Run(model, input, backward, repeats, tolerance);
    }

    /// <summary>The instruction sets <see cref="set_max_cpu_isa"/> accepts: oneDNN's names for <c>ONEDNN_MAX_CPU_ISA</c>.</summary>
    public static IReadOnlyList<string> cpu_isas { get; } = new[]
    {
        "DEFAULT", "SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2", "AVX512_CORE", "AVX512_CORE_VNNI", "AVX512_CORE_BF16",
        "AVX10_1_512", "AVX512_CORE_FP16", "AVX10_1_512_AMX", "AVX512_CORE_AMX", "AVX10_1_512_AMX_FP16", "AVX512_CORE_AMX_FP16",
        "AVX10_2_512", "AVX10_2_512_AMX_2",
    };

    /// <summary>
    /// Limits the instruction set of oneDNN's kernels to <paramref name="isa"/> (for example "AVX2"), by setting the
    /// process's <c>ONEDNN_MAX_CPU_ISA</c> as the shell would. oneDNN reads it once, when it first runs a kernel: call
    /// this before any convolution runs in the process, or it has no effect (<see cref="check"/> then tells which kernels
    /// are in use by their results). "DEFAULT" lifts the limit.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="isa"/> is not one of <see cref="cpu_isas"/>.</exception>
    /// <exception cref="PlatformNotSupportedException">The C library's <c>setenv</c> cannot be found (Windows).</exception>
    public static void set_max_cpu_isa(string isa)
    {
        ArgumentNullException.ThrowIfNull(isa);
        if (!cpu_isas.Contains(isa)) throw new ArgumentException($"{nameof(MkldnnBackend)}.{nameof(set_max_cpu_isa)}: {nameof(isa)} must be one of {string.Join(", ", cpu_isas)}; got \"{isa}\".", nameof(isa));
        if (!NativeEnvironment.set(MaxCpuIsaVariable, isa, overwrite: true, $"{nameof(MkldnnBackend)}.{nameof(set_max_cpu_isa)}"))
        {
            throw new InvalidOperationException($"{nameof(MkldnnBackend)}.{nameof(set_max_cpu_isa)}: setenv failed.");
        }
    }

    /// <summary>The environment variable oneDNN reads its instruction-set limit from.</summary>
    public const string MaxCpuIsaVariable = "ONEDNN_MAX_CPU_ISA";

    private sealed class Scope(bool before) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            enabled = before;
        }
    }

    private static T Call<T>(Func<T> f)
    {
        // libtorch is loaded by TorchSharp's first use; this makes sure it has been.
        InitializeDeviceType(TorchSharp.DeviceType.CPU);
        try
        {
            return f();
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            throw new PlatformNotSupportedException($"{nameof(MkldnnBackend)}.{nameof(enabled)}: this libtorch build does not export at::Context::setUserEnabledMkldnn under its Itanium C++ name ({e.Message}).", e);
        }
    }

    [DllImport(Library, EntryPoint = "_ZN2at13globalContextEv")]
    private static extern IntPtr GlobalContext();

    [DllImport(Library, EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
    private static extern void SetUserEnabledMkldnn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [DllImport(Library, EntryPoint = "_ZNK2at7Context17userEnabledMkldnnEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    private static extern bool UserEnabledMkldnn(IntPtr context);
}
