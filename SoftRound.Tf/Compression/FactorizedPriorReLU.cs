using SoftRound.Tf.Entropy;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Compression;

/// <summary>
/// <see cref="FactorizedPrior"/> with ReLU in place of GDN and IGDN (CompressAI's <c>FactorizedPriorReLU</c>,
/// <c>bmshj2018-factorized-relu</c>): g_a = four 5×5 stride-2 convolutions with ReLU between them, 3 → N → N → N → M,
/// and g_s its mirror with transposed convolutions. The keys are CompressAI's (<c>g_a.0.weight</c>, <c>g_a.2.weight</c>, …).
/// </summary>
public sealed class FactorizedPriorReLU : FactorizedPrior
{
    /// <summary>Creates the model with N hidden and M latent channels and the bottleneck's training quantizer.</summary>
    /// <exception cref="System.ArgumentOutOfRangeException">N or M is below 1, or α is not finite and ≥ 0.</exception>
    public FactorizedPriorReLU(int N, int M, QuantizationMode mode = QuantizationMode.UniformNoise, double alpha = 5.0)
        : base(nameof(FactorizedPriorReLU), N, M, () => (
            nn.Sequential(conv(3, N), nn.ReLU(), conv(N, N), nn.ReLU(), conv(N, N), nn.ReLU(), conv(N, M)),
            nn.Sequential(deconv(M, N), nn.ReLU(), deconv(N, N), nn.ReLU(), deconv(N, N), nn.ReLU(), deconv(N, 3))), mode, alpha)
    {
    }
}
