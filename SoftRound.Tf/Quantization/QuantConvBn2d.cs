using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static SoftRound.Tf.Internals.KeptScalars;

namespace SoftRound.Tf.Quantization;

/// <summary>
/// A convolution with its batch norm folded in, for quantization-aware training (torch.ao's
/// <c>torch.ao.nn.intrinsic.qat.ConvBn2d</c>): the weights quantized are W_f = W·γ/√(σ²_run + ε), the ones integer
/// inference uses, while in training the batch norm still normalises with the batch's statistics and updates its running
/// ones, until <see cref="freeze_bn_stats"/>.
/// </summary>
/// <remarks>
/// <para>Training, statistics not frozen: with f = γ/√(σ²_run + ε) per channel,
/// y = BN_batch(conv(fq_x(x), fq_w(W·f))/f + b) (torch.ao's scheme: the running statistics fix the weights' scale, so the
/// quantization grid does not jump with every batch, and BN's batch statistics still normalise).</para>
/// <para>Eval, or statistics frozen: y = conv(fq_x(x), fq_w(W_f)) + b_q with W_f = W·f and b_f = β + (b − μ_run)·f
/// on the accumulator's grid (see <see cref="QuantWeightLayer"/>): the layer integer inference runs
/// (<see cref="QuantizedGraph.capture"/> folds it so). torch.ao applies the running statistics after the convolution
/// there instead and keeps b_f in float; the two agree up to that rounding of b_f.</para>
/// </remarks>
public sealed class QuantConvBn2d : QuantConv2d
{
    private QuantConvBn2d(Conv2d conv, BatchNorm2d bn, QuantSpec? weightSpec, QuantSpec? inputSpec, RoundingGradient rounding, double? steepness,
        bool learnScales, QuantObserver? weightObserver, QuantObserver? inputObserver)
        : base(conv, weightSpec, inputSpec, rounding, steepness, learnScales, weightObserver, inputObserver, owns: false, name: nameof(QuantConvBn2d))
    {
        // TorchSharp's BatchNorm2d.forward counts batches with a temporary Scalar (SRTF001); this layer never calls it
        // (BatchNorm below) and keeps the module for its state and torch.ao's shape.
#pragma warning disable SRTF001
        this.bn = nn.BatchNorm2d(bn.num_features, bn.eps, bn.momentum ?? 0.1, affine: true, track_running_stats: true, device: bn.weight!.device, dtype: bn.weight.dtype);
#pragma warning restore SRTF001
        this.bn.momentum = bn.momentum;
        using (no_grad())
        {
            this.bn.weight!.copy_(bn.weight!);
            this.bn.bias!.copy_(bn.bias!);
            this.bn.running_mean!.copy_(bn.running_mean!);
            this.bn.running_var!.copy_(bn.running_var!);
            this.bn.num_batches_tracked!.copy_(bn.num_batches_tracked!);
        }
        register_module(nameof(this.bn), this.bn);
        this.bn.train(conv.training);
        train(conv.training);
    }

    /// <summary>
    /// A folded copy of <paramref name="conv"/> followed by <paramref name="bn"/> (weights, bias, γ, β and running
    /// statistics copied; the originals are left as they are). The arguments after them are <see cref="QuantConv2d"/>'s.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="conv"/> or <paramref name="bn"/> is null.</exception>
    /// <exception cref="ArgumentException">The convolution pads other than with explicit zeros; the batch norm has another number of channels, no affine γ and β, or no running statistics.</exception>
    public static QuantConvBn2d from_conv_bn(Conv2d conv, BatchNorm2d bn, QuantSpec? weightSpec = null, QuantSpec? inputSpec = null,
        RoundingGradient rounding = RoundingGradient.StraightThrough, double? steepness = null,
        bool learnScales = true, QuantObserver? weightObserver = null, QuantObserver? inputObserver = null)
    {
        ArgumentNullException.ThrowIfNull(conv, nameof(conv));
        ArgumentNullException.ThrowIfNull(bn, nameof(bn));
        CheckFoldable(nameof(QuantConvBn2d) + "." + nameof(from_conv_bn), conv, bn);
        return new QuantConvBn2d(conv, bn, weightSpec, inputSpec, rounding, steepness, learnScales, weightObserver, inputObserver);
    }

    /// <summary>Throws unless <paramref name="bn"/> can fold into <paramref name="conv"/>: as many channels, affine, with running statistics.</summary>
    internal static void CheckFoldable(string op, Conv2d conv, BatchNorm2d bn)
    {
        if (bn.num_features != conv.out_channels || !bn.affine || !bn.track_running_stats)
        {
            throw new ArgumentException($"{op}: a batch norm folds into a convolution when it has the convolution's {conv.out_channels} channels, γ and β, and running statistics; got {bn.num_features} channels, affine {bn.affine}, running statistics {bn.track_running_stats}.", nameof(bn));
        }
    }

    /// <summary>The batch norm (γ, β and running statistics), as torch.ao's <c>ConvBn2d.bn</c>.</summary>
    public BatchNorm2d bn { get; }

    /// <summary>Whether training uses the running statistics (folded, as eval) instead of the batch's.</summary>
    public bool bn_frozen { get; private set; }

    /// <summary>From now on, training uses the running statistics and leaves them as they are (torch.ao's <c>freeze_bn_stats</c>).</summary>
    public void freeze_bn_stats() => bn_frozen = true;

    /// <summary>Training normalises with the batch's statistics again and updates the running ones (torch.ao's <c>update_bn_stats</c>).</summary>
    public void update_bn_stats() => bn_frozen = false;

    /// <summary>(W_f, b_f) = (W·f, β + (b − μ_run)·f) with f = γ/√(σ²_run + ε), b = 0 without a bias; differentiable.</summary>
    public (Tensor weight, Tensor bias) folded() => Fold(weight, bias, bn.weight!, bn.bias!, bn.running_mean!, bn.running_var!, bn.eps);

    /// <summary>
    /// (W_f, b_f) = (W·f, β + (b − μ)·f) with f = γ/√(σ² + ε) per output channel (the first axis of W), b = 0 when
    /// <paramref name="bias"/> is null: a batch norm with statistics μ, σ² folded into the layer before it.
    /// </summary>
    internal static (Tensor weight, Tensor bias) Fold(Tensor weight, Tensor? bias, Tensor gamma, Tensor beta, Tensor mean, Tensor variance, double eps)
    {
        using var scope = NewDisposeScope();
        Tensor f = Factor(gamma, variance, eps);
        long[] shape = new long[weight.dim()];
        Array.Fill(shape, 1L);
        shape[0] = -1;
        Tensor w = weight * f.reshape(shape);
        Tensor b = beta.add(((bias is null ? zeros_like(mean) : bias) - mean) * f, One);
        return (w.MoveToOuterDisposeScope(), b.MoveToOuterDisposeScope());
    }

    /// <summary>f = γ/√(σ² + ε): the batch norm's scale per channel.</summary>
    private static Tensor Factor(Tensor gamma, Tensor variance, double eps)
    {
        using Scalar kept = eps.ToScalar();
        return gamma / variance.add(kept, One).sqrt();
    }

    internal override (Tensor weight, Tensor? bias) Effective() => folded();

    /// <summary>
    /// Training with statistics not frozen: y = BN_batch(conv(fq_x(x), fq_w(W·f))/f + b), updating the running
    /// statistics; otherwise the folded layer's y = conv(fq_x(x), fq_w(W_f)) + b_q (the remarks).
    /// </summary>
    /// <exception cref="ArgumentException">As <see cref="FakeQuantizeLayer.forward"/> and <c>conv2d</c>.</exception>
    /// <exception cref="InvalidOperationException">Eval before the quantizers were ever set.</exception>
    public override Tensor forward(Tensor x)
    {
        if (!training || bn_frozen) return base.forward(x);
        using var scope = NewDisposeScope();
        Tensor xq = input_quantizer.forward(x);
        Tensor f = Factor(bn.weight!, bn.running_var!, bn.eps);
        Tensor wq = weight_quantizer.forward(weight * f.reshape(-1, 1, 1, 1));
        Tensor y = Apply(xq, wq, null) / f.reshape(1, -1, 1, 1);
        if (bias is not null) y = y.add(bias.reshape(1, -1, 1, 1), One);
        return BatchNorm(y).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <c>bn.forward(y)</c> as TorchSharp's BatchNorm computes it (training counts the batch, and a null momentum
    /// averages over the batches counted), but counting with a kept Scalar where TorchSharp's adds a temporary 1.
    /// </summary>
    private Tensor BatchNorm(Tensor y)
    {
        if (bn.training) bn.num_batches_tracked!.add_(One, One);
        // Eval's batch norm reads no factor.
        double factor = bn.momentum ?? (bn.training ? 1.0 / bn.num_batches_tracked!.ToDouble() : 0.0);
        return nn.functional.batch_norm(y, bn.running_mean, bn.running_var, bn.weight, bn.bias, bn.training, factor, bn.eps);
    }
}
