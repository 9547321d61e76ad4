"""Makes the CompressAI fixtures of SoftRound.Tf's tests with CompressAI's own code.

Run on PyTorch (Debian's python3-torch) with CompressAI's source and its built C++ extensions on the path; see the
README beside this file. Everything after each model's construction is seeded; the README says what a run reproduces.
"""
import os
import sys

# CompressAI's package imports modules whose third-party libraries these fixtures never use: stand-ins from
# benchmarks/pytorch/compressai_optional.py (on PYTHONPATH) let the import finish.
import compressai_optional  # noqa: E402,F401

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from compressai import ans  # noqa: E402
from compressai._CXX import pmf_to_quantized_cdf  # noqa: E402
from compressai.models.base import get_scale_table  # noqa: E402
from compressai.models.utils import conv  # noqa: E402
from compressai.ops import quantize_ste  # noqa: E402
from compressai.models import (  # noqa: E402
    Cheng2020Anchor,
    Cheng2020AnchorCheckerboard,
    Cheng2020Attention,
    Elic2022Chandelier,
    Elic2022Official,
    FactorizedPrior,
    FactorizedPriorReLU,
    JointAutoregressiveHierarchicalPriors,
    MeanScaleHyperprior,
    ScaleHyperprior,
)

OUT = os.path.dirname(os.path.abspath(__file__))
N, M = 8, 12


def image(seed, h=64, w=64):
    """A smooth random image in [0, 1]: low-resolution noise, upsampled."""
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(1, 3, h // 8, w // 8, generator=g)
    fine = F.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False)
    return (fine + 0.05 * torch.rand(1, 3, h, w, generator=g)).clamp(0, 1)


def perturb(net, seed):
    """Moves every parameter away from its initial value, so that the fixtures exercise more than the init."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in net.named_parameters():
            if name.endswith("quantiles"):
                continue
            p.add_(0.05 * torch.randn(p.shape, generator=g))


def hyper_y_hat(net, x, kind):
    """ŷ and the intermediate tensors of each model's eval forward, as its forward computes them."""
    y = net.g_a(x)
    out = {"y": y}
    if kind == "factorized":
        y_hat, _ = net.entropy_bottleneck(y)
        out["y_hat"] = y_hat
        return out
    z = net.h_a(torch.abs(y) if kind == "scale" else y)
    z_hat, _ = net.entropy_bottleneck(z)
    out["z_hat"] = z_hat
    params = net.h_s(z_hat)
    if kind == "scale":
        out["scales_hat"] = params
        out["y_hat"], _ = net.gaussian_conditional(y, params)
    elif kind == "mean":
        scales, means = params.chunk(2, 1)
        out["scales_hat"], out["means_hat"] = scales, means
        out["y_hat"], _ = net.gaussian_conditional(y, scales, means=means)
    else:
        y_hat = net.gaussian_conditional.quantize(y, "dequantize")
        ctx = net.context_prediction(y_hat)
        scales, means = net.entropy_parameters(torch.cat((params, ctx), dim=1)).chunk(2, 1)
        out["scales_hat"], out["means_hat"], out["y_hat"] = scales, means, y_hat
    return out


def checkerboard_y_hat(net, x):
    """ŷ and the intermediate tensors of the checkerboard model's eval forward (its latent codecs' two passes)."""
    y = net.g_a(x)
    hyper = net.latent_codec.hyper
    z = hyper.h_a(y)
    medians = hyper.entropy_bottleneck._get_medians()
    z_hat = quantize_ste(z - medians) + medians
    side = hyper.h_s(z_hat)
    codec = net.latent_codec.y
    anchor_ctx = torch.zeros_like(codec.context_prediction(y))
    anchor_params = codec.entropy_parameters(torch.cat((anchor_ctx, side), dim=1))
    _, anchor_means = anchor_params.chunk(2, 1)
    y_hat_anchors = codec._keep_only(quantize_ste(y - anchor_means) + anchor_means, "anchor")
    params = codec.entropy_parameters(torch.cat((codec.context_prediction(y_hat_anchors), side), dim=1))
    codec._copy(params, anchor_params, "anchor")
    scales, means = params.chunk(2, 1)
    return {"y": y, "z_hat": z_hat, "scales_hat": scales, "means_hat": means, "y_hat": quantize_ste(y - means) + means}


def elic(cls, groups):
    """An ELIC model (N = 8, M = the groups' sum) whose channel-context networks are 16 and 8 channels wide instead of
    224 and 128 (CompressAI's fixed widths would make a fixture of megabytes): the same layers and the same
    ChannelGroupsLatentCodec code around them, only narrower; SoftRound.Tf's port takes the widths as arguments."""
    net = cls(N=N, M=sum(groups), groups=groups)
    contexts = net.latent_codec["y"].channel_context
    for key in list(contexts.keys()):
        old = contexts[key]
        contexts[key] = torch.nn.Sequential(
            conv(old[0].in_channels, 16, kernel_size=5, stride=1), torch.nn.ReLU(inplace=True),
            conv(16, 8, kernel_size=5, stride=1), torch.nn.ReLU(inplace=True),
            conv(8, old[4].out_channels, kernel_size=5, stride=1))
    return net


def elic_y_hat(net, x):
    """ŷ and each group's scales and means in the eval forward, caught as each group's Gaussian conditional gets them."""
    caught = []
    groups = net.latent_codec["y"].latent_codec
    hooks = [groups[f"y{k}"].y.register_forward_hook(
        lambda module, args, output: caught.append(module._chunk(args[1]))) for k in range(len(groups))]
    y = net.g_a(x)
    out = net.latent_codec(y)
    for h in hooks:
        h.remove()
    return {"y": y, "y_hat": out["y_hat"], "scales_hat": torch.cat([c[0] for c in caught], 1),
            "means_hat": torch.cat([c[1] for c in caught], 1)}


def model_fixture(name, net, kind, seed, scale_table=None):
    torch.manual_seed(seed)
    perturb(net, seed)
    net.eval()
    if name == "bmshj2018-factorized":
        # Before update(): the quantiles the C# search starts from (one model suffices; the search is per bottleneck).
        torch.save(net.state_dict(), os.path.join(OUT, f"{name}.before-update.pt"))
    net.update(scale_table=scale_table, force=True, update_quantiles=True)
    torch.save(net.state_dict(), os.path.join(OUT, f"{name}.pt"))
    x = image(seed)
    with torch.no_grad():
        result = net(x)
        parts = {"checkerboard": checkerboard_y_hat, "elic": elic_y_hat}.get(kind, lambda n, i: hyper_y_hat(n, i, kind))(net, x)
        compressed = net.compress(x)
        # ŷ as CompressAI's decompress hands it to g_s, caught on its way in.
        decoded = []
        hook = net.g_s.register_forward_pre_hook(lambda module, args: decoded.append(args[0].clone()))
        decompressed = net.decompress(compressed["strings"], compressed["shape"])
        hook.remove()
    # The latent codecs' models give the shapes by latent, {"y": (C, h, w), "hyper": (h/4, w/4)}: z's is kept, as the
    # other models give it.
    shape = compressed["shape"]["hyper"] if kind in ("checkerboard", "elic") else compressed["shape"]
    record = {"x": x, "x_hat": result["x_hat"], "x_hat_decompressed": decompressed["x_hat"], "y_hat_decoded": decoded[0],
              "shape": torch.tensor(list(shape), dtype=torch.int64)}
    for k, v in result["likelihoods"].items():
        record[f"likelihoods.{k}"] = v
    record.update(parts)
    # The checkerboard model's streams: ŷ's anchors, ŷ's non-anchors, ẑ.
    # ELIC's: each group's anchors and non-anchors, then ẑ.
    keys = {"checkerboard": ("y", "y_non_anchor", "z"),
            "elic": [f"y.{i}" for i in range(len(compressed["strings"]) - 1)] + ["z"]}.get(kind, "yz")
    for k, v in zip(keys, compressed["strings"]):
        record[f"strings.{k}"] = torch.tensor(list(v[0]), dtype=torch.uint8)
    bottleneck = net.latent_codec.hyper.entropy_bottleneck if kind in ("checkerboard", "elic") else net.entropy_bottleneck
    record["quantiles_searched"] = bottleneck.quantiles.detach()
    # Each tensor in storage of its own: TorchSharp.PyBridge 1.4.4 misreads views at an offset into a shared storage
    # (the halves of chunk()).
    record = {k: v.detach().clone().contiguous() for k, v in record.items()}
    torch.save(record, os.path.join(OUT, f"{name}.io.pt"))


def coder_fixture():
    """CompressAI's rANS coder on hand-picked symbols: values inside the tables, next to them and far outside."""
    g = torch.Generator().manual_seed(7)
    cdfs, lengths, offsets = [], [], []
    for j, n in enumerate((3, 9, 40)):
        pmf = torch.rand(n, generator=g, dtype=torch.float64) + 0.01
        pmf = pmf / pmf.sum() * (1 - 1e-3)
        cdf = pmf_to_quantized_cdf(pmf.tolist() + [1e-3], 16)
        cdfs.append(cdf)
        lengths.append(len(cdf))
        offsets.append(-(n // 2) + j)
    width = max(lengths)
    padded = torch.zeros(len(cdfs), width, dtype=torch.int32)
    for j, cdf in enumerate(cdfs):
        padded[j, : len(cdf)] = torch.tensor(cdf, dtype=torch.int32)
    symbols = [0, 1, -1, 2, 5, -7, 30, -30, 1000, -1000, 70000, -70000, 2**20, -(2**20), 3, 4, 0, 19, -19, 20, -20]
    symbols += torch.randint(-25, 26, (300,), generator=g).tolist()
    indexes = [i % 3 for i in range(len(symbols))]
    stream = ans.RansEncoder().encode_with_indexes(symbols, indexes, padded.tolist(), lengths, offsets)
    buffered = ans.BufferedRansEncoder()
    buffered.encode_with_indexes(symbols[:100], indexes[:100], padded.tolist(), lengths, offsets)
    buffered.encode_with_indexes(symbols[100:], indexes[100:], padded.tolist(), lengths, offsets)
    assert buffered.flush() == stream
    decoder = ans.RansDecoder()
    assert decoder.decode_with_indexes(stream, indexes, padded.tolist(), lengths, offsets) == symbols
    torch.save({
        "cdfs": padded, "lengths": torch.tensor(lengths, dtype=torch.int32), "offsets": torch.tensor(offsets, dtype=torch.int32),
        "symbols": torch.tensor(symbols, dtype=torch.int32), "indexes": torch.tensor(indexes, dtype=torch.int32),
        "stream": torch.tensor(list(stream), dtype=torch.uint8),
    }, os.path.join(OUT, "rans.pt"))

    # pmf_to_quantized_cdf on float32 pmfs, sharp and flat, with the tail as CompressAI appends it.
    rows = []
    for k in range(40):
        n = int(torch.randint(1, 200, (1,), generator=g))
        logits = torch.randn(n, generator=g) * float(k % 8)
        pmf = torch.softmax(logits, 0).to(torch.float32) * (1 - 1e-6)
        rows.append((pmf, pmf_to_quantized_cdf(pmf.tolist() + [1e-6], 16)))
    width = max(len(c) for _, c in rows)
    pmfs = torch.zeros(len(rows), width - 1)
    out = torch.zeros(len(rows), width, dtype=torch.int32)
    for i, (pmf, cdf) in enumerate(rows):
        pmfs[i, : len(pmf)] = pmf
        pmfs[i, len(pmf)] = 1e-6
        out[i, : len(cdf)] = torch.tensor(cdf, dtype=torch.int32)
    torch.save({"pmfs": pmfs, "lengths": torch.tensor([len(p) + 1 for p, _ in rows], dtype=torch.int32), "cdfs": out},
               os.path.join(OUT, "pmf_to_quantized_cdf.pt"))


def non_tensor_fixture():
    """A torch.save'd dictionary with a value that is not a tensor: not a state dict."""
    torch.save({"g_a.0.bias": torch.zeros(2), "epoch": 3}, os.path.join(OUT, "not-a-state-dict.pt"))


# Each fixture by name: what makes it. Cheng et al.'s models have M = N (CompressAI's constructors take N only).
FIXTURES = {
    "bmshj2018-factorized": lambda: model_fixture("bmshj2018-factorized", FactorizedPrior(N, M), "factorized", 1),
    "bmshj2018-hyperprior": lambda: model_fixture("bmshj2018-hyperprior", ScaleHyperprior(N, M), "scale", 2),
    "mbt2018-mean": lambda: model_fixture("mbt2018-mean", MeanScaleHyperprior(N, M), "mean", 3),
    "mbt2018": lambda: model_fixture("mbt2018", JointAutoregressiveHierarchicalPriors(N, M), "joint", 4),
    "bmshj2018-factorized-relu": lambda: model_fixture("bmshj2018-factorized-relu", FactorizedPriorReLU(N, M), "factorized", 5),
    "cheng2020-anchor": lambda: model_fixture("cheng2020-anchor", Cheng2020Anchor(N), "joint", 6),
    "cheng2020-attn": lambda: model_fixture("cheng2020-attn", Cheng2020Attention(N), "joint", 7),
    "cheng2020-anchor-checkerboard": lambda: model_fixture("cheng2020-anchor-checkerboard", Cheng2020AnchorCheckerboard(N), "checkerboard", 8),
    # Chandelier's four groups, so that a channel context sees the first and the latest group, not all before it.
    # ELIC's Gaussian conditionals take a scale table up to 16 (CompressAI's default goes to 256): tables of 64 rows
    # of a few hundred entries rather than 3,000, a group each.
    "elic2022-official": lambda: model_fixture("elic2022-official", elic(Elic2022Official, [2, 2, 4]), "elic", 9,
                                               get_scale_table(max=16)),
    "elic2022-chandelier": lambda: model_fixture("elic2022-chandelier", elic(Elic2022Chandelier, [2, 2, 2, 2]), "elic", 10,
                                                 get_scale_table(max=16)),
    "coder": coder_fixture,
    "not-a-state-dict": non_tensor_fixture,
}

if __name__ == "__main__":
    # The fixtures named on the command line (all without names): a new model's fixture is made without rewriting
    # the others' files.
    torch.set_num_threads(1)
    for name in sys.argv[1:] or FIXTURES:
        FIXTURES[name]()
    print("torch", torch.__version__)
