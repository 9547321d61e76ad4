using System;
using Plots;

// Renders the figures shown in the README: dotnet run --project examples/Plots [-- <folder>] (default docs/images).
string folder = args.Length > 0 ? args[0] : "docs/images";
foreach (string path in OpPlots.RenderAll(folder)) Console.WriteLine(path);
