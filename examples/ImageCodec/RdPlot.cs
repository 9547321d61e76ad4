using System.Collections.Generic;
using System.Linq;

namespace ImageCodec;

/// <summary>The rate–distortion plot: PSNR against bits per pixel, one curve per quantizer and seed, and JPEG's.</summary>
public static class RdPlot
{
    /// <summary>Saves the plot to <paramref name="path"/> (PNG).</summary>
    public static void Save(IReadOnlyList<Evaluation.Point> points, string path)
    {
        var plot = new ScottPlot.Plot();
        foreach (var group in points.GroupBy(p => (p.Method, p.Seed, p.Steps)).OrderBy(g => g.Key.Method == "JPEG").ThenBy(g => g.Key.Method).ThenBy(g => g.Key.Steps).ThenBy(g => g.Key.Seed))
        {
            Evaluation.Point[] curve = group.OrderBy(p => p.Bpp).ToArray();
            var line = plot.Add.Scatter(curve.Select(p => p.Bpp).ToArray(), curve.Select(p => p.Psnr).ToArray());
            line.LegendText = group.Key.Method == "JPEG" ? "JPEG" : $"{group.Key.Method}, seed {group.Key.Seed}, {group.Key.Steps} steps";
            line.LineWidth = group.Key.Method == "JPEG" ? 3 : 2;
            line.MarkerSize = 6;
        }
        plot.Title("Held-out photographs: rate and distortion");
        plot.XLabel("bits per pixel (from the bytes written)");
        plot.YLabel("PSNR (dB)");
        plot.ShowLegend(ScottPlot.Alignment.LowerRight);
        plot.SavePng(path, 900, 600);
    }
}
