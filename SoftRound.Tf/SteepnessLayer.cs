using System;
using SoftRound.Tf.Internals;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf;

/// <summary>
/// The base of layers with a steepness (k or α): stores it as <c>log_&lt;name&gt;</c> in float64, a parameter when
/// trainable and a buffer otherwise, so it stays positive whatever an optimizer does and round-trips through
/// <c>state_dict</c>, save and load. A <see cref="SteepnessSchedule"/> sets it through <see cref="steepness"/>.
/// </summary>
public abstract class SteepnessLayer : nn.Module<Tensor, Tensor>
{
    private readonly string key;

    /// <summary>Registers the steepness as <c>log_</c><paramref name="steepnessName"/>.</summary>
    /// <param name="name">The layer's name, used in error messages.</param>
    /// <param name="steepnessName">The steepness's name: "k" or "alpha".</param>
    /// <param name="steepness">The initial steepness; finite and &gt; 0.</param>
    /// <param name="trainable">Whether the steepness is a learned parameter.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steepness"/> is NaN, infinite or ≤ 0.</exception>
    protected SteepnessLayer(string name, string steepnessName, double steepness, bool trainable) : base(name)
    {
        OpGuard.Steepness(name, steepnessName, steepness, allowZero: false);
        key = "log_" + steepnessName;
        Tensor initial = tensor(Math.Log(steepness), ScalarType.Float64);
        if (trainable) register_parameter(key, new Parameter(initial));
        else register_buffer(key, initial);
    }

    /// <summary>Whether the steepness is learned (a parameter rather than a buffer).</summary>
    public bool trainable => get_parameter(key) is not null;

    /// <summary>The steepness, exp(log_&lt;name&gt;); may differ from the value set in its last bit.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value set is NaN, infinite or ≤ 0; the steepness is then unchanged.</exception>
    public double steepness
    {
        get
        {
            using var scope = NewDisposeScope();
            return LogSteepness.detach().exp().to(ScalarType.Float64).item<double>();
        }
        set
        {
            OpGuard.Steepness(GetName(), key[4..], value, allowZero: false);
            using var noGrad = no_grad();
            LogSteepness.fill_(Math.Log(value));
        }
    }

    /// <summary>The steepness as a 0-dim tensor exp(log_&lt;name&gt;), through which a trainable steepness gets its gradient.</summary>
    protected Tensor SteepnessTensor() => LogSteepness.exp();

    private Tensor LogSteepness => (Tensor?)get_parameter(key) ?? get_buffer(key)!;
}
