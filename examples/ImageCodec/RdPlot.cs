using System;
using System.Collections.Generic;
using System.Linq;

namespace ImageCodec;

/// <summary>
/// The rate–distortion plot: PSNR against bits per pixel, one curve per quantizer, seed and training length, and JPEG's
/// up to 1 bpp or 1.25 times the codec's highest rate, whichever is more (the table has the rest).
/// </summary>
public static class RdPlot
{
    /// <summary>Saves the plot to <paramref name="path"/> (PNG).</summary>
    public static void Save(IReadOnlyList<Evaluation.Point> points, string path)
    {
        var plot = new ScottPlot.Plot();
        double limit = Math.Max(1.0, 1.25 * points.Where(p => p.Method != "JPEG").Select(p => p.Bpp).DefaultIfEmpty(0).Max());
        foreach (var group in points.Where(p => p.Method != "JPEG" || p.Bpp <= limit).GroupBy(p => (p.Method, p.Seed, p.Steps)).OrderBy(g => g.Key.Method == "JPEG").ThenBy(g => g.Key.Method).ThenBy(g => g.Key.Steps).ThenBy(g => g.Key.Seed))
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
