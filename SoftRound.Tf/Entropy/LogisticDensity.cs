using System;
using static TorchSharp.torch;
using static SoftRound.Tf.Internals.KeptScalars;

namespace SoftRound.Tf.Entropy;

/// <summary>
/// The logistic density with location μ and scale s: F(x) = σ(z), log F(x) = log σ(z), F⁻¹(p) = μ + s·(log p − log1p(−p)),
/// log f(x) = log σ(z) + log σ(−z) − log s, z = (x − μ)/s (tfp's <c>Logistic</c>; tfc's <c>NoisyLogistic</c> is
/// <c>new UniformNoiseAdapter(new LogisticDensity(μ, s))</c>).
/// </summary>
public sealed class LogisticDensity : LocationScaleDensity
{
    /// <inheritdoc cref="LocationScaleDensity(Tensor, Tensor)"/>
    public LogisticDensity(Tensor loc, Tensor scale) : base(loc, scale) { }

    private protected override Tensor StandardCdf(Tensor z) => z.sigmoid();

    private protected override Tensor StandardLogCdf(Tensor z) => nn.functional.logsigmoid(z);

    private protected override Tensor StandardQuantile(Tensor p) => p.log() - p.neg().log1p();

    private protected override Tensor StandardLogPdf(Tensor z) => nn.functional.logsigmoid(z).add(nn.functional.logsigmoid(z.neg()), One);
}
