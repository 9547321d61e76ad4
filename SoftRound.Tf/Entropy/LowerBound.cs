using System;
using System.Collections.Generic;
using SoftRound.Tf.Internals;
using TorchSharp;
using static TorchSharp.torch;
using static SoftRound.Tf.Internals.KeptScalars;

namespace SoftRound.Tf.Entropy;

/// <summary>
/// y = max(x, bound) with CompressAI's gradient rule: the incoming gradient g passes to x where x ≥ bound or g &lt; 0
/// (where a descent step, x − η·g, would raise x), and is 0 elsewhere; so a value held at the bound can still be
/// pushed up, which a plain clamp's zero gradient never allows (CompressAI's <c>LowerBound</c>, tfc's
/// <c>lower_bound</c>). Entropy models floor likelihoods with it at 1e−9 and scales at 0.11.
/// </summary>
public sealed class LowerBound : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the bound.</summary>
    /// <param name="bound">The bound; finite.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bound"/> is NaN or infinite.</exception>
    public LowerBound(double bound) : base(nameof(LowerBound))
    {
        Check(nameof(LowerBound), bound);
        this.bound = bound;
    }

    /// <summary>The bound.</summary>
    public double bound { get; }

    /// <summary>y = max(x, bound), with the gradient rule of the class.</summary>
    public override Tensor forward(Tensor x) => lower_bound(x, bound);

    /// <summary>y = max(x, bound), with the gradient rule of <see cref="LowerBound"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="x"/> is null or not floating point.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bound"/> is NaN or infinite.</exception>
    public static Tensor lower_bound(Tensor x, double bound)
    {
        const string Name = nameof(lower_bound);
        OpGuard.FloatingPoint(Name, nameof(x), x);
        Check(Name, bound);
        return LowerBoundFunction.apply(x, bound);
    }

    private static void Check(string member, double bound)
    {
        if (!double.IsFinite(bound)) throw new ArgumentOutOfRangeException(nameof(bound), bound, $"{member}: bound must be finite; got {bound}.");
    }

    private sealed class LowerBoundFunction : autograd.SingleTensorFunction<LowerBoundFunction>
    {
        public override string Name => nameof(LowerBound);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var x = (Tensor)vars[0];
            using Scalar b = ((double)vars[1]).ToScalar();
            ctx.save_for_backward(new() { x.ge(b) });
            return x.clamp_min(b);
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
        {
            if (grad_output.IsInvalid) return UndefinedGradients.For(2);
            using Tensor above = ctx.get_saved_variables()[0];
            using Tensor pass = above.logical_or(grad_output.lt(S(0)));
            return new() { grad_output * pass, null! };
        }
    }
}
