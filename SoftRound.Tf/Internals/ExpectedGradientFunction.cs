using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Internals;

/// <summary>
/// Attaches an expected gradient to x: called as <c>apply(y, x, delta)</c>, it returns a copy of y; in the backward
/// pass y gets the incoming gradient and x gets grad·delta, summed to x's shape.
/// </summary>
/// <remarks>
/// With y = f(detach(x) + u) and delta = f(x + ½) − f(x − ½), x's gradient is the derivative of E_u[f(x + u)]
/// (Agustsson &amp; Theis 2020, §4.2, docs/MATH.md §4), while tensors inside f keep their ordinary gradients through y.
/// </remarks>
internal sealed class ExpectedGradientFunction : autograd.SingleTensorFunction<ExpectedGradientFunction>
{
    private const string XShape = "x_shape", XDtype = "x_dtype";

    /// <inheritdoc />
    public override string Name => "PerturbAndApplyExpectedGradient";

    /// <inheritdoc />
    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var y = (Tensor)vars[0];
        var x = (Tensor)vars[1];
        ctx.save_for_backward(new List<Tensor> { (Tensor)vars[2] });
        ctx.set_materialize_grads(false);
        ctx.save_data(XShape, x.shape);
        ctx.save_data(XDtype, x.dtype);
        return y.clone();
    }

    /// <inheritdoc />
    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        if (grad_output.IsInvalid) return UndefinedGradients.For(3);
        using var scope = NewDisposeScope();
        Tensor delta = ctx.get_saved_variables()[0];
        Tensor dx = Broadcast.SumToShape(grad_output * delta, (long[])ctx.get_data(XShape)).to((ScalarType)ctx.get_data(XDtype));
        return new List<Tensor> { grad_output.alias().MoveToOuterDisposeScope(), dx.MoveToOuterDisposeScope(), null! };
    }
}
