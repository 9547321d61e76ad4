using System.Collections.Generic;
using SoftRound.Tf.Kernels;
using TorchSharp;
using static TorchSharp.torch;
using static SoftRound.Tf.Internals.KeptScalars;

namespace SoftRound.Tf.Internals;

/// <summary>
/// docs/MATH.md §4, straight-through rounding: y = round(x − o) + o (half to even), or round(x) without an offset;
/// dy/dx = 1 (the incoming gradient passes to x unchanged) and dy/do = 0 (a zero gradient of the offset's shape when
/// the offset requires one), whichever of the two requires a gradient. Called as <c>apply(x, offset or null)</c>.
/// </summary>
internal sealed class RoundStFunction : autograd.SingleTensorFunction<RoundStFunction>
{
    private const string OffsetShape = "offset_shape";

    /// <inheritdoc />
    public override string Name => "RoundSt";

    /// <summary>
    /// y = round(x − o) + o, or round(x) when <paramref name="offset"/> is null: by the fused kernel for CPU
    /// float32/float64 x and at most one offset value, by composite torch ops otherwise.
    /// </summary>
    public static Tensor Value(Tensor x, Tensor? offset)
    {
        if (KernelLoop.Supports(x) && (offset is null || offset.numel() == 1))
        {
            return KernelLoop.Forward(new RoundStKernel(offset is null ? null : Scalars.First(offset)), x);
        }
        if (offset is null) return x.round();
        using Tensor shifted = x - offset;
        using Tensor rounded = shifted.round();
        return rounded.add(offset, One);
    }

    /// <inheritdoc />
    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        ctx.set_materialize_grads(false);
        var offset = vars[1] as Tensor;
        ctx.save_data(OffsetShape, offset is { requires_grad: true } ? offset.shape : false);
        return Value((Tensor)vars[0], offset);
    }

    /// <inheritdoc />
    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        if (grad_output.IsInvalid) return UndefinedGradients.For(2);
        Tensor? offsetGradient = ctx.get_data(OffsetShape) is long[] shape ? zeros(shape, grad_output.dtype, grad_output.device) : null;
        return new() { grad_output.alias(), offsetGradient! };
    }

}
