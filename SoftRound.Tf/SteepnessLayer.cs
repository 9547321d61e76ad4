using System;
using SoftRound.Tf.Internals;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static SoftRound.Tf.Internals.KeptScalars;

namespace SoftRound.Tf;

/// <summary>
/// The base of layers with a steepness (k or α): stores it as <c>log_&lt;name&gt;</c> in float64, a parameter when
/// trainable and a buffer otherwise, so it stays positive whatever an optimizer does and round-trips through
/// <c>state_dict</c>, save and load. A <see cref="SteepnessSchedule"/> sets it through <see cref="steepness"/>.
/// </summary>
/// <remarks>
/// Like every floating-point parameter and buffer, <c>log_&lt;name&gt;</c> follows the module's <c>to(dtype)</c>,
/// <c>double()</c> and <c>half()</c>; in float16 the steepness keeps about three significant digits.
/// </remarks>
public abstract class SteepnessLayer : nn.Module<Tensor, Tensor>
{
    private readonly string key;
    private readonly bool allowZero;
    private double floor;

    /// <summary>Registers the steepness as <c>log_</c><paramref name="steepnessName"/>.</summary>
    /// <param name="name">The layer's name, used in error messages.</param>
    /// <param name="steepnessName">The steepness's name: "k" or "alpha".</param>
    /// <param name="steepness">The initial steepness; finite and &gt; 0 (≥ 0 when <paramref name="allowZero"/>).</param>
    /// <param name="trainable">Whether the steepness is a learned parameter.</param>
    /// <param name="allowZero">Whether a steepness of 0 is accepted (the soft-round family, where α = 0 is the identity).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steepness"/> is NaN, infinite, negative, or 0 where not allowed.</exception>
    protected SteepnessLayer(string name, string steepnessName, double steepness, bool trainable, bool allowZero = false) : base(name)
    {
        OpGuard.Steepness(name, steepnessName, steepness, allowZero);
        key = "log_" + steepnessName;
        this.allowZero = allowZero;
        Tensor initial = tensor(Math.Log(steepness), ScalarType.Float64);
        if (trainable) register_parameter(key, new Parameter(initial));
        else register_buffer(key, initial);
    }

    /// <summary>Whether the steepness is learned (a parameter rather than a buffer).</summary>
    public bool trainable => get_parameter(key) is not null;

    /// <summary>The steepness, exp(log_&lt;name&gt;); may differ from the value set in its last bit.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value set is NaN, infinite, negative or (where not allowed) 0; the steepness is then unchanged.</exception>
    public double steepness
    {
        get
        {
            using var scope = NewDisposeScope();
            return LogSteepness.detach().exp().to(ScalarType.Float64).item<double>();
        }
        set
        {
            OpGuard.Steepness(GetName(), key[4..], value, allowZero);
            using var noGrad = no_grad();
            using Scalar logValue = Math.Log(value).ToScalar();
            LogSteepness.fill_(logValue);
        }
    }

    /// <summary>
    /// The least steepness the layer applies: forward uses max(steepness, min_steepness), so a trainable steepness
    /// that an optimizer drives down stays at least this steep (its gradient is 0 while it is below). 0 (the default)
    /// sets no floor. Not saved in <c>state_dict</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value set is NaN, infinite or negative; the floor is then unchanged.</exception>
    public double min_steepness
    {
        get => floor;
        set
        {
            OpGuard.Steepness(GetName(), nameof(min_steepness), value, allowZero: true);
            floor = value;
        }
    }

    /// <summary>
    /// The steepness as a 0-dim tensor max(exp(log_&lt;name&gt;), <see cref="min_steepness"/>), through which a
    /// trainable steepness gets its gradient.
    /// </summary>
    protected Tensor SteepnessTensor()
    {
        Tensor value = LogSteepness.exp();
        if (floor == 0) return value;
        using Scalar kept = floor.ToScalar();
        using (value) return value.clamp_min(kept);
    }

    private Tensor LogSteepness => (Tensor?)get_parameter(key) ?? get_buffer(key)!;
}
