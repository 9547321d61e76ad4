using System.Collections.Generic;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace SoftRound.Tf.Tests.Helpers;

/// <summary>The checker must be able to fail, or every test that relies on it proves nothing.</summary>
[TestClass]
public sealed class GradCheckTests
{
    /// <summary>y = x³ with a backward that is off by 1%: 3.03·x².</summary>
    private sealed class SlightlyWrongCube : autograd.SingleTensorFunction<SlightlyWrongCube>
    {
        public override string Name => nameof(SlightlyWrongCube);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var x = (Tensor)vars[0];
            ctx.save_for_backward(new List<Tensor> { x });
            return x.pow(3);
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output) =>
            new() { grad_output * 3.03 * ctx.get_saved_variables()[0].square() };
    }

    [TestMethod]
    public void CorrectGradient_Passes()
    {
        using Tensor x = tensor(new[] { -1.5, 0.2, 2.0 }, ScalarType.Float64);
        Assert.IsNull(GradCheck.Compare(v => v[0].pow(3) * v[1], new[] { x, x.flip(0) }));
    }

    [TestMethod]
    public void WrongGradient_IsReportedWithItsLocation()
    {
        using Tensor x = tensor(new[] { 0.0, 2.0 }, ScalarType.Float64);
        string? failure = GradCheck.Compare(v => SlightlyWrongCube.apply(v[0]), new[] { x });
        Assert.IsNotNull(failure);
        StringAssert.Contains(failure, "flat index 1");
    }

    /// <summary>y = x³ with a correct backward that is not itself differentiable: 3·detach(x)².</summary>
    private sealed class DetachedCube : autograd.SingleTensorFunction<DetachedCube>
    {
        public override string Name => nameof(DetachedCube);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var x = (Tensor)vars[0];
            ctx.save_for_backward(new List<Tensor> { x });
            return x.pow(3);
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output) =>
            new() { grad_output * 3 * ctx.get_saved_variables()[0].detach().square() };
    }

    [TestMethod]
    public void WrongSecondDerivative_IsReported()
    {
        // First derivative 3x² + 3x² is right; autograd's second derivative sees only 6x of the true 12x.
        using Tensor x = tensor(new[] { 1.0, 3.0 }, ScalarType.Float64);
        Assert.IsNull(GradCheck.Compare(v => DetachedCube.apply(v[0]) + v[0].pow(3), new[] { x }));
        Assert.IsNotNull(GradCheck.Compare(
            v => GradCheck.FirstDerivative(w => DetachedCube.apply(w[0]) + w[0].pow(3), v), new[] { x }));
    }
}
