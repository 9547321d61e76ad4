using System;
using System.Runtime.InteropServices;

namespace SoftRound.Tf.Internals;

/// <summary>
/// The process's C environment, where native libraries (libtorch, oneDNN) read their settings: <c>setenv</c>,
/// <c>getenv</c> and <c>unsetenv</c> of the C library the process runs on. .NET's <see cref="Environment"/> keeps its own
/// copy on Unix and does not write through to it.
/// </summary>
internal static unsafe class NativeEnvironment
{
    /// <summary>
    /// Sets <paramref name="name"/> = <paramref name="value"/>; with <paramref name="overwrite"/> false a value already
    /// there stays. Returns whether the C library accepted the call (<c>setenv</c> returned 0).
    /// </summary>
    /// <exception cref="PlatformNotSupportedException">The process's C library has no <c>setenv</c> (Windows); the message names <paramref name="member"/>.</exception>
    public static bool set(string name, string value, bool overwrite, string member)
    {
        var setenv = (delegate* unmanaged<IntPtr, IntPtr, int, int>)Export("setenv", member);
        IntPtr key = Marshal.StringToCoTaskMemUTF8(name), text = Marshal.StringToCoTaskMemUTF8(value);
        try
        {
            return setenv(key, text, overwrite ? 1 : 0) == 0;
        }
        finally
        {
            Marshal.FreeCoTaskMem(key);
            Marshal.FreeCoTaskMem(text);
        }
    }

    /// <summary>The value of <paramref name="name"/>, or null where it is not set.</summary>
    /// <exception cref="PlatformNotSupportedException">The process's C library has no <c>getenv</c> (Windows); the message names <paramref name="member"/>.</exception>
    public static string? get(string name, string member)
    {
        var getenv = (delegate* unmanaged<IntPtr, IntPtr>)Export("getenv", member);
        IntPtr key = Marshal.StringToCoTaskMemUTF8(name);
        try
        {
            return Marshal.PtrToStringUTF8(getenv(key));
        }
        finally
        {
            Marshal.FreeCoTaskMem(key);
        }
    }

    /// <summary>Removes <paramref name="name"/>; whether the C library accepted the call.</summary>
    /// <exception cref="PlatformNotSupportedException">The process's C library has no <c>unsetenv</c> (Windows); the message names <paramref name="member"/>.</exception>
    public static bool unset(string name, string member)
    {
        var unsetenv = (delegate* unmanaged<IntPtr, int>)Export("unsetenv", member);
        IntPtr key = Marshal.StringToCoTaskMemUTF8(name);
        try
        {
            return unsetenv(key) == 0;
        }
        finally
        {
            Marshal.FreeCoTaskMem(key);
        }
    }

    private static IntPtr Export(string function, string member) =>
        NativeLibrary.TryGetExport(NativeLibrary.GetMainProgramHandle(), function, out IntPtr address)
            ? address
            : throw new PlatformNotSupportedException($"{member}: the process's C library has no {function}.");
}
