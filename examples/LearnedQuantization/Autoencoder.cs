using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LearnedQuantization;

/// <summary>16 → 64 → 4 latents → 64 → 16, with the latents quantized between encoder and decoder.</summary>
public sealed class Autoencoder : nn.Module<Tensor, Tensor>
{
    private readonly Sequential encoder, decoder;
    // Kept for the module's life: TorchSharp's x * 0.5 passes a temporary Scalar a collection can free mid-call.
    private readonly Scalar scale;

    /// <summary>Creates the network; <paramref name="latentScale"/> spreads the latents over several integers.</summary>
    public Autoencoder(double latentScale) : base(nameof(Autoencoder))
    {
        encoder = nn.Sequential(nn.Linear(16, 64), nn.Tanh(), nn.Linear(64, 4));
        decoder = nn.Sequential(nn.Linear(4, 64), nn.Tanh(), nn.Linear(64, 16));
        LatentScale = latentScale;
        scale = latentScale.ToScalar();
        RegisterComponents();
    }

    /// <summary>The factor the encoder's output is multiplied by before quantization.</summary>
    public double LatentScale { get; }

    /// <summary>The latent code, before quantization.</summary>
    public Tensor Encode(Tensor x) => encoder.call(x).mul(scale);

    /// <summary>The reconstruction from a (quantized) code.</summary>
    public Tensor Decode(Tensor code) => decoder.call(code.div(scale));

    /// <summary>Reconstruction without quantization (not used in training).</summary>
    public override Tensor forward(Tensor x) => Decode(Encode(x));

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) scale.Dispose();
        base.Dispose(disposing);
    }
}
