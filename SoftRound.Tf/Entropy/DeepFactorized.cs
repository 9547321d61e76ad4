using System;
using System.Collections.Generic;
using System.Linq;
using SoftRound.Tf.Internals;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static SoftRound.Tf.Internals.KeptScalars;

namespace SoftRound.Tf.Entropy;

/// <summary>
/// The learned univariate density of Ballé et al. (2018), one per channel: F(x) = σ(l(x)), where l is a small
/// monotone network applied to the scalar x, layer k computing l ← softplus(H_k)·l + b_k and then
/// l ← l + tanh(a_k) ⊙ tanh(l) (all but the last layer). softplus keeps every matrix positive and |tanh(a_k)| &lt; 1
/// keeps each layer increasing, so F is a CDF. tensorflow_compression's <c>DeepFactorized</c>; CompressAI builds the
/// same network into its <c>EntropyBottleneck</c> (<c>_logits_cumulative</c>), with the same parameter names
/// (<c>matrices.k</c>, <c>biases.k</c>, <c>factors.k</c>) and initialisation.
/// </summary>
/// <remarks>
/// As a density (<see cref="IDensity"/>) it takes inputs whose last dimension is the channel (tfc's batch shape);
/// <see cref="logits_cumulative"/> takes CompressAI's layout (C, 1, M). Parameters are cast to the input's dtype.
/// </remarks>
public class DeepFactorized : nn.Module, IDensity
{
    private readonly ParameterList matrices = new();
    private readonly ParameterList biases = new();
    private readonly ParameterList factors = new();

    /// <summary>Creates the density with CompressAI's initialisation.</summary>
    /// <param name="channels">The number of channels C, ≥ 1.</param>
    /// <param name="filters">The hidden widths; default (3, 3, 3, 3); each ≥ 1.</param>
    /// <param name="initScale">The scale the initial density spans, finite and &gt; 0; default 10.</param>
    /// <param name="name">The module name.</param>
    /// <exception cref="ArgumentOutOfRangeException">A count or <paramref name="initScale"/> is out of range.</exception>
    public DeepFactorized(int channels, IReadOnlyList<int>? filters = null, double initScale = 10, string name = nameof(DeepFactorized))
        : base(name)
    {
        string member = name;
        if (channels < 1) throw new ArgumentOutOfRangeException(nameof(channels), channels, $"{member}: channels must be at least 1; got {channels}.");
        int[] widths = (filters ?? new[] { 3, 3, 3, 3 }).ToArray();
        for (int i = 0; i < widths.Length; i++)
        {
            if (widths[i] < 1) throw new ArgumentOutOfRangeException(nameof(filters), widths[i], $"{member}: filters[{i}] must be at least 1; got {widths[i]}.");
        }
        OpGuard.Steepness(member, nameof(initScale), initScale, allowZero: false);
        this.channels = channels;
        this.filters = widths;
        init_scale = initScale;
        int[] sizes = new[] { 1 }.Concat(widths).Append(1).ToArray();
        // Each layer scales by initScale^(1/layers), so the initial l(x) is about x·(1/initScale) plus the biases.
        double scale = Math.Pow(initScale, 1.0 / (widths.Length + 1));
        using (no_grad())
        {
            for (int k = 0; k <= widths.Length; k++)
            {
                using Scalar init = Math.Log(double.ExpM1(1 / scale / sizes[k + 1])).ToScalar();
                matrices.Add(new Parameter(full(new long[] { channels, sizes[k + 1], sizes[k] }, init)));
                biases.Add(new Parameter(empty(channels, sizes[k + 1], 1).uniform_(-0.5, 0.5)));
                if (k < widths.Length) factors.Add(new Parameter(zeros(channels, sizes[k + 1], 1)));
            }
        }
        RegisterComponents();
    }

    /// <summary>The number of channels C.</summary>
    public int channels { get; }

    /// <summary>The hidden widths.</summary>
    public IReadOnlyList<int> filters { get; }

    /// <summary>The initialisation scale.</summary>
    public double init_scale { get; }

    /// <summary>
    /// l(x) for x of shape (C, 1, M): channel c through its own network (CompressAI's <c>_logits_cumulative</c>).
    /// With <paramref name="stopGradient"/> the parameters are detached, so only x gets a gradient.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="x"/> is not floating point or not of shape (C, 1, M).</exception>
    public Tensor logits_cumulative(Tensor x, bool stopGradient = false)
    {
        CheckLayout(nameof(logits_cumulative), x);
        using var scope = NewDisposeScope();
        return Network(x, stopGradient, derivative: false).logits.MoveToOuterDisposeScope();
    }

    /// <summary>F(x) = σ(l(x)), x of shape (…, C).</summary>
    public Tensor cdf(Tensor x) => PerChannel(nameof(cdf), x, v => Network(v, false, false).logits.sigmoid());

    /// <summary>log F(x) = log σ(l(x)).</summary>
    public Tensor log_cdf(Tensor x) => PerChannel(nameof(log_cdf), x, v => nn.functional.logsigmoid(Network(v, false, false).logits));

    /// <summary>log S(x) = log σ(−l(x)).</summary>
    public Tensor log_survival(Tensor x) => PerChannel(nameof(log_survival), x, v => nn.functional.logsigmoid(Network(v, false, false).logits.neg()));

    /// <summary>
    /// log f(x) = log σ(l) + log σ(−l) + log l'(x), with l' carried through the layers exactly
    /// (l' ← softplus(H)·l', then l' ← l' ⊙ (1 + tanh(a) ⊙ (1 − tanh²(l)))).
    /// </summary>
    public Tensor log_prob(Tensor x) => PerChannel(nameof(log_prob), x, v =>
    {
        (Tensor l, Tensor? d) = Network(v, false, derivative: true);
        return nn.functional.logsigmoid(l).add(nn.functional.logsigmoid(l.neg()), One).add(d!.log(), One);
    });

    /// <summary>
    /// F⁻¹(p) per channel, p of shape (…, C) in (0, 1): the root of l(x) = log p − log1p(−p), bracketed by doubling
    /// and then bisected in float64 to the last bit. No gradient.
    /// </summary>
    public Tensor quantile(Tensor p)
    {
        OpGuard.FloatingPoint(Member(nameof(quantile)), nameof(p), p);
        CheckChannels(nameof(quantile), p);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor q = ToLayout(p.to(ScalarType.Float64));
        Tensor target = q.log() - q.neg().log1p();
        Tensor Logits(Tensor v) => Network(v, true, false).logits;
        using Scalar lowStart = (-init_scale).ToScalar(), highStart = init_scale.ToScalar();
        Tensor low = full_like(q, lowStart), high = full_like(q, highStart);
        for (int i = 0; i < 64; i++)
        {
            low = where(Logits(low).gt(target), low * S(2), low);
            high = where(Logits(high).lt(target), high * S(2), high);
        }
        for (int i = 0; i < 128; i++)
        {
            Tensor middle = low.add(high, One) * S(0.5);
            Tensor below = Logits(middle).lt(target);
            low = where(below, middle, low);
            high = where(below, high, middle);
        }
        Tensor root = where(target.isnan(), target, low.add(high, One) * S(0.5));
        return FromLayout(root, p.shape).to(p.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// P(x − ½ &lt; X ≤ x + ½) = σ(l(x + ½)) − σ(l(x − ½)), taken as σ(−l(x − ½)) − σ(−l(x + ½)) where the logits'
    /// sum is positive (CompressAI's sign trick, with a tie counted in the lower tail so the mass is never a spurious 0).
    /// </summary>
    public Tensor interval_mass(Tensor x) => PerChannel(nameof(interval_mass), x, v => Likelihood(v - S(0.5), v.add(S(0.5), One), false).mass);

    /// <summary>log of <see cref="interval_mass"/>: log σ(h) + log(1 − e^(log σ(l) − log σ(h))) in the same tail.</summary>
    public Tensor log_interval_mass(Tensor x) => PerChannel(nameof(log_interval_mass), x, v =>
    {
        (_, Tensor high, Tensor low) = Likelihood(v - S(0.5), v.add(S(0.5), One), false);
        return LogSpace.log_diff_exp(nn.functional.logsigmoid(high), nn.functional.logsigmoid(low));
    });

    /// <summary>
    /// For bounds of shape (C, 1, M): the mass F(b) − F(a) between <paramref name="lower"/> a and
    /// <paramref name="upper"/> b as σ(h) − σ(l), and the logits h ≥ l of the tail it is taken in, chosen by the sign
    /// of l(a) + l(b).
    /// </summary>
    internal (Tensor mass, Tensor high, Tensor low) Likelihood(Tensor lower, Tensor upper, bool stopGradient)
    {
        Tensor below = Network(lower, stopGradient, false).logits;
        Tensor above = Network(upper, stopGradient, false).logits;
        Tensor flip = below.add(above, One).gt(S(0));
        Tensor high = where(flip, below.neg(), above);
        Tensor low = where(flip, above.neg(), below);
        return (high.sigmoid() - low.sigmoid(), high, low);
    }

    /// <summary>The network on values of shape (C, 1, M), and its derivative when asked.</summary>
    internal (Tensor logits, Tensor? derivative) Network(Tensor x, bool stopGradient, bool derivative)
    {
        Tensor logits = x;
        Tensor? d = derivative ? ones_like(x) : null;
        for (int k = 0; k < matrices.Count; k++)
        {
            Tensor matrix = Softplus(Cast(matrices[k], x, stopGradient));
            logits = matmul(matrix, logits).add(Cast(biases[k], x, stopGradient), One);
            if (d is not null) d = matmul(matrix, d);
            if (k == factors.Count) break;
            Tensor factor = Cast(factors[k], x, stopGradient).tanh();
            Tensor tanh = logits.tanh();
            if (d is not null) d = d * (factor * S(1).Minus(tanh.pow(S(2L)))).add(S(1), One);
            logits = logits.add(factor * tanh, One);
        }
        return (logits, d);
    }

    /// <summary>
    /// y = log(1 + eˣ), or x above 20, as libtorch's softplus (β = 1, threshold 20) computes it, its gradient
    /// eˣ/(1 + eˣ) or 1; written out because TorchSharp's <c>softplus</c> passes β and the threshold as temporary Scalars.
    /// </summary>
    internal static Tensor Softplus(Tensor x) => where(x.gt(S(20)), x, x.clamp_max(S(20)).exp().log1p());

    /// <summary>Throws unless <paramref name="x"/> is floating point of shape (C, 1, M).</summary>
    internal void CheckLayout(string member, Tensor x)
    {
        OpGuard.FloatingPoint(Member(member), nameof(x), x);
        if (x.dim() != 3 || x.shape[0] != channels || x.shape[1] != 1)
        {
            throw new ArgumentException($"{Member(member)}: x has shape ({string.Join(", ", x.shape)}); expected ({channels}, 1, M).", nameof(x));
        }
    }

    private protected string Member(string member) => GetName() + "." + member;

    private static Tensor Cast(Tensor parameter, Tensor like, bool detach)
    {
        Tensor p = detach ? parameter.detach() : parameter;
        return p.to(like.dtype, like.device);
    }

    private Tensor PerChannel(string member, Tensor x, Func<Tensor, Tensor> f)
    {
        OpGuard.FloatingPoint(Member(member), nameof(x), x);
        CheckChannels(member, x);
        using var scope = NewDisposeScope();
        return FromLayout(f(ToLayout(x)), x.shape).MoveToOuterDisposeScope();
    }

    private void CheckChannels(string member, Tensor x)
    {
        if (x.dim() == 0 || x.shape[^1] != channels)
        {
            throw new ArgumentException($"{Member(member)}: x has shape ({string.Join(", ", x.shape)}); its last dimension must be the {channels} channels.", nameof(x));
        }
    }

    private Tensor ToLayout(Tensor x) => x.reshape(-1, channels).t().unsqueeze(1);

    private Tensor FromLayout(Tensor values, long[] shape) => values.squeeze(1).t().reshape(shape);
}
