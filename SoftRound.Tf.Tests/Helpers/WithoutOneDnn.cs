using System;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Performance;

namespace SoftRound.Tf.Tests.Helpers;

/// <summary>
/// Test classes whose tests run with oneDNN off (<see cref="MkldnnBackend"/>): the models' tests compare values with
/// references and decode what they encoded, and oneDNN's convolutions give NaN gradients on small 3×3 convolutions and,
/// with its AVX2 kernels, wrong values where a channel count is not a multiple of 8, as the small test models' are (the
/// QAT tests' CNN, 1 → 6 → 8 channels, ended 4 of 400 five-step trainings with a NaN scale on 2 threads, none of 800
/// with oneDNN off).
/// </summary>
public abstract class WithoutOneDnn
{
    private IDisposable? _oneDnn;

    [TestInitialize]
    public void TurnOneDnnOff() => _oneDnn = MkldnnBackend.flags(enabled: false);

    [TestCleanup]
    public void RestoreOneDnn() => _oneDnn?.Dispose();
}
