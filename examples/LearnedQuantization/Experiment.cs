using System;
using System.Collections.Generic;
using System.Linq;
using SoftRound.Tf.Optim;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

namespace LearnedQuantization;

/// <summary>One method's outcome: its loss per epoch and its evaluation on held-out data.</summary>
public sealed record Result(string Method, double[] EpochLosses, double TrainLoss, double TestMse, double IntegerFraction);

/// <summary>Trains one autoencoder per <see cref="Method"/> on the same data, seed and budget.</summary>
public static class Experiment
{
    private const int TrainSize = 4096, TestSize = 1024, BatchSize = 128;
    private const double LatentScale = 3;

    /// <summary>Runs every method, with a progress bar each, and returns their results in <see cref="Method.All"/>'s order.</summary>
    public static List<Result> Run(int epochs, ulong seed)
    {
        (Tensor train, Tensor test) = SyntheticData.Create(TrainSize, TestSize, seed);
        long steps = (long)epochs * (TrainSize / BatchSize);
        Method[] methods = Method.All(steps);
        var results = new List<Result>();
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                foreach (Method method in methods)
                {
                    ProgressTask task = ctx.AddTask(Markup.Escape(method.Name), maxValue: epochs);
                    results.Add(Train(method, train, test, epochs, seed, () => task.Increment(1)));
                }
            });
        train.Dispose();
        test.Dispose();
        return results;
    }

    private static Result Train(Method method, Tensor train, Tensor test, int epochs, ulong seed, Action epochDone)
    {
        manual_seed((long)seed);
        using var model = new Autoencoder(LatentScale);
        using var optimizer = new Adam(model.parameters(), 3e-3);
        using var order = new Generator(seed);
        var losses = new double[epochs];
        long step = 0;
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            double total = 0;
            using Tensor permutation = randperm(TrainSize, generator: order);
            for (int start = 0; start < TrainSize; start += BatchSize, step++)
            {
                using var scope = NewDisposeScope();
                Tensor batch = train.index_select(0, permutation.narrow(0, start, BatchSize));
                Tensor loss = nn.functional.mse_loss(model.Decode(method.Train(model.Encode(batch), step)), batch);
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
                total += loss.item<float>();
            }
            losses[epoch] = total / (TrainSize / BatchSize);
            epochDone();
        }
        using (no_grad())
        using (var scope = NewDisposeScope())
        {
            Tensor code = method.Evaluate(model.Encode(test));
            double mse = nn.functional.mse_loss(model.Decode(code), test).item<float>();
            double integers = code.eq(code.round()).to(ScalarType.Float32).mean().item<float>();
            return new Result(method.Name, losses, losses[^1], mse, integers);
        }
    }
}
