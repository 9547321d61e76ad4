using System.Collections.Generic;
using SoftRound.Tf.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Internals;

/// <summary>
/// The autograd function for an <see cref="IElementwiseFormula"/>, and the driver every such op goes through.
/// </summary>
/// <remarks>
/// Called as <c>apply(x, a)</c> with a tensor a, or <c>apply(x, number)</c> for the fused kernel with a steepness given
/// as a number. Saves x (and a); the backward pass multiplies the incoming gradient by the formula's partials and sums
/// a's share over the dimensions that broadcasting expanded. An undefined incoming gradient gives undefined gradients
/// (see <see cref="UndefinedGradients"/>).
/// </remarks>
internal sealed class ElementwiseFunction<TFormula> : autograd.SingleTensorFunction<ElementwiseFunction<TFormula>>
    where TFormula : IElementwiseFormula
{
    private const string NeedsX = "needs_x", NeedsA = "needs_a", Number = "number";

    /// <inheritdoc />
    public override string Name => TFormula.Name;

    /// <summary>
    /// y = f(x, a) for validated arguments: computed in float32 for float16/bfloat16 x (a is cast to that dtype and
    /// moved to x's device), returned in x's dtype, with an autograd node only when grad mode is on and x or a
    /// requires a gradient.
    /// </summary>
    public static Tensor Run(Tensor x, Tensor a) =>
        ComputeDtype.Run(x, a, (xc, ac) =>
        {
            if (UsesKernel(xc, ac!)) xc = xc.contiguous();
            return ComputeDtype.NeedsGraph(xc, ac) ? apply(xc, ac!) : Value(xc, ac!);
        });

    /// <summary>
    /// y = f(x, a) for a steepness given as a number. Where the fused kernel serves x, the number goes to it directly
    /// (rounded to float for float32 x, as a float32 tensor would be), which saves the small-tensor overhead of a 0-dim
    /// tensor; otherwise it becomes a 0-dim tensor of x's compute dtype.
    /// </summary>
    public static Tensor Run(Tensor x, double a)
    {
        if (!KernelLoop.Supports(x))
        {
            using Tensor steepness = tensor(a, OpGuard.ComputeType(x.dtype), x.device);
            return Run(x, steepness);
        }
        double number = x.dtype == ScalarType.Float32 ? (float)a : a;
        if (!ComputeDtype.NeedsGraph(x)) return TFormula.KernelValue(x, number);
        if (x.is_contiguous()) return apply(x, number);
        using Tensor contiguous = x.contiguous();
        return apply(contiguous, number);
    }

    /// <inheritdoc />
    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var x = (Tensor)vars[0];
        ctx.set_materialize_grads(false);
        if (vars[1] is double number)
        {
            ctx.save_for_backward(new List<Tensor> { x });
            ctx.save_data(Number, number);
            return TFormula.KernelValue(x, number);
        }
        var a = (Tensor)vars[1];
        ctx.save_for_backward(new List<Tensor> { x, a });
        ctx.save_data(NeedsX, x.requires_grad);
        ctx.save_data(NeedsA, a.requires_grad);
        return Value(x, a);
    }

    /// <inheritdoc />
    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        if (grad_output.IsInvalid) return UndefinedGradients.For(2);
        using var scope = NewDisposeScope();
        List<Tensor> saved = ctx.get_saved_variables();
        if (ctx.get_data(Number) is double number)
        {
            Tensor gradient = is_grad_enabled()
                ? grad_output * TFormula.Partials(saved[0], tensor(number, saved[0].dtype, saved[0].device), true, false).dx!
                : TFormula.KernelGradient(saved[0], number, grad_output);
            return new List<Tensor> { gradient.MoveToOuterDisposeScope(), null! };
        }
        Tensor x = saved[0], a = saved[1];
        bool needX = (bool)ctx.get_data(NeedsX), needA = (bool)ctx.get_data(NeedsA);
        if (needX && !needA && !is_grad_enabled() && UsesKernel(x, a))
        {
            return new List<Tensor> { TFormula.KernelGradient(x, Scalars.First(a), grad_output).MoveToOuterDisposeScope(), null! };
        }
        (Tensor? px, Tensor? pa) = TFormula.Partials(x, a, needX, needA);
        Tensor? dx = px is null ? null : (grad_output * px).MoveToOuterDisposeScope();
        Tensor? da = pa is null ? null : Broadcast.SumToShape(grad_output * pa, a.shape).MoveToOuterDisposeScope();
        return new List<Tensor> { dx!, da! };
    }

    /// <summary>
    /// Whether the fused kernel serves x and a: x on the CPU in float32 or float64 and a single steepness value. The
    /// backward pass also needs no gradient for a and no graph of its own (<c>create_graph</c>); otherwise it takes
    /// the composite path.
    /// </summary>
    private static bool UsesKernel(Tensor x, Tensor a) => a.numel() == 1 && KernelLoop.Supports(x);

    private static Tensor Value(Tensor x, Tensor a) => UsesKernel(x, a) ? TFormula.KernelValue(x, Scalars.First(a)) : TFormula.Value(x, a);
}
