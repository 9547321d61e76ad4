using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using SoftRound.Tf;
using SoftRound.Tf.Entropy;
using TorchSharp;
using SoftRound.Tf.Performance;
using static TorchSharp.torch;
using SoftRound.Tf.Compression;
using SoftRound.Tf.Optim;

namespace ImageCodec;

/// <summary>Trains a codec model (<see cref="Architecture"/>) for R + λ·D on random crops, as CompressAI's example does.</summary>
public static class Training
{

    /// <summary>A training run's settings.</summary>
    /// <remarks>
    /// With <paramref name="AlphaStart"/>, the quantizer's α (k for differentiable_round) is annealed from it to
    /// <paramref name="Alpha"/> exponentially over the steps, as Agustsson &amp; Theis anneal soft round's steepness.
    /// With <paramref name="Init"/>, the run starts from the weights of that weights file wherever a state-dict entry
    /// has the same name and shape (a factorized model's g_a and g_s in a hyperprior model, or a model of another λ),
    /// and from a fresh initialisation elsewhere; a file of the same architecture with smaller N or M is widened into
    /// the model (<see cref="Widening"/>).
    /// With <paramref name="DecoderMode"/>, the synthesis gets ŷ made in that mode while the rate is the proxy's
    /// (<see cref="GaussianConditional.x_hat_mode"/>; hyperprior models only): <c>RoundSt</c> gives it the rounded
    /// values it will decode.
    /// With <paramref name="FreezeAnalysis"/>, the analysis transforms (g_a, and h_a where the model has one) keep the
    /// weights the run starts from and only the rest trains: with <c>RoundSt</c> as <paramref name="Mode"/>, the latents
    /// are then fixed functions of the image and the synthesis and entropy models learn the rounded values they will
    /// code and decode, with no proxy (the "soft then hard" fine-tuning of Guo et al. 2021).
    /// </remarks>
    public sealed record Options(int N, int M, QuantizationMode Mode, double Alpha, double Lambda, int Steps, int Batch, int Crop, ulong Seed,
        double LearningRate, double? AlphaStart = null, Architecture Architecture = Architecture.FactorizedPrior, string? Init = null,
        QuantizationMode? DecoderMode = null, bool FreezeAnalysis = false);

    /// <summary>The four training quantizers the comparison covers.</summary>
    public static readonly QuantizationMode[] Quantizers =
        { QuantizationMode.UniformNoise, QuantizationMode.RoundSt, QuantizationMode.SoftRoundNoise, QuantizationMode.DifferentiableRound };

    /// <summary>The transforms' channels of <see cref="Defaults"/>.</summary>
    public const int DefaultN = 32;

    /// <summary>The latents' channels of <see cref="Defaults"/>.</summary>
    public const int DefaultM = 48;

    /// <summary>The crops a step of <see cref="Defaults"/> trains on.</summary>
    public const int DefaultBatch = 8;

    /// <summary>The side of <see cref="Defaults"/>' square crops.</summary>
    public const int DefaultCrop = 128;

    /// <summary>The most crops a step the command line takes.</summary>
    public const int MaxBatch = 64;

    /// <summary>The largest crop side the command line takes.</summary>
    public const int MaxCrop = 1024;

    /// <summary>
    /// The settings every run shares (N = 32, M = 48, batches of 8 crops of 128×128, Adam at 1e−3), with each
    /// quantizer's steepness: soft round annealed from α = 1 to 5, differentiable_round from k = 2 to 20.
    /// </summary>
    public static Options Defaults(QuantizationMode mode, double lambda, int steps, int seed) => mode switch
    {
        QuantizationMode.SoftRoundNoise or QuantizationMode.SteSoftRound => new(DefaultN, DefaultM, mode, 5.0, lambda, steps, DefaultBatch, DefaultCrop, (ulong)seed, 1e-3, AlphaStart: 1.0),
        QuantizationMode.DifferentiableRound => new(DefaultN, DefaultM, mode, 20.0, lambda, steps, DefaultBatch, DefaultCrop, (ulong)seed, 1e-3, AlphaStart: 2.0),
        _ => new(DefaultN, DefaultM, mode, 5.0, lambda, steps, DefaultBatch, DefaultCrop, (ulong)seed, 1e-3),
    };

    /// <summary>
    /// The loss of a batch: λ·255²·MSE(x̂, x) + bits per pixel of every latent (D on [0, 255]², as CompressAI's
    /// <c>RateDistortionLoss</c>), with its two parts.
    /// </summary>
    public static (Tensor loss, double bpp, double mse) Loss(CompressionModel model, Tensor x, double lambda)
    {
        CompressionOutput output = model.call(x);
        long pixels = x.shape[0] * x.shape[2] * x.shape[3];
        Tensor bpp = Bits.per_pixel(pixels, output.likelihoods.Values.ToArray());
        Tensor mse = nn.functional.mse_loss(output.x_hat, x);
        using Scalar weight = (lambda * 255 * 255).ToScalar(), one = 1L.ToScalar();
        return ((mse * weight).add(bpp, one), bpp.item<float>(), mse.item<float>());
    }

    /// <summary>Where a run keeps its checkpoint, how often it writes it, and whether it starts from it.</summary>
    public sealed record Checkpointing(string Path, int Every, bool Resume);

    /// <summary>
    /// How a run watches for divergence: a step whose batch loss is not finite, or above <paramref name="factor"/> times
    /// the median of the last <paramref name="window"/> losses the run accepted (judged once it has accepted
    /// <paramref name="warmup"/>), is a spike: its update is not made, and the weights and both optimisers' states go
    /// back to the last snapshot, the state at the start of a step whose loss was accepted, taken every
    /// <see cref="Trainer"/> snapshot interval. The data, the noise and the learning-rate schedule go on.
    /// </summary>
    /// <remarks>
    /// A batch's loss varies a few times over around its median as crops vary (up to 3.1 times the median of the 200
    /// before it, measured over a fine-tuning run of level 3); a diverged model's loss is 10² to 10¹⁵ times it.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="factor"/> is not above 1 and finite,
    /// <paramref name="window"/> is below 1, or <paramref name="warmup"/> is not 1 to <paramref name="window"/>.</exception>
    public sealed class SpikeGuard(double factor = 10, int window = 200, int warmup = 20)
    {
        /// <summary>How many times the median a spike's loss is above.</summary>
        public double Factor { get; } = factor > 1 && double.IsFinite(factor) ? factor
            : throw new ArgumentOutOfRangeException(nameof(factor), factor, "Training.SpikeGuard: factor must be finite and above 1.");

        /// <summary>How many of the last accepted losses the median is taken over.</summary>
        public int Window { get; } = window >= 1 ? window
            : throw new ArgumentOutOfRangeException(nameof(window), window, "Training.SpikeGuard: window must be at least 1.");

        /// <summary>How many accepted losses there must be before a finite loss can be a spike.</summary>
        public int Warmup { get; } = warmup >= 1 && warmup <= window ? warmup
            : throw new ArgumentOutOfRangeException(nameof(warmup), warmup, $"Training.SpikeGuard: warmup must be 1 to window ({window}).");

        /// <summary>Whether <paramref name="loss"/> is a spike against the <paramref name="accepted"/> losses (oldest first).</summary>
        public bool IsSpike(double loss, IReadOnlyCollection<double> accepted)
        {
            if (!double.IsFinite(loss)) return true;
            if (accepted.Count < Warmup) return false;
            double[] sorted = accepted.TakeLast(Window).Order().ToArray();
            int n = sorted.Length;
            double median = n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
            return loss > Factor * median;
        }
    }

    /// <summary>
    /// Trains a new model: Adam on the transforms and the density, its learning rate cut tenfold for the last fifth of the
    /// steps; a second Adam (lr 1e−3) on the quantiles with the bottleneck's auxiliary loss; batches of random crops,
    /// flipped and with their colour channels permuted at random. <paramref name="progress"/> gets the
    /// step and the batch's loss. With <paramref name="checkpointing"/>, the run writes a checkpoint every so many steps
    /// (and after the last), and with <see cref="Checkpointing.Resume"/> it continues from the one there with the same
    /// crops, noise, learning rates and optimiser state as a run that was never stopped: the same losses, and weights
    /// equal to float32 rounding (TorchSharp's Adam, its state loaded, rounds its steps differently in the last bit).
    /// With <paramref name="checkOneDnn"/>, the steps use oneDNN if <see cref="Trainer.CheckOneDnn"/> passes (saying
    /// which on stderr), and libtorch's own convolutions otherwise. With <paramref name="guard"/>, a step whose loss is
    /// a spike sends the weights back to the last snapshot (taken at checkpoint steps, or every 100 steps without
    /// checkpointing; <see cref="Trainer.Step"/>), and the run says on stderr how many times it did.
    /// </summary>
    /// <exception cref="InvalidDataException">The checkpoint to resume from is damaged or belongs to other options.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="Checkpointing.Every"/> is below 1.</exception>
    /// <exception cref="ArgumentException"><see cref="Options.DecoderMode"/> is set for a model without a <see cref="GaussianConditional"/>, or no image is at least <see cref="Options.Crop"/> on both sides (<paramref name="images"/>).</exception>
    public static CompressionModel Run(Options options, IReadOnlyList<Tensor> images, Action<int, double>? progress = null, Checkpointing? checkpointing = null, bool checkOneDnn = false, SpikeGuard? guard = null)
    {
        if (checkpointing is { Every: < 1 }) throw new ArgumentOutOfRangeException(nameof(checkpointing), checkpointing.Every, "Training.Run: checkpointing.Every must be at least 1.");
        Tensor[] usable = Usable(images, options.Crop);
        if (usable.Length == 0) throw new ArgumentException($"Training.Run: no training image is at least {options.Crop}×{options.Crop} (of {images.Count}); take a smaller crop.", nameof(images));
        manual_seed((long)options.Seed);
        var random = new Random((int)(options.Seed % int.MaxValue));
        var trainer = new Trainer(options, guard, checkpointing?.Every ?? 100);
        if (checkOneDnn)
        {
            MkldnnCheck verdict = trainer.CheckOneDnn();
            Console.Error.WriteLine(verdict.passed
                ? $"note: oneDNN on: its convolutions agree with libtorch's in all {verdict.layers.Count} layers (MkldnnBackend.check)."
                : $"note: oneDNN off: {verdict}");
        }
        int start = checkpointing is { Resume: true } ? trainer.Load(checkpointing.Path) : 0;
        // The crops of the steps already done, drawn again without being cut, so that the data continues as it would have.
        for (int step = 0; step < start; step++)
            for (int b = 0; b < options.Batch; b++) Draw(usable, options.Crop, random);
        for (int step = start; step < options.Steps; step++)
        {
            using var scope = NewDisposeScope();
            Tensor batch = cat(Enumerable.Range(0, options.Batch).Select(_ => Cut(Draw(usable, options.Crop, random))).ToArray(), 0);
            double loss = trainer.Step(batch);
            if (checkpointing is not null && ((step + 1) % checkpointing.Every == 0 || step + 1 == options.Steps)) trainer.Save(checkpointing.Path);
            progress?.Invoke(step, loss);
        }
        if (trainer.SkippedSteps > 0) Console.Error.WriteLine($"note: {trainer.SkippedSteps} of {options.Steps - start} steps were skipped: their gradient was not finite.");
        if (trainer.RolledBack > 0) Console.Error.WriteLine($"note: {trainer.RolledBack} of {options.Steps - start} steps were spikes (a loss not finite, or over {guard!.Factor} times the median of the last {guard.Window}) and went back to the last snapshot.");
        CompressionModel model = trainer.Model;
        model.eval();
        model.update();
        return model;
    }

    /// <summary>
    /// A model in training with its optimisers: Adam on the transforms and the density, its learning rate cut tenfold
    /// for the last fifth of the steps; a second Adam (lr 1e−3) on the quantiles with the bottleneck's auxiliary loss.
    /// </summary>
    public sealed class Trainer
    {
        private readonly Options options;
        private readonly Adam main, aux;
        private readonly optim.lr_scheduler.LRScheduler decay;
        private readonly SteepnessSchedule? anneal;
        private readonly SpikeGuard? guard;
        private readonly int snapshotEvery;
        private readonly List<double> accepted = new();
        private byte[]? snapshot;
        private int step;

        /// <summary>
        /// A new model (from the current torch seed, then <see cref="Options.Init"/>'s weights) in training mode; with
        /// <paramref name="guard"/>, its steps watch for spikes and take a snapshot to go back to at every step whose
        /// number (counted from 0) is a multiple of <paramref name="snapshotEvery"/>.
        /// </summary>
        /// <exception cref="InvalidDataException">The weights file to start from cannot be read, or shares no entry with the model.</exception>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="snapshotEvery"/> is below 1.</exception>
        /// <exception cref="ArgumentException"><see cref="Options.DecoderMode"/> is set for a model without a <see cref="GaussianConditional"/>, or <see cref="Options.FreezeAnalysis"/> without <see cref="Options.Init"/>.</exception>
        public Trainer(Options options, SpikeGuard? guard = null, int snapshotEvery = 100)
        {
            if (snapshotEvery < 1) throw new ArgumentOutOfRangeException(nameof(snapshotEvery), snapshotEvery, "Training.Trainer: snapshotEvery must be at least 1.");
            if (options.FreezeAnalysis && options.Init is null)
                throw new ArgumentException("Training.Trainer: options.FreezeAnalysis keeps the analysis transforms of options.Init, which is null; freezing a fresh initialisation would train the rest on random latents.", nameof(options));
            this.options = options;
            this.guard = guard;
            this.snapshotEvery = snapshotEvery;
            Model = ModelFile.Create(new ModelFile.Config(options.N, options.M, options.Mode, options.Alpha, options.Lambda, (int)options.Seed, options.Steps, options.Architecture));
            if (options.DecoderMode is { } decoderMode)
            {
                GaussianConditional[] conditionals = Model.modules().OfType<GaussianConditional>().ToArray();
                if (conditionals.Length == 0)
                {
                    Model.Dispose();
                    throw new ArgumentException($"Training.Trainer: options.DecoderMode needs a hyperprior model; {options.Architecture} has no GaussianConditional.", nameof(options));
                }
                foreach (GaussianConditional conditional in conditionals) conditional.x_hat_mode = decoderMode;
            }
            if (options.Init is not null) Initialize(Model, options.Init);
            Model.train();
            entropyModels = ModelFile.Quantizers(Model);
            var named = Model.named_parameters().ToList();
            if (options.FreezeAnalysis)
                foreach (var frozen in named.Where(p => IsAnalysis(p.name))) frozen.parameter.requires_grad = false;
            main = new Adam(named.Where(p => p.parameter.requires_grad && !p.name.EndsWith("quantiles", StringComparison.Ordinal)).Select(p => p.parameter), lr: options.LearningRate);
            decay = optim.lr_scheduler.MultiStepLR(main, new[] { Math.Max(1, options.Steps * 4 / 5) }, 0.1);
            aux = new Adam(named.Where(p => p.name.EndsWith("quantiles", StringComparison.Ordinal)).Select(p => p.parameter), lr: 1e-3);
            anneal = options.AlphaStart is { } start ? SteepnessSchedule.Exponential(start, options.Alpha, options.Steps) : null;
        }

        /// <summary>The model.</summary>
        public CompressionModel Model { get; }

        /// <summary>Whether the state-dict entry <paramref name="name"/> belongs to an analysis transform (g_a or h_a, a <see cref="VariableRateHyperprior"/>'s inside "model.").</summary>
        public static bool IsAnalysis(string name)
        {
            string local = name.StartsWith("model.", StringComparison.Ordinal) ? name["model.".Length..] : name;
            return local.StartsWith("g_a.", StringComparison.Ordinal) || local.StartsWith("h_a.", StringComparison.Ordinal);
        }

        /// <summary>The losses the spike guard accepted last, oldest first (at most its window; none without a guard).</summary>
        public IReadOnlyList<double> AcceptedLosses => accepted;

        /// <summary>The main optimiser's learning rate for the next step.</summary>
        public double LearningRate => main.ParamGroups.First().LearningRate;

        /// <summary>
        /// Whether the steps may use oneDNN's convolutions (default false: libtorch's own). Set it only when
        /// <see cref="MkldnnBackend.check"/> has passed for this model on this machine (<see cref="CheckOneDnn"/>).
        /// </summary>
        public bool OneDnn { get; set; }

        /// <summary>
        /// Checks oneDNN's convolutions in this model, forward and backward, on a batch of two crops of the run's size
        /// (<see cref="MkldnnBackend.check"/>), and sets <see cref="OneDnn"/> to whether they passed. torch's random
        /// state is left as it was, so that the run's noise is the same with or without the check.
        /// </summary>
        public MkldnnCheck CheckOneDnn()
        {
            using var scope = NewDisposeScope();
            Tensor state = torch.random.get_rng_state();
            Tensor sample = rand(new long[] { 2, 3, options.Crop, options.Crop }, generator: new Generator(0));
            MkldnnCheck verdict = MkldnnBackend.check(Model, sample, backward: true);
            torch.random.set_rng_state(state);
            OneDnn = verdict.passed;
            return verdict;
        }

        /// <summary>The steps of this process whose gradient was not finite, skipped without changing the weights (the learning-rate schedule still advances).</summary>
        public int SkippedSteps { get; private set; }

        /// <summary>
        /// The steps of this process whose loss was a spike (<see cref="SpikeGuard"/>): the weights and optimisers went
        /// back to the last snapshot (or, before the first, stayed as they were).
        /// </summary>
        public int RolledBack { get; private set; }

        private readonly QuantizationLayer[] entropyModels;

        /// <summary>
        /// Copies into <paramref name="model"/> every state-dict entry of the weights file at <paramref name="path"/> with
        /// the same name and shape; a <see cref="VariableRateHyperprior"/>'s "model.k" takes the file's "k". A file of
        /// the same architecture and other N or M is widened into the model (<see cref="Widening"/>).
        /// </summary>
        private static void Initialize(CompressionModel model, string path)
        {
            using CompressionModel source = ModelFile.Load(path).model;
            if (source.GetType() == model.GetType() && (source.N, source.M) != (model.N, model.M))
            {
                Widening.Widen(source, model);
                return;
            }
            using var noGrad = no_grad();
            Dictionary<string, Tensor> from = source.state_dict();
            int copied = 0;
            foreach ((string name, Tensor value) in model.state_dict())
            {
                string key = model is VariableRateHyperprior && name.StartsWith("model.", StringComparison.Ordinal) ? name["model.".Length..] : name;
                if (from.TryGetValue(key, out Tensor? other) && other.shape.SequenceEqual(value.shape))
                {
                    value.copy_(other);
                    copied++;
                }
            }
            if (copied == 0) throw new InvalidDataException($"{path} shares no state-dict entry (name and shape) with a {model.GetName()} of N = {model.N}, M = {model.M}.");
            if (model is JointAutoregressiveHierarchicalPriors && source is MeanScaleHyperprior) PassHyperpriorThrough(model.state_dict(), model.M);
        }

        /// <summary>
        /// Keeps the pass-through units of <see cref="PassHyperpriorThrough"/> in the LeakyReLUs' linear part for every
        /// h_s output above −32 (the committed levels' lowest on the training photographs: −21); small, because each
        /// of Adam's first steps moves a weight by about the learning rate, which the units' values multiply.
        /// </summary>
        internal const double PassThroughOffset = 32;

        /// <summary>
        /// Sets a joint autoregressive model's <c>entropy_parameters</c> (1×1 convolutions 4M → 10M/3 → 8M/3 → 2M with
        /// LeakyReLUs between) so that its output is h_s's 2M parameters, whatever the context: in each layer the first
        /// 2M units carry parameter + <see cref="PassThroughOffset"/> (positive, so the LeakyReLUs pass it unchanged) and
        /// the last takes the offset off. The carrying units see nothing else; the other units see no carrying unit
        /// after the first layer and reach the output with weights 0, their other weights keeping their random start;
        /// the context model starts at 0 (its gradient comes through those units). Started from a mean-scale model's
        /// weights, the model then prices ŷ as that model does (to float32 rounding), and training learns the context.
        /// </summary>
        internal static void PassHyperpriorThrough(Dictionary<string, Tensor> state, int m)
        {
            int carried = 2 * m;
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            state["context_prediction.weight"].zero_();
            state["context_prediction.bias"].zero_();
            foreach ((int layer, double offset) in new[] { (0, PassThroughOffset), (2, 0.0), (4, -PassThroughOffset) })
            {
                Tensor weight = state[$"entropy_parameters.{layer}.weight"], bias = state[$"entropy_parameters.{layer}.bias"];
                weight[..carried].zero_();
                weight[..carried, ..carried, 0, 0].copy_(eye(carried, dtype: weight.dtype));
                using Scalar value = offset.ToScalar();
                bias[..carried].fill_(value);
                // The other units do not see the offset the carrying units hold.
                if (layer > 0) weight[carried.., ..carried].zero_();
            }
        }

        private static readonly byte[] CheckpointMagic = "SRZC"u8.ToArray();
        private const int CheckpointVersion = 2;

        /// <summary>
        /// Writes a checkpoint: "SRZC", its version (int32, 2), the options, the steps done, the model's state dict,
        /// both optimisers' states, the torch generator's state, the losses the spike guard accepted last (int32 count,
        /// float64 each, at most its window), and SHA-256 over everything before it (32 bytes). It is written beside
        /// <paramref name="path"/> and then moved there, so a stopped run never leaves half a file.
        /// </summary>
        public void Save(string path)
        {
            using var content = new MemoryStream();
            using (var writer = new BinaryWriter(content, System.Text.Encoding.UTF8, leaveOpen: true))
            {
                writer.Write(CheckpointMagic);
                writer.Write(CheckpointVersion);
                writer.Write(options.ToString());
                writer.Write(step);
                WriteWeights(writer);
                byte[] generator = torch.random.get_rng_state().data<byte>().ToArray();
                writer.Write(generator.Length);
                writer.Write(generator);
                writer.Write(accepted.Count);
                foreach (double loss in accepted) writer.Write(loss);
            }
            File.WriteAllBytes(path + ".partial", Sha256Trailer.Append(content));
            File.Move(path + ".partial", path, overwrite: true);
        }

        /// <summary>
        /// Continues from the checkpoint at <paramref name="path"/>; the number of steps it had done. Its state is the
        /// spike guard's snapshot until the next is taken.
        /// </summary>
        /// <exception cref="InvalidDataException">The file is not a checkpoint, is damaged, or was written with other options.</exception>
        public int Load(string path)
        {
            byte[] file = File.ReadAllBytes(path);
            int content = file.Length - Sha256Trailer.Length;
            if (content < 8 || !file.AsSpan(0, 4).SequenceEqual(CheckpointMagic)) throw new InvalidDataException($"{path} is not a training checkpoint.");
            if (!Sha256Trailer.Verify(file, 8)) throw new InvalidDataException($"{path} is truncated or corrupted: its checksum does not match.");
            using var reader = new BinaryReader(new MemoryStream(file, 4, content - 4, writable: false));
            try
            {
                int version = reader.ReadInt32();
                if (version != CheckpointVersion) throw new InvalidDataException($"{path} is of checkpoint version {version}; this program reads {CheckpointVersion}.");
                string saved = reader.ReadString();
                if (saved != options.ToString()) throw new InvalidDataException($"{path} was written by a run with other options ({saved}); this run: {options}.");
                int done = reader.ReadInt32();
                if (done < 0 || done > options.Steps) throw new InvalidDataException($"{path} records {done} steps done; the run has {options.Steps}.");
                for (; step < done; step++) decay.step();
                ReadWeights(reader);
                byte[] generator = reader.ReadBytes(reader.ReadInt32());
                torch.random.set_rng_state(tensor(generator));
                int count = reader.ReadInt32();
                if (count < 0 || count > reader.BaseStream.Length / sizeof(double)) throw new InvalidDataException($"{path} records {count} accepted losses, more than it holds.");
                accepted.Clear();
                for (int i = 0; i < count; i++) accepted.Add(reader.ReadDouble());
                if (guard is not null) snapshot = Weights();
                return done;
            }
            catch (Exception e) when (e is EndOfStreamException or ArgumentException or InvalidOperationException or IOException)
            {
                throw new InvalidDataException($"{path} cannot be read as a checkpoint of this run: {e.Message}", e);
            }
        }

        /// <summary>
        /// One step on a batch (N, 3, H, W) (a <see cref="VariableRateHyperprior"/> at level step mod 6 + 1 with that
        /// level's λ): the main loss's gradient clipped to norm 1 and an Adam step (skipped, and counted in
        /// <see cref="SkippedSteps"/>, when the gradient is not finite), then the auxiliary loss's; the batch's loss.
        /// With a <see cref="SpikeGuard"/>, a loss that is a spike makes no update: the weights and optimisers go back
        /// to the last snapshot (<see cref="RolledBack"/>); an accepted loss is remembered, and at a snapshot step the
        /// state the loss was computed with becomes the snapshot. <paramref name="phase"/>, when given, is called as
        /// each phase ends ("forward", "backward", "clip", "step", "aux"), for profiling.
        /// </summary>
        public double Step(Tensor batch, Action<string>? phase = null)
        {
            // oneDNN only where it was checked: its convolutions are wrong on some machines (see CheckOneDnn).
            using var oneDnn = MkldnnBackend.flags(enabled: OneDnn);
            double value = double.NaN;
            bool spike = false;
            using (NewDisposeScope())
            {
                if (anneal is not null)
                    foreach (QuantizationLayer quantizer in entropyModels) quantizer.alpha = anneal.at(step);
                // Both optimisers' gradients are cleared, as CompressAI's training loop does: the clipping below takes
                // its norm over every parameter, and the quantiles would otherwise still hold the last step's
                // auxiliary gradient, scaling the main gradient by that step's auxiliary loss (and by nothing in a
                // resumed run's first step).
                main.zero_grad();
                aux.zero_grad();
                double lambda = options.Lambda;
                // (A cast and a null test rather than a pattern variable, which mutation testing cannot instrument.)
                var variable = Model as VariableRateHyperprior;
                if (variable is not null)
                {
                    // The levels take turns, batch by batch, each with its own λ.
                    variable.Level = step % VariableRateHyperprior.Lambdas.Count + 1;
                    lambda = VariableRateHyperprior.Lambdas[variable.Level - 1];
                }
                (Tensor loss, _, _) = Loss(Model, batch, lambda);
                phase?.Invoke("forward");
                value = loss.item<float>();
                spike = guard is not null && guard.IsSpike(value, accepted);
                if (!spike)
                {
                    if (guard is not null) Accept(value);
                    loss.backward();
                    phase?.Invoke("backward");
                    double norm = nn.utils.clip_grad_norm_(Model.parameters(), 1.0);
                    phase?.Invoke("clip");
                    // An overflowing gradient would turn every weight into NaN (clipping scales by 1/∞): the step is
                    // skipped, as PyTorch's GradScaler skips one, and counted.
                    if (double.IsFinite(norm)) main.step();
                    else SkippedSteps++;
                    phase?.Invoke("step");
                    Model.aux_loss().backward();
                    aux.step();
                    phase?.Invoke("aux");
                }
            }
            // Outside the dispose scope: the optimisers' restored state must outlive it.
            if (spike)
            {
                if (snapshot is not null) ReadWeights(new BinaryReader(new MemoryStream(snapshot, writable: false)));
                RolledBack++;
            }
            decay.step();
            step++;
            return value;
        }

        // The accepted loss joins the guard's window; at a snapshot step, the state it was computed with is the snapshot.
        private void Accept(double loss)
        {
            accepted.Add(loss);
            if (accepted.Count > guard!.Window) accepted.RemoveAt(0);
            if (step % snapshotEvery == 0) snapshot = Weights();
        }

        // The model's state dict and both optimisers' states, as a checkpoint holds them.
        private byte[] Weights()
        {
            using var content = new MemoryStream();
            using (var writer = new BinaryWriter(content, System.Text.Encoding.UTF8, leaveOpen: true)) WriteWeights(writer);
            return content.ToArray();
        }

        private void WriteWeights(BinaryWriter writer)
        {
            Model.save(writer);
            main.save_state_dict(writer);
            aux.save_state_dict(writer);
        }

        // Reads what WriteWeights wrote. The optimisers' state holds the learning rate it was written with; the rate
        // stays the schedule's (the decay multiplies the rate it finds, so a loaded one would be cut twice or not at all).
        private void ReadWeights(BinaryReader reader)
        {
            double[] rates = main.ParamGroups.Select(g => g.LearningRate).ToArray();
            Model.load(reader);
            main.load_state_dict(reader);
            aux.load_state_dict(reader);
            foreach ((var group, double rate) in main.ParamGroups.Zip(rates)) group.LearningRate = rate;
        }
    }

    /// <summary>The images a run draws its crops from: those at least <paramref name="crop"/> high and wide; the others are left out.</summary>
    public static Tensor[] Usable(IReadOnlyList<Tensor> images, int crop) => images.Where(i => i.shape[2] >= crop && i.shape[3] >= crop).ToArray();

    /// <summary>A crop's place, flip and colour order (an index into the six orders).</summary>
    private readonly record struct CropDraw(Tensor Image, int Top, int Left, bool Flip, int Order, int Size);

    /// <summary>
    /// A random crop's draw: an image, a place, flipped left to right half of the time, with its colour channels in one
    /// of the six orders at random: few of the training photographs are in colour, and without the permutation a long
    /// training learns their hues (measured: 40,000 steps shifted the held-out photographs towards orange and lost
    /// 1.75 dB against 10,000).
    /// </summary>
    private static CropDraw Draw(Tensor[] images, int size, Random random)
    {
        Tensor image = images[random.Next(images.Length)];
        int top = random.Next((int)image.shape[2] - size + 1), left = random.Next((int)image.shape[3] - size + 1);
        return new CropDraw(image, top, left, random.Next(2) == 0, random.Next(Permutations.Length), size);
    }

    /// <summary>The crop a draw describes.</summary>
    private static Tensor Cut(CropDraw d)
    {
        Tensor crop = d.Image[.., .., d.Top..(d.Top + d.Size), d.Left..(d.Left + d.Size)];
        if (d.Flip) crop = crop.flip(3);
        return crop.index_select(1, tensor(Permutations[d.Order]));
    }

    private static readonly long[][] Permutations =
        { new long[] { 0, 1, 2 }, new long[] { 0, 2, 1 }, new long[] { 1, 0, 2 }, new long[] { 1, 2, 0 }, new long[] { 2, 0, 1 }, new long[] { 2, 1, 0 } };
}
