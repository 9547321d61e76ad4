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

    /// <summary>
    /// Integer arithmetic carried out by float32 operators: the codes as integer-valued floats centred on their zero
    /// point (c = q − Z), the int8 weights stored as int8 and cast to float32 when the model loads, Conv and Gemm
    /// accumulating Σ c·q_w + q_b, requantization as Clip(Round(acc·M), qmin − Z, qmax − Z) with M = s_x·s_w/s_next in
    /// float32, ReLU and max pooling on the codes. The sums are exact while every partial sum stays below 2^24 (the
    /// export checks it per layer, the last excepted, whose output is float anyway): for runtimes or execution providers
    /// without int8 kernels. On the QAT example's CNN ONNX Runtime runs it 1.5× slower than <see cref="Qdq"/> (README).
    /// </summary>
    IntegerInFloat,
}
