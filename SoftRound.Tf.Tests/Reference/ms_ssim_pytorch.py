"""Writes pytorch_msssim's SSIM and MS-SSIM values and gradients for SoftRound.Tf's tests (MsSsimTests).

Run with PyTorch (2.6 was used; Debian trixie's python3-torch, e.g. in a debootstrap chroot) and pytorch_msssim's
own source (github.com/VainF/pytorch-msssim at b057b07, MIT licence) on the path:

    PYTHONPATH=<folder holding pytorch_msssim> python3 ms_ssim_pytorch.py > ms-ssim-pytorch.json

The images are a formula of (n, c, i, j) computed in float64, so the C# tests rebuild them without a data file. The
references run pytorch_msssim in float64 with the Gaussian window built in float64 (passed as `win`); "float32" is
pytorch_msssim as a user calls it on float32 images (its window built in float32).
"""
import json
import math

import torch
from pytorch_msssim import ms_ssim, ssim


def images(n, c, h, w, scale):
    """x = 127.5 + 60 sin(0.11 i + 0.05 j (c + 1) + n) + 40 cos(0.0074 i j + c); y = x + 25 sin(1.7 i + 2.3 j + 0.5 c + n) + 10 cos(0.23 j - 0.41 i)."""
    N, C, I, J = torch.meshgrid(*(torch.arange(s, dtype=torch.float64) for s in (n, c, h, w)), indexing="ij")
    x = 127.5 + 60 * torch.sin(0.11 * I + 0.05 * J * (C + 1) + N) + 40 * torch.cos(0.0074 * I * J + C)
    y = x + 25 * torch.sin(1.7 * I + 2.3 * J + 0.5 * C + N) + 10 * torch.cos(0.23 * J - 0.41 * I)
    return x * scale, y * scale


def window(size, sigma, channels):
    k = torch.arange(size, dtype=torch.float64) - size // 2
    g = torch.exp(-(k ** 2) / (2 * sigma ** 2))
    return (g / g.sum()).reshape(1, 1, -1).repeat(channels, 1, 1, 1)


cases = []
for name, shape, data_range, size, sigma, weights, k in [
    ("default", (2, 3, 192, 200), 255.0, 11, 1.5, None, (0.01, 0.03)),
    ("odd sides, range 1", (1, 3, 177, 181), 1.0, 11, 1.5, None, (0.01, 0.03)),
    ("three scales", (1, 2, 100, 97), 255.0, 7, 1.0, [0.2, 0.3, 0.5], (0.02, 0.05)),
]:
    x, y = images(*shape, scale=data_range / 255.0)
    win = window(size, sigma, shape[1])
    x.requires_grad_(True)
    m = ms_ssim(x, y, data_range=data_range, size_average=False, win=win, weights=weights, K=k)
    m.sum().backward()
    grad = x.grad.flatten()
    picks = [0, 1, 777, grad.numel() // 2 + 13, grad.numel() - 1]
    s = ssim(x.detach(), y, data_range=data_range, size_average=False, win=win, K=k)
    m32 = ms_ssim(x.detach().float(), y.float(), data_range=data_range, size_average=False, win_size=size, win_sigma=sigma, weights=weights, K=k)
    s32 = ssim(x.detach().float(), y.float(), data_range=data_range, size_average=False, win_size=size, win_sigma=sigma, K=k)
    cases.append({
        "name": name, "shape": list(shape), "data_range": data_range, "win_size": size, "win_sigma": sigma,
        "weights": weights, "k1": k[0], "k2": k[1],
        "ms_ssim": m.tolist(), "ssim": s.tolist(),
        "ms_ssim_float32": m32.double().tolist(), "ssim_float32": s32.double().tolist(),
        "grad_indices": picks, "grad_values": [grad[i].item() for i in picks],
        "grad_sum": grad.sum().item(), "grad_sum_of_squares": (grad ** 2).sum().item(),
    })
print(json.dumps({"torch": torch.__version__, "pytorch_msssim": "b057b07", "cases": cases}, indent=1))
