using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Tests.Helpers;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests;

/// <summary>The contract every op in <see cref="SoftRoundOps"/> shares: dtypes, layouts, no graph without autograd, no leaks.</summary>
[TestClass]
public sealed class SoftRoundOpsTests
{
    private static readonly Dictionary<string, Func<Tensor, Tensor>> Ops = new()
    {
        ["differentiable_round"] = x => SoftRoundOps.differentiable_round(x, 7.0),
        ["soft_round"] = x => SoftRoundOps.soft_round(x, 3.0),
        ["soft_round_inverse"] = x => SoftRoundOps.soft_round_inverse(x, 3.0),
        ["soft_round_conditional_mean"] = x => SoftRoundOps.soft_round_conditional_mean(x, 3.0),
        ["round_st"] = x => SoftRoundOps.round_st(x),
        ["ste_soft_round"] = x => SoftRoundOps.ste_soft_round(x, 3.0),
        ["perturb_and_apply"] = x => SoftRoundOps.perturb_and_apply(t => SoftRoundOps.soft_round(t, 3.0), x, zeros_like(x) + 0.125),
    };

    public static IEnumerable<object[]> OpNames => Ops.Keys.Select(name => new object[] { name });

    [TestMethod]
    [DynamicData(nameof(OpNames))]
    public void HalfPrecision_IsComputedInFloat32(string op)
    {
        foreach (ScalarType dtype in new[] { ScalarType.Float16, ScalarType.BFloat16 })
        {
            using var scope = NewDisposeScope();
            Tensor x = tensor(new[] { -1.3, 0.2, 0.7, 2.4 }).to(dtype).requires_grad_(true);
            Tensor y = Ops[op](x);
            Assert.AreEqual(dtype, y.dtype);
            Tensor x32 = x.detach().to(ScalarType.Float32).requires_grad_(true);
            Tensor y32 = Ops[op](x32);
            TensorAssert.Identical(y32.detach().to(dtype), y.detach());
            y.sum().backward();
            y32.sum().backward();
            Assert.AreEqual(dtype, x.grad!.dtype);
            TensorAssert.Identical(x32.grad!.to(dtype), x.grad!);
        }
    }

    [TestMethod]
    [DynamicData(nameof(OpNames))]
    public void InfinityAndNaN_FollowTheSpecialValueRules(string op)
    {
        // docs/MATH.md §5: ±∞ → ±∞ with gradient 0, NaN → NaN with gradient NaN; round_st passes the gradient through.
        bool passThrough = op == "round_st";
        foreach (ScalarType dtype in new[] { ScalarType.Float32, ScalarType.Float64 })
        {
            using var scope = NewDisposeScope();
            Tensor x = tensor(new[] { double.PositiveInfinity, double.NegativeInfinity, double.NaN, 0.3 }, dtype).requires_grad_(true);
            Tensor y = Ops[op](x);
            double[] v = Reference.Values(y);
            Assert.AreEqual(double.PositiveInfinity, v[0], $"{dtype}");
            Assert.AreEqual(double.NegativeInfinity, v[1], $"{dtype}");
            Assert.IsTrue(double.IsNaN(v[2]), $"{dtype}");
            Assert.IsTrue(double.IsFinite(v[3]), $"{dtype}");
            y.sum().backward();
            double[] g = Reference.Values(x.grad!);
            Assert.AreEqual(passThrough ? 1.0 : 0.0, g[0], $"{dtype} at +∞");
            Assert.AreEqual(passThrough ? 1.0 : 0.0, g[1], $"{dtype} at −∞");
            Assert.IsTrue(passThrough ? g[2] == 1.0 : double.IsNaN(g[2]), $"{dtype} at NaN: {g[2]}");
            Assert.IsTrue(double.IsFinite(g[3]), $"{dtype}");
        }
    }

    [TestMethod]
    [DynamicData(nameof(OpNames))]
    public void NegativeZeroAndHugeValues_GiveNoNaN(string op)
    {
        foreach ((ScalarType dtype, double huge) in new[] { (ScalarType.Float32, 16777216.0), (ScalarType.Float64, 9007199254740992.0) })
        {
            using var scope = NewDisposeScope();
            Tensor x = tensor(new[] { -0.0, huge, -huge, 1e30 }, dtype).requires_grad_(true);
            Tensor y = Ops[op](x);
            y.sum().backward();
            Assert.IsTrue(y.isfinite().all().item<bool>(), $"{dtype} values: {string.Join(", ", Reference.Values(y))}");
            Assert.IsTrue(x.grad!.isfinite().all().item<bool>(), $"{dtype} gradients: {string.Join(", ", Reference.Values(x.grad!))}");
        }
    }

    [TestMethod]
    [DynamicData(nameof(OpNames))]
    public void NonFloatingInput_IsRefusedNamingTheOp(string op)
    {
        using Tensor ints = ones(3, ScalarType.Int32);
        var e = Assert.ThrowsExactly<ArgumentException>(() => Ops[op](ints));
        StringAssert.Contains(e.Message, op);
        StringAssert.Contains(e.Message, "Int32");
    }

    [TestMethod]
    [DynamicData(nameof(OpNames))]
    public void NonContiguousInputs_MatchContiguousCopies(string op)
    {
        using var scope = NewDisposeScope();
        Tensor source = randn(6, 8, ScalarType.Float64) * 3;
        foreach (Tensor view in new[] { source.t(), source[.., TensorIndex.Slice(null, null, 2)], source[0].expand(3, 8) })
        {
            TensorAssert.Identical(Ops[op](view.contiguous()), Ops[op](view));
        }
    }

    [TestMethod]
    [DynamicData(nameof(OpNames))]
    public void EmptyAndZeroDimInputs_KeepTheirShape(string op)
    {
        using var scope = NewDisposeScope();
        CollectionAssert.AreEqual(new long[] { 0, 3 }, Ops[op](zeros(0, 3)).shape);
        Assert.AreEqual(0L, Ops[op](tensor(0.3)).dim());
    }

    [TestMethod]
    [DynamicData(nameof(OpNames))]
    public void NoGraph_UnderNoGradOrWithoutRequiresGrad(string op)
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(new[] { 0.3, 1.2 }, ScalarType.Float64).requires_grad_(true);
        using (no_grad()) Assert.IsFalse(Ops[op](x).requires_grad);
        Assert.IsFalse(Ops[op](x.detach()).requires_grad);
        Assert.IsTrue(Ops[op](x).requires_grad);
    }

    [TestMethod]
    [DynamicData(nameof(OpNames))]
    public void InputIsNotModified(string op)
    {
        using var scope = NewDisposeScope();
        Tensor x = (randn(20, ScalarType.Float64) * 3).requires_grad_(true);
        Tensor before = x.detach().clone();
        Ops[op](x).sum().backward();
        TensorAssert.Identical(before, x.detach());
    }

    [TestMethod]
    [DynamicData(nameof(OpNames))]
    public void UndefinedIncomingGradient_GivesNoGradient(string op)
    {
        // UndefinedGradientSink gives its second input no gradient, so an op whose output is that input gets an undefined one.
        for (int i = 0; i < 3; i++)
        {
            using var scope = NewDisposeScope();
            Tensor x = tensor(new[] { 0.3, 1.7, -2.2 }, ScalarType.Float64).requires_grad_(true);
            Tensor k = tensor(new[] { 0.2 }, ScalarType.Float64).requires_grad_(true);
            Tensor ignored = Ops[op](k);
            UndefinedGradientSink.apply(x, ignored).sum().backward();
            GC.Collect();
            GC.WaitForPendingFinalizers();
            TensorAssert.Identical(ones_like(x), x.grad!);
            Assert.IsTrue(k.grad is null || k.grad.IsInvalid);
        }
    }

    [TestMethod]
    [DynamicData(nameof(OpNames))]
    public void ThousandForwardBackwardIterations_LeaveTheLiveTensorCountUnchanged(string op)
    {
        using Tensor data = randn(64);
        void Iteration()
        {
            using var scope = NewDisposeScope();
            Tensor x = data.clone().requires_grad_(true);
            Ops[op](x).sum().backward();
            using (no_grad()) Ops[op](x);
        }
        Iteration();
        long before = LiveTensors.Count();
        for (int i = 0; i < 1000; i++) Iteration();
        Assert.AreEqual(before, LiveTensors.Count());
    }

    /// <summary>y = x; x gets the incoming gradient and the second input an undefined one.</summary>
    private sealed class UndefinedGradientSink : autograd.SingleTensorFunction<UndefinedGradientSink>
    {
        public override string Name => nameof(UndefinedGradientSink);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars) => ((Tensor)vars[0]).clone();

        public override System.Collections.Generic.List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output) =>
            new() { grad_output, null! };
    }

    [TestMethod]
    public void FirstDerivative_BuiltForDoubleBackward_EqualsThePlainOne_WithANumberSteepness()
    {
        var ops = new Func<Tensor, Tensor>[]
        {
            x => SoftRoundOps.differentiable_round(x, 3.0), x => SoftRoundOps.soft_round(x, 3.0),
            x => SoftRoundOps.soft_round_inverse(x, 3.0), x => SoftRoundOps.soft_round_conditional_mean(x, 3.0),
        };
        foreach (var op in ops)
        {
            using var scope = NewDisposeScope();
            Tensor x = tensor(new[] { -1.3, 0.2, 0.7, 2.45 }, ScalarType.Float64).requires_grad_(true);
            Tensor plain = autograd.grad(new[] { op(x).sum() }, new[] { x })[0];
            Tensor forDoubleBackward = autograd.grad(new[] { op(x).sum() }, new[] { x }, retain_graph: true, create_graph: true)[0];
            TensorAssert.Close(Reference.Values(plain), forDoubleBackward, 1e-13);
        }
    }
}
