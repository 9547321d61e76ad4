using System.Linq;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Helpers;

/// <summary>Runs an ONNX model's "input" → "output" in ONNX Runtime (CPU, its default optimisations).</summary>
internal static class OnnxRuntimeRun
{
    /// <summary>A session of <paramref name="model"/> on <paramref name="threads"/> intra-op threads.</summary>
    public static InferenceSession Session(byte[] model, int threads = 1)
    {
        using var options = new SessionOptions { IntraOpNumThreads = threads };
        return new InferenceSession(model, options);
    }

    /// <summary>The model's output for x (float32), as a float32 tensor.</summary>
    public static Tensor Run(InferenceSession session, Tensor x)
    {
        float[] data = x.to(ScalarType.Float32).contiguous().data<float>().ToArray();
        using var input = OrtValue.CreateTensorValueFromMemory(data, x.shape);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, new[] { "input" }, new[] { input }, new[] { "output" });
        OrtValue y = outputs[0];
        long[] shape = y.GetTensorTypeAndShape().Shape;
        return tensor(y.GetTensorDataAsSpan<float>().ToArray(), shape);
    }

    /// <summary><see cref="Run(InferenceSession, Tensor)"/> in a session of its own.</summary>
    public static Tensor Run(byte[] model, Tensor x)
    {
        using InferenceSession session = Session(model);
        return Run(session, x);
    }
}
