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
/// The reason to turn it off: oneDNN's float32 convolution backward can return NaN in the input's gradient when
/// libtorch runs on two or more threads, seen here with a 3×3 stride-1 convolution on small inputs (6 → 4 channels on
/// 4×4: 21 of 200 seeded backward passes in LibTorch 2.10 through TorchSharp, 59 of 300 in PyTorch 2.6 with oneDNN
/// 3.7.2; none with one thread, none with oneDNN off, none in float64; AMD EPYC with AVX-512, and still with oneDNN
/// limited to AVX2). The hyperprior models' 3×3 convolutions on their small latents hit it, so a training run can turn
/// NaN. libtorch's own convolution kernels take over when it is off, with correct gradients.
/// </para>
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
