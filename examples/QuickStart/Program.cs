using System;
using System.Linq;
using SoftRound.Tf;
using TorchSharp;
using static TorchSharp.torch;

// y = ⌊x⌋ + σ(k·(x − ⌊x⌋ − ½)): close to round(x), but with a gradient a network can learn through.
const double k = 10.0;
Tensor x = tensor(new[] { -1.3, -0.5, 0.0, 0.2, 0.5, 0.8, 1.49, 2.7 }).requires_grad_(true);
Tensor y = SoftRoundOps.differentiable_round(x, k);
y.sum().backward();

Console.WriteLine($"differentiable_round, k = {k}");
Console.WriteLine($"{"x",8} {"round(x)",9} {"y",10} {"dy/dx",10}");
double[] xs = x.detach().data<double>().ToArray(), ys = y.detach().data<double>().ToArray();
double[] dx = x.grad!.data<double>().ToArray(), rounded = x.detach().round().data<double>().ToArray();
for (int i = 0; i < xs.Length; i++)
{
    Console.WriteLine($"{xs[i],8:0.###} {rounded[i] + 0.0,9:0} {ys[i],10:0.0000} {dx[i],10:0.0000}");
}

// The same op as a layer, with a steepness that training can learn.
using var layer = new DifferentiableRoundLayer(k, trainable: true);
layer.call(x.detach()).sum().backward();
Console.WriteLine($"DifferentiableRoundLayer: k = {layer.k:0.###}, dL/d(log k) = {layer.parameters().First().grad!.item<double>():0.0000}");
