using System;
using Microsoft.ML.OnnxRuntime;

namespace QuantizationAwareTraining;

/// <summary>An exported model in ONNX Runtime, as any .NET app would run it: float32 images in, the class scores out.</summary>
public sealed class OnnxClassifier : IDisposable
{
    private readonly InferenceSession session;

    /// <summary>A session of the ONNX model <paramref name="model"/> (its bytes) on <paramref name="threads"/> threads.</summary>
    public OnnxClassifier(byte[] model, int threads)
    {
        using var options = new SessionOptions { IntraOpNumThreads = threads };
        session = new InferenceSession(model, options);
    }

    /// <summary>The predicted class of each of the <paramref name="count"/> 28×28 images in <paramref name="pixels"/> (N·784 values in [0, 1]).</summary>
    public long[] Predict(float[] pixels, int count)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(pixels, new long[] { count, 1, 28, 28 });
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, new[] { "input" }, new[] { input }, new[] { "output" });
        ReadOnlySpan<float> scores = outputs[0].GetTensorDataAsSpan<float>();
        int classes = scores.Length / count;
        var predicted = new long[count];
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<float> row = scores.Slice(i * classes, classes);
            int best = 0;
            for (int c = 1; c < classes; c++) if (row[c] > row[best]) best = c;
            predicted[i] = best;
        }
        return predicted;
    }

    /// <inheritdoc />
    public void Dispose() => session.Dispose();
}
