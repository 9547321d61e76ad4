using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using SoftRound.Tf;
using TorchSharp;
using static TorchSharp.torch;

namespace Plots;

/// <summary>Renders each op's value and gradient dy/dx over x ∈ [−2, 2] as PNGs.</summary>
public static class OpPlots
{
    private const int Points = 801;

    /// <summary>Writes every figure into <paramref name="folder"/> and returns the paths written.</summary>
    public static IReadOnlyList<string> RenderAll(string folder)
    {
        Directory.CreateDirectory(folder);
        var written = new List<string>();
        void Figure(string name, string title, IEnumerable<(string label, Func<Tensor, Tensor> op)> curves)
        {
            var list = curves.ToList();
            written.Add(Render(Path.Combine(folder, name + ".png"), title, "y", list, gradient: false));
            written.Add(Render(Path.Combine(folder, name + "_grad.png"), title + ": dy/dx", "dy/dx", list, gradient: true));
        }
        Figure("differentiable_round", "differentiable_round(x, k)",
            new[] { 1.0, 5, 10, 50 }.Select(k => ($"k = {k}", (Func<Tensor, Tensor>)(x => SoftRoundOps.differentiable_round(x, k)))));
        Figure("soft_round", "soft_round(x, α)",
            new[] { 1.0, 5, 16 }.Select(a => ($"α = {a}", (Func<Tensor, Tensor>)(x => SoftRoundOps.soft_round(x, a)))));
        Figure("soft_round_inverse", "soft_round_inverse(y, α)",
            new[] { 1.0, 5, 16 }.Select(a => ($"α = {a}", (Func<Tensor, Tensor>)(x => SoftRoundOps.soft_round_inverse(x, a)))));
        Figure("soft_round_conditional_mean", "soft_round_conditional_mean(y, α)",
            new[] { 1.0, 5, 16 }.Select(a => ($"α = {a}", (Func<Tensor, Tensor>)(x => SoftRoundOps.soft_round_conditional_mean(x, a)))));
        Figure("round_st", "round_st(x): rounds forward, passes the gradient straight through",
            new[] { ("round_st", (Func<Tensor, Tensor>)(x => SoftRoundOps.round_st(x))) });
        return written;
    }

    private static string Render(string path, string title, string yLabel, List<(string label, Func<Tensor, Tensor> op)> curves, bool gradient)
    {
        var plot = new ScottPlot.Plot();
        foreach (var (label, op) in curves)
        {
            using var scope = NewDisposeScope();
            Tensor x = linspace(-2, 2, Points, ScalarType.Float64).requires_grad_(true);
            Tensor y = op(x);
            y.sum().backward();
            double[] xs = x.detach().data<double>().ToArray();
            double[] ys = (gradient ? x.grad! : y.detach()).data<double>().ToArray();
            var line = plot.Add.ScatterLine(xs, ys);
            line.LegendText = label;
            line.LineWidth = 2;
        }
        if (!gradient)
        {
            var identity = plot.Add.ScatterLine(new[] { -2.0, 2 }, new[] { -2.0, 2 });
            identity.LegendText = "y = x";
            identity.LinePattern = ScottPlot.LinePattern.Dotted;
            identity.Color = ScottPlot.Colors.Gray;
        }
        plot.Title(title);
        plot.XLabel("x");
        plot.YLabel(yLabel);
        plot.ShowLegend(ScottPlot.Alignment.UpperLeft);
        plot.SavePng(path, 720, 450);
        return path;
    }
}
