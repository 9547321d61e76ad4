using System;
using System.Runtime.InteropServices;
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
