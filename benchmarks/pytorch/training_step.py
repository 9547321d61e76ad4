"""The training steps of SoftRound.Tf's two examples written in plain PyTorch, as a speed anchor.

One step of the image codec (factorized prior, N = 32, M = 48, batch 8×3×128×128, soft round + noise or uniform
noise, R + λ·D, clipping, Adam, the bottleneck's auxiliary Adam) and of the QAT example (the small CNN in float and
with 4-bit learned-step fake quantization on PyTorch's own learnable fake-quantize ops), eager and under
torch.compile. The layers follow CompressAI's formulation (GDN as a 1×1 convolution of x², the entropy bottleneck's
factorized density); the C# side is benchmarks/SoftRound.Tf.Benchmarks (CodecTrainingStepBenchmark,
QatTrainingStepBenchmark, --profile). See README.md in this folder for how to run it.
"""
import argparse
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class _LowerBound(torch.autograd.Function):
    """max(x, b); the gradient passes where x ≥ b or where it would push x up."""

    @staticmethod
    def forward(ctx, x, bound):
        ctx.save_for_backward(x, bound)
        return torch.max(x, bound)

    @staticmethod
    def backward(ctx, grad):
        x, bound = ctx.saved_tensors
        return grad * ((x >= bound) | (grad < 0)).to(grad.dtype), None


def lower_bound(x, b):
    return _LowerBound.apply(x, torch.tensor(b, dtype=x.dtype))


class NonNegative:
    """w = max(v, √(minimum + p))² − p with pedestal p = 2⁻³⁶."""

    def __init__(self, minimum=0.0):
        self.pedestal = 2.0 ** -36
        self.bound = math.sqrt(minimum + self.pedestal)

    def init(self, w):
        return torch.sqrt(torch.clamp(w + self.pedestal, min=self.pedestal))

    def __call__(self, v):
        return lower_bound(v, self.bound) ** 2 - self.pedestal


class GDN(nn.Module):
    def __init__(self, channels, inverse=False):
        super().__init__()
        self.inverse = inverse
        self.beta_reparam, self.gamma_reparam = NonNegative(1e-6), NonNegative()
        self.beta = nn.Parameter(self.beta_reparam.init(torch.ones(channels)))
        self.gamma = nn.Parameter(self.gamma_reparam.init(0.1 * torch.eye(channels)))

    def forward(self, x):
        c = x.shape[1]
        norm = F.conv2d(x * x, self.gamma_reparam(self.gamma).reshape(c, c, 1, 1), self.beta_reparam(self.beta))
        return x * torch.sqrt(norm) if self.inverse else x * torch.rsqrt(norm)


def soft_round(x, alpha):
    m = torch.floor(x) + 0.5
    return m + torch.tanh(alpha * (x - m)) / (2 * math.tanh(alpha / 2))


def soft_round_inverse(y, alpha):
    m = torch.floor(y) + 0.5
    return m + torch.atanh((y - m) * (2 * math.tanh(alpha / 2))) / alpha


class EntropyBottleneck(nn.Module):
    """The factorized density of Ballé et al. 2018 with filters (3, 3, 3, 3), as CompressAI's."""

    def __init__(self, channels, mode, alpha, init_scale=10.0, filters=(3, 3, 3, 3), tail_mass=1e-9):
        super().__init__()
        self.mode, self.alpha = mode, alpha
        widths = (1,) + filters + (1,)
        scale = init_scale ** (1 / (len(filters) + 1))
        self.matrices, self.biases, self.factors = nn.ParameterList(), nn.ParameterList(), nn.ParameterList()
        for i in range(len(filters) + 1):
            init = math.log(math.expm1(1 / scale / widths[i + 1]))
            self.matrices.append(nn.Parameter(torch.full((channels, widths[i + 1], widths[i]), init)))
            self.biases.append(nn.Parameter(torch.rand(channels, widths[i + 1], 1) - 0.5))
            if i < len(filters):
                self.factors.append(nn.Parameter(torch.zeros(channels, widths[i + 1], 1)))
        self.quantiles = nn.Parameter(torch.tensor([-init_scale, 0.0, init_scale]).repeat(channels, 1, 1))
        t = math.log(2 / tail_mass - 1)
        self.register_buffer("target", torch.tensor([-t, 0.0, t]))

    def logits_cumulative(self, x, stop_gradient=False):
        for i, matrix in enumerate(self.matrices):
            matrix, bias = F.softplus(matrix), self.biases[i]
            if stop_gradient:
                matrix, bias = matrix.detach(), bias.detach()
            x = torch.matmul(matrix, x) + bias
            if i < len(self.factors):
                factor = self.factors[i].detach() if stop_gradient else self.factors[i]
                x = x + torch.tanh(factor) * torch.tanh(x)
        return x

    def mass(self, lower, upper):
        below, above = self.logits_cumulative(lower), self.logits_cumulative(upper)
        sign = -torch.sign(below + above).detach()
        return torch.abs(torch.sigmoid(sign * above) - torch.sigmoid(sign * below))

    def forward(self, y):
        c = y.shape[1]
        values = y.transpose(0, 1).reshape(c, 1, -1)
        m = self.quantiles[:, :, 1:2].detach()
        noise = torch.rand_like(values) - 0.5
        if self.mode == "SoftRoundNoise":
            outputs = soft_round(values - m, self.alpha) + noise + m
            centred = outputs - m
            p = self.mass(soft_round_inverse(centred - 0.5, self.alpha) + m, soft_round_inverse(centred + 0.5, self.alpha) + m)
        else:
            outputs = values + noise
            p = self.mass(outputs - 0.5, outputs + 0.5)
        p = lower_bound(p, 1e-9)

        def back(t):
            return t.reshape(c, y.shape[0], *y.shape[2:]).transpose(0, 1).contiguous()

        return back(outputs), back(p)

    def loss(self):
        return torch.abs(self.logits_cumulative(self.quantiles, stop_gradient=True) - self.target).sum()


class FactorizedPrior(nn.Module):
    def __init__(self, n, m, mode, alpha):
        super().__init__()

        def conv(i, o):
            return nn.Conv2d(i, o, 5, stride=2, padding=2)

        def deconv(i, o):
            return nn.ConvTranspose2d(i, o, 5, stride=2, padding=2, output_padding=1)

        self.g_a = nn.Sequential(conv(3, n), GDN(n), conv(n, n), GDN(n), conv(n, n), GDN(n), conv(n, m))
        self.g_s = nn.Sequential(deconv(m, n), GDN(n, True), deconv(n, n), GDN(n, True), deconv(n, n), GDN(n, True), deconv(n, 3))
        self.entropy_bottleneck = EntropyBottleneck(m, mode, alpha)

    def forward(self, x):
        y_hat, likelihoods = self.entropy_bottleneck(self.g_a(x))
        return self.g_s(y_hat), likelihoods


def rate_distortion_step(model, compile_model, outputs, aux_loss):
    """One step of R + λ·D (λ = 0.0067, D on [0, 255]²) on a fixed batch of 8×3×128×128: Adam on everything but the
    quantiles (its learning rate on CompressAI's schedule), clipping at norm 1, then the auxiliary loss's Adam step.
    outputs(model(x)) gives (x̂, the likelihood tensors)."""
    model.train()
    named = list(model.named_parameters())
    main = torch.optim.Adam([p for n, p in named if not n.endswith("quantiles")], lr=1e-3)
    decay = torch.optim.lr_scheduler.MultiStepLR(main, [800_000], 0.1)
    aux = torch.optim.Adam([p for n, p in named if n.endswith("quantiles")], lr=1e-3)
    forward = torch.compile(model) if compile_model else model
    x = torch.rand(8, 3, 128, 128)
    lam = 0.0067

    def step():
        main.zero_grad()
        x_hat, likelihoods = outputs(forward(x))
        bpp = sum(torch.log(l).sum() for l in likelihoods) / (-math.log(2) * 8 * 128 * 128)
        mse = F.mse_loss(x_hat, x)
        loss = mse * (lam * 255 * 255) + bpp
        bpp.item(), mse.item()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        main.step()
        decay.step()
        aux.zero_grad()
        aux_loss().backward()
        aux.step()
        return loss.item()

    return step


def codec_step(mode, compile_model):
    torch.manual_seed(1)
    model = FactorizedPrior(32, 48, mode, 1.0)
    return rate_distortion_step(model, compile_model, lambda out: (out[0], [out[1]]), model.entropy_bottleneck.loss)


def mean_scale_step(compile_model):
    """CompressAI's own MeanScaleHyperprior (N = 32, M = 48, uniform noise), trained as codec_step trains its model."""
    import compressai_optional  # noqa: F401 (stand-ins for CompressAI's optional imports)
    from compressai.models import MeanScaleHyperprior
    torch.manual_seed(1)
    model = MeanScaleHyperprior(32, 48)
    return rate_distortion_step(model, compile_model, lambda out: (out["x_hat"], out["likelihoods"].values()), model.aux_loss)


def cnn():
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32 * 7 * 7, 10))


class FakeQuantized(nn.Module):
    """A conv or linear layer with 4-bit learned-step (LSQ) fake quantization of its weights (per output channel,
    signed symmetric) and its input (per tensor, unsigned; the image at 8 bits), on PyTorch's learnable ops."""

    def __init__(self, layer, first, images):
        super().__init__()
        self.layer = layer
        self.in_max = 255 if first else 15
        w = layer.weight.detach()
        self.w_scale = nn.Parameter((w.reshape(w.shape[0], -1).abs().mean(1) * 2 / math.sqrt(7)).clamp(min=1e-8))
        self.w_zero = torch.zeros(w.shape[0])
        self.x_scale = nn.Parameter(torch.tensor([float(images.abs().mean() * 2 / math.sqrt(self.in_max))]))
        self.x_zero = torch.zeros(1)

    def forward(self, x):
        x = torch._fake_quantize_learnable_per_tensor_affine(x, self.x_scale, self.x_zero, 0, self.in_max,
                                                             1 / math.sqrt(x.numel() * self.in_max))
        w = self.layer.weight
        w = torch._fake_quantize_learnable_per_channel_affine(w, self.w_scale, self.w_zero, 0, -8, 7,
                                                              1 / math.sqrt(w.numel() / w.shape[0] * 7))
        if isinstance(self.layer, nn.Conv2d):
            return F.conv2d(x, w, self.layer.bias, padding=1)
        return F.linear(x, w, self.layer.bias)


def qat_step(quantized, compile_model):
    torch.manual_seed(1)
    images, labels = torch.rand(128, 1, 28, 28), torch.randint(0, 10, (128,))
    model = cnn()
    if quantized:
        model = nn.Sequential(*[FakeQuantized(m, i == 0, images) if isinstance(m, (nn.Conv2d, nn.Linear)) else m
                                for i, m in enumerate(model)])
    model.train()
    adam = torch.optim.Adam(model.parameters(), 5e-4)
    forward = torch.compile(model) if compile_model else model

    def step():
        adam.zero_grad()
        F.cross_entropy(forward(images), labels).backward()
        adam.step()

    return step


def measure(step, repeats, warmup):
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--no-compile", action="store_true", help="eager only")
    parser.add_argument("--profile", action="store_true", help="print torch.profiler's table for each eager step")
    parser.add_argument("--no-mkldnn", action="store_true", help="oneDNN off, as the C# codec step runs")
    parser.add_argument("--mean-scale", action="store_true", help="add CompressAI's MeanScaleHyperprior (compressai on PYTHONPATH)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.backends.mkldnn.enabled = not args.no_mkldnn
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads, CPU capability {torch.backends.cpu.get_cpu_capability()}, oneDNN {'off' if args.no_mkldnn else 'on'}")
    cases = [("codec, soft round + noise", lambda c: codec_step("SoftRoundNoise", c)),
             ("codec, uniform noise", lambda c: codec_step("UniformNoise", c)),
             ("QAT CNN, float", lambda c: qat_step(False, c)),
             ("QAT CNN, 4-bit LSQ straight-through", lambda c: qat_step(True, c))]
    if args.mean_scale:
        cases.insert(2, ("codec, mean-scale hyperprior (CompressAI's), uniform noise", lambda c: mean_scale_step(c)))
    print("| step | eager median ms | eager steps/s | torch.compile median ms | torch.compile steps/s |")
    print("|---|---:|---:|---:|---:|")
    for name, make in cases:
        eager, _ = measure(make(False), args.repeats, 5)
        compiled = None if args.no_compile else measure(make(True), args.repeats, 5)[0]
        tail = "n/a | n/a" if compiled is None else f"{compiled:.2f} | {1000 / compiled:.1f}"
        print(f"| {name} | {eager:.2f} | {1000 / eager:.1f} | {tail} |", flush=True)
    if args.profile:
        for name, make in cases:
            step = make(False)
            measure(step, 3, 3)
            with torch.profiler.profile() as prof:
                for _ in range(10):
                    step()
            print(f"\n{name}: torch.profiler, 10 steps")
            print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15))


if __name__ == "__main__":
    main()
