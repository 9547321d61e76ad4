using System.Collections.Generic;
using System.Linq;

namespace QuantizationAwareTraining;

/// <summary>Test accuracy against bit width for every method, with the float model as a line, as a PNG.</summary>
public static class AccuracyPlot
{
    /// <summary>Saves the plot to <paramref name="path"/>.</summary>
    public static void Save(IReadOnlyList<Outcome> outcomes, string path)
    {
        var plot = new ScottPlot.Plot();
        double floatAccuracy = outcomes.First(o => o.Method == "float").Accuracy * 100;
        var reference = plot.Add.HorizontalLine(floatAccuracy);
        reference.LegendText = $"float ({floatAccuracy:0.00} %)";
        reference.LinePattern = ScottPlot.LinePattern.Dashed;
        foreach (var group in outcomes.Where(o => o.Method != "float").GroupBy(o => o.Method))
        {
            Outcome[] points = group.OrderBy(o => o.Bits).ToArray();
            var line = plot.Add.Scatter(points.Select(o => (double)o.Bits).ToArray(), points.Select(o => o.Accuracy * 100).ToArray());
            line.LegendText = group.Key;
            line.LineWidth = 2;
            line.MarkerSize = 7;
        }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(new double[] { 2, 3, 4, 8 }, new[] { "2", "3", "4", "8" });
        plot.Title("Fashion-MNIST test accuracy of a small CNN");
        plot.XLabel("bits (weights and activations)");
        plot.YLabel("test accuracy (%)");
        plot.ShowLegend(ScottPlot.Alignment.LowerRight);
        plot.SavePng(path, 900, 560);
    }
}
