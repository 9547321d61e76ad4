using System;
using System.Collections.Generic;
using System.Linq;
using SoftRound.Tf;
using static TorchSharp.torch;

/// <summary>
/// Every smooth op's values and gradients at fixed inputs (special values, points near integers and half-integers,
/// and enough of them to cross the vector path), as hexadecimal bits: compiled into this test project and into each
/// scratch app, so that their lines can be compared bit for bit.
/// </summary>
internal static class Probe
{
    public static IEnumerable<string> Lines()
    {
        double[] special = { 0, -0.0, 0.5, -0.5, 1, -1, 2.5, 1e-30, -1e-30, 16777216, double.PositiveInfinity, double.NegativeInfinity, double.NaN };
        double[] inputs = special.Concat(Enumerable.Range(0, 1000).Select(i => Math.Sin(i * 12.9898) * 5)).ToArray();
        var ops = new (string name, Func<Tensor, Tensor> op)[]
        {
            ("differentiable_round", x => SoftRoundOps.differentiable_round(x, 10.0)),
            ("soft_round", x => SoftRoundOps.soft_round(x, 16.0)),
            ("soft_round_inverse", x => SoftRoundOps.soft_round_inverse(x, 16.0)),
            ("soft_round_conditional_mean", x => SoftRoundOps.soft_round_conditional_mean(x, 5.0)),
            ("round_st", x => SoftRoundOps.round_st(x)),
            ("ste_soft_round", x => SoftRoundOps.ste_soft_round(x, 5.0)),
        };
        foreach (var (name, op) in ops)
        {
            foreach (ScalarType dtype in new[] { ScalarType.Float32, ScalarType.Float64 })
            {
                using var scope = NewDisposeScope();
                Tensor x = tensor(inputs).to(dtype).requires_grad_(true);
                Tensor y = op(x);
                y.backward(new List<Tensor> { ones_like(y) });
                double[] values = y.detach().to(ScalarType.Float64).data<double>().ToArray();
                double[] gradients = x.grad!.to(ScalarType.Float64).data<double>().ToArray();
                ulong hash = 14695981039346656037;
                foreach (double v in values.Concat(gradients)) hash = (hash ^ (ulong)BitConverter.DoubleToInt64Bits(v)) * 1099511628211;
                yield return $"probe {name} {dtype} {hash:x16}";
            }
        }
    }
}
