using System;
using SoftRound.Tf.Internals;
using static TorchSharp.torch;
using static SoftRound.Tf.Internals.KeptScalars;

namespace SoftRound.Tf;

public static partial class SoftRoundOps
{
    private const string PerturbAndApplyName = "SoftRoundOps.perturb_and_apply";

    /// <summary>
    /// The uniform-noise proxy of tensorflow_compression's <c>tfc.perturb_and_apply</c>: y = f(x + u), u ~ U(−½, ½).
    /// With <paramref name="expectedGrads"/>, x's gradient is grad·(f(x + ½) − f(x − ½)), the derivative of
    /// E_u[f(x + u)] (Agustsson &amp; Theis 2020, §4.2); otherwise it is the ordinary gradient of f at x + u.
    /// </summary>
    /// <remarks>
    /// f must be element-wise in x (its output may broadcast x to a larger shape; x's gradient is then summed back).
    /// x = ±∞ gets gradient 0. Tensors inside f (parameters, say) get their ordinary gradients either way. With expected gradients f is called
    /// three times (at x + u, x + ½ and x − ½; the last two without a graph). When u is not given it is drawn from
    /// torch's default generator, so <c>torch.manual_seed</c> makes it repeatable.
    /// </remarks>
    /// <param name="f">The function to apply, such as a soft round or a decoder non-linearity.</param>
    /// <param name="x">The input; float16, bfloat16, float32 or float64.</param>
    /// <param name="u">Optional noise, broadcastable to x; drawn from U(−½, ½) when null.</param>
    /// <param name="expectedGrads">Whether x gets the expected gradient (true) or the gradient at x + u (false).</param>
    /// <returns>f(x + u), in x's dtype (x + u and f run in float32 for float16 and bfloat16 x).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="f"/> or <paramref name="x"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="x"/> or <paramref name="u"/> is not a floating-point tensor, u does not broadcast to x, or x does not
    /// broadcast to f's output.
    /// </exception>
    public static Tensor perturb_and_apply(Func<Tensor, Tensor> f, Tensor x, Tensor? u = null, bool expectedGrads = true) =>
        PerturbAndApply(f, x, u, expectedGrads, keepInput: false).y;

    /// <summary>
    /// <see cref="perturb_and_apply(Func{Tensor, Tensor}, Tensor, Tensor?, bool)"/> that also gives the perturbed input,
    /// as <c>y, x_plus_u = tfc.perturb_and_apply(f, x, u=u)</c> does: y = f(x + u) and
    /// <paramref name="x_plus_u"/> = x + u, in x's dtype, with the ordinary gradient (1) to x.
    /// </summary>
    /// <remarks>
    /// tensorflow_compression also accepts a precomputed <c>x_plus_u</c> as input; here pass its noise as
    /// <paramref name="u"/> instead.
    /// </remarks>
    /// <param name="f">The function to apply, element-wise in x.</param>
    /// <param name="x">The input; float16, bfloat16, float32 or float64.</param>
    /// <param name="x_plus_u">Receives x + u, the point at which f was evaluated.</param>
    /// <param name="u">Optional noise, broadcastable to x; drawn from U(−½, ½) when null.</param>
    /// <param name="expectedGrads">Whether x gets the expected gradient through y (true) or the gradient at x + u (false).</param>
    /// <returns>f(x + u), in x's dtype.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="f"/> or <paramref name="x"/> is null.</exception>
    /// <exception cref="ArgumentException">As <see cref="perturb_and_apply(Func{Tensor, Tensor}, Tensor, Tensor?, bool)"/>.</exception>
    public static Tensor perturb_and_apply(Func<Tensor, Tensor> f, Tensor x, out Tensor x_plus_u, Tensor? u = null, bool expectedGrads = true)
    {
        (Tensor y, Tensor? perturbed) = PerturbAndApply(f, x, u, expectedGrads, keepInput: true);
        x_plus_u = perturbed!;
        return y;
    }

    private static (Tensor y, Tensor? xPlusU) PerturbAndApply(Func<Tensor, Tensor> f, Tensor x, Tensor? u, bool expectedGrads, bool keepInput)
    {
        ArgumentNullException.ThrowIfNull(f);
        OpGuard.FloatingPoint(PerturbAndApplyName, nameof(x), x);
        if (u is not null)
        {
            OpGuard.FloatingPoint(PerturbAndApplyName, nameof(u), u);
            OpGuard.BroadcastsTo(PerturbAndApplyName, nameof(u), u, x);
        }
        Tensor? xPlusU = null;
        Tensor y = ComputeDtype.Run(x, u, (xc, uc) =>
        {
            Tensor noise = uc ?? UniformNoise.Like(xc);
            if (keepInput) xPlusU = xc.add(noise, One).to(x.dtype).MoveToOuterDisposeScope();
            if (!expectedGrads || !ComputeDtype.NeedsGraph(xc)) return f(xc.add(noise, One));
            Tensor point = xc.detach();
            Tensor y = f(point.add(noise, One));
            OpGuard.BroadcastsTo(PerturbAndApplyName, nameof(x), xc, y, "f(x + u)");
            Tensor delta;
            using (no_grad())
            {
                // E_u[f(x + u)] is constant at x = ±∞, where f(x + ½) − f(x − ½) would be ∞ − ∞.
                delta = (f(point.add(S(0.5), One)) - f(point - S(0.5))).masked_fill(point.isinf(), S(0.0));
            }
            return ExpectedGradientFunction.apply(y, xc, delta);
        });
        return (y, xPlusU);
    }
}
