using System.Collections.Generic;
using System.Linq;

namespace LearnedQuantization;

/// <summary>The training loss of every method per epoch, as a PNG.</summary>
public static class LossPlot
{
    /// <summary>Saves the curves to <paramref name="path"/>, on a logarithmic loss axis.</summary>
    public static void Save(IReadOnlyList<Result> results, string path)
    {
        var plot = new ScottPlot.Plot();
        foreach (Result r in results)
        {
            double[] epochs = Enumerable.Range(1, r.EpochLosses.Length).Select(e => (double)e).ToArray();
            var line = plot.Add.Scatter(epochs, r.EpochLosses.Select(System.Math.Log10).ToArray());
            line.LegendText = r.Method;
            line.MarkerSize = 0;
            line.LineWidth = 2;
        }
        plot.Title("Training loss per epoch");
        plot.XLabel("epoch");
        plot.YLabel("log10 MSE");
        plot.ShowLegend(ScottPlot.Alignment.UpperRight);
        plot.SavePng(path, 900, 540);
    }
}
