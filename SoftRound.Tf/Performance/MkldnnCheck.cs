using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SoftRound.Tf.Performance;

/// <summary>
/// Whether oneDNN computes a model's convolutions right on this machine (<see cref="MkldnnBackend.check"/>): every
/// convolution layer of the model (<see cref="Convolution"/>: <c>Conv1d</c> to <c>Conv3d</c> and the transposed ones),
/// run on the input it receives in the model's forward pass with oneDNN on and with it off, compared output to output
/// and, when asked, input gradient to input gradient and weight gradient to weight gradient.
/// </summary>
/// <param name="layers">Every convolution layer, in the order the forward pass reached it.</param>
/// <param name="tolerance">The largest relative error that passes.</param>
public sealed record MkldnnCheck(IReadOnlyList<MkldnnCheck.Layer> layers, double tolerance)
{
    /// <summary>
    /// One convolution layer's worst relative errors over the repeats: max |a − r| / max |r| between oneDNN's result
    /// a and libtorch's own kernels' r (∞ where a has a NaN or an infinity r does not have; NaN where not checked).
    /// </summary>
    /// <param name="name">The layer's name in the model (<c>named_modules</c>).</param>
    /// <param name="kind">The module's type name (<c>Conv2d</c>, <c>ConvTranspose2d</c>, …).</param>
    /// <param name="input_shape">The shape of the input it received.</param>
    /// <param name="output_error">The output's relative error.</param>
    /// <param name="input_gradient_error">The input gradient's, for a random output gradient (NaN unless checked).</param>
    /// <param name="weight_gradient_error">The weight gradient's (NaN unless checked, or when the weight is frozen).</param>
    public sealed record Layer(string name, string kind, long[] input_shape, double output_error, double input_gradient_error, double weight_gradient_error)
    {
        /// <summary>The largest of the errors checked.</summary>
        public double worst => new[] { output_error, input_gradient_error, weight_gradient_error }.Where(e => !double.IsNaN(e)).DefaultIfEmpty(0).Max();

        /// <summary>One line: name, kind, input shape and the errors.</summary>
        public override string ToString() => FormattableString.Invariant(
            $"{name} ({kind}, input {string.Join('×', input_shape)}): output {output_error:g3}, input gradient {input_gradient_error:g3}, weight gradient {weight_gradient_error:g3}");
    }

    /// <summary>Whether every layer is within the tolerance (true for a model without convolutions).</summary>
    public bool passed => layers.All(l => l.worst <= tolerance);

    /// <summary>The layers beyond the tolerance.</summary>
    public IEnumerable<Layer> failures => layers.Where(l => l.worst > tolerance);

    /// <summary>"passed" with the layer count, or the failing layers, one a line.</summary>
    public override string ToString() => passed
        ? FormattableString.Invariant($"oneDNN's convolutions passed: {layers.Count} layers within {tolerance:g3}")
        : FormattableString.Invariant($"oneDNN's convolutions failed in {failures.Count()} of {layers.Count} layers (tolerance {tolerance:g3}):{Environment.NewLine}  ") +
          string.Join(Environment.NewLine + "  ", failures);

    /// <summary>The check behind <see cref="MkldnnBackend.check"/>; its arguments are checked there.</summary>
    internal static MkldnnCheck Run<TResult>(nn.Module<Tensor, TResult> model, Tensor input, bool backward, int repeats, double tolerance)
    {
        var inputs = new List<(string name, Convolution layer, Tensor input)>();
        var hooks = new List<Action>();
        // Each module's own mode, parents before children, so that restoring it in order undoes train()'s recursion.
        var modes = model.modules().Prepend(model).Select(m => (module: m, training: m.training)).ToArray();
        try
        {
            using var scope = NewDisposeScope();
            // named_modules leaves the model itself out: a model that is one convolution is checked as "".
            foreach ((string name, nn.Module module) in model.named_modules().Prepend(("", model)))
            {
                if (module is not Convolution convolution) continue;
                var hook = convolution.register_forward_hook((m, x, y) =>
                {
                    inputs.Add((name, convolution, x.detach().clone().DetachFromDisposeScope()));
                    return y;
                });
                hooks.Add(hook.remove);
            }
            // The inputs the layers see, computed by libtorch's own kernels; eval mode so that no running statistic moves.
            model.eval();
            using (MkldnnBackend.flags(enabled: false))
            using (no_grad())
            {
                model.call(input);
            }
        }
        finally
        {
            foreach (Action remove in hooks) remove();
            foreach ((nn.Module module, bool training) in modes) module.train(training);
        }
        try
        {
            return new MkldnnCheck(inputs.Select(i => Compare(i.name, i.layer, i.input, backward, repeats)).ToArray(), tolerance);
        }
        finally
        {
            foreach (var i in inputs) i.input.Dispose();
        }
    }

    private static Layer Compare(string name, Convolution layer, Tensor input, bool backward, int repeats)
    {
        double output = 0, inputGradient = backward ? 0 : double.NaN, weightGradient = backward && layer.weight!.requires_grad ? 0 : double.NaN;
        for (int r = 0; r < repeats; r++)
        {
            using var scope = NewDisposeScope();
            Tensor? gradient = null;
            (Tensor y, Tensor? dx, Tensor? dw) Pass(bool oneDnn)
            {
                using var flags = MkldnnBackend.flags(enabled: oneDnn);
                Tensor x = input.detach().requires_grad_(backward);
                Tensor y = layer.call(x);
                if (!backward) return (y, null, null);
                gradient ??= randn_like(y);
                Tensor[] wrt = double.IsNaN(weightGradient) ? new[] { x } : new[] { x, (Tensor)layer.weight! };
                var grads = autograd.grad(new[] { y }, wrt, new[] { gradient });
                return (y.detach(), grads[0], grads.Count > 1 ? grads[1] : null);
            }
            (Tensor y1, Tensor? dx1, Tensor? dw1) = Pass(oneDnn: true);
            (Tensor y0, Tensor? dx0, Tensor? dw0) = Pass(oneDnn: false);
            output = Math.Max(output, RelativeError(y1, y0));
            if (dx1 is not null) inputGradient = Math.Max(inputGradient, RelativeError(dx1, dx0!));
            if (dw1 is not null) weightGradient = Math.Max(weightGradient, RelativeError(dw1, dw0!));
        }
        return new Layer(name, layer.GetType().Name, input.shape, output, inputGradient, weightGradient);
    }

    /// <summary>max |a − r| / max |r| in float64; ∞ where a is not finite and r is.</summary>
    private static double RelativeError(Tensor a, Tensor r)
    {
        using var scope = NewDisposeScope();
        Tensor a64 = a.detach().to(float64), r64 = r.detach().to(float64);
        if (!(a64.isfinite() | ~r64.isfinite()).all().item<bool>()) return double.PositiveInfinity;
        double scale = r64.abs().max().item<double>();
        double difference = (a64 - r64).nan_to_num(0).abs().max().item<double>();
        return scale > 0 ? difference / scale : difference;
    }
}
