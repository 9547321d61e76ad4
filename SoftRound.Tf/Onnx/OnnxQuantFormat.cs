namespace SoftRound.Tf.Onnx;

/// <summary>How <see cref="OnnxExport"/> writes a quantized layer (ONNX Runtime's two quantization formats).</summary>
public enum OnnxQuantFormat
{
    /// <summary>
    /// Quantize–dequantize: float Conv and Gemm between DequantizeLinear of their integer input, weights and int32 bias
    /// and QuantizeLinear of their output, which ONNX Runtime fuses into integer kernels (the format its own quantizer
    /// writes by default, and torch.ao's export).
    /// </summary>
    Qdq,

    /// <summary>
    /// Quantized operators: QLinearConv for every layer but the last (a linear layer as a 1×1 QLinearConv), which ONNX
    /// Runtime runs as written; the last, whose output is float, as in <see cref="Qdq"/>, and so is a layer whose input and
    /// output codes differ in type (int8 in, uint8 out), which QLinearConv cannot take.
    /// </summary>
    QOperator,
}
