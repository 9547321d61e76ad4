using System;
using System.Collections.Generic;
using System.Linq;

namespace ImageCodec;

/// <summary>
/// The rate–distortion plot: PSNR or MS-SSIM (dB) against bits per pixel, one curve per quantizer, seed and training length, and JPEG's
/// and WebP's up to 1 bpp or 1.25 times the codec's highest rate, whichever is more (the table has the rest).
/// </summary>
public static class RdPlot
{
    /// <summary>Saves the plot of <paramref name="metric"/> against bpp to <paramref name="path"/> (PNG).</summary>
    public static void Save(IReadOnlyList<Evaluation.Point> points, string path, Evaluation.Metric metric)
    {
        var plot = new ScottPlot.Plot();
        static bool Reference(string method) => method is "JPEG" or "WebP";
        double limit = Math.Max(1.0, 1.25 * points.Where(p => !Reference(p.Method)).Select(p => p.Bpp).DefaultIfEmpty(0).Max());
        foreach (Evaluation.Curve group in Evaluation.Curves(points.Where(p => !Reference(p.Method) || p.Bpp <= limit)).OrderBy(c => Reference(c.Method)).ThenBy(c => c.Method).ThenBy(c => c.Steps[0]).ThenBy(c => c.Seeds[0]))
        {
            Evaluation.Point[] curve = group.Points.OrderBy(p => p.Bpp).ToArray();
            var line = plot.Add.Scatter(curve.Select(p => p.Bpp).ToArray(), curve.Select(metric.Of).ToArray());
            line.LegendText = Reference(group.Method) ? group.Method : $"{group.Method}, seed{(group.Seeds.Count > 1 ? "s" : "")} {group.SeedLabel}, {group.StepsLabel} steps";
            line.LineWidth = Reference(group.Method) ? 3 : 2;
            line.MarkerSize = 6;
        }
        plot.Title("Held-out photographs: rate and distortion");
        plot.XLabel("bits per pixel (from the bytes written)");
        plot.YLabel(metric == Evaluation.Metric.Psnr ? "PSNR (dB)" : "MS-SSIM (dB, −10·log10(1 − MS-SSIM))");
        plot.ShowLegend(ScottPlot.Alignment.LowerRight);
        plot.SavePng(path, 900, 600);
    }
}
