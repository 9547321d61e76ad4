using System;
using System.Linq;
using System.Security.Cryptography;
using TorchSharp;
using static TorchSharp.torch;

namespace ImageCodec;

/// <summary>What identifies a model's weights in a file.</summary>
public static class Weights
{
    /// <summary>The first 8 bytes of SHA-256 over every entry of the state dict (names in order, shapes, float32 values).</summary>
    public static byte[] Identifier(nn.Module model)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var noGrad = no_grad();
        foreach ((string name, Tensor value) in model.state_dict().OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => (e.Key, e.Value)))
        {
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(name));
            foreach (long d in value.shape) hash.AppendData(BitConverter.GetBytes(d));
            using Tensor values = value.detach().to(ScalarType.Float32).cpu().contiguous();
            // The tensor's own bytes, not a copy of them (the same bytes as its values in an array; none when empty).
            hash.AppendData(values.bytes);
        }
        return hash.GetHashAndReset()[..8];
    }
}
