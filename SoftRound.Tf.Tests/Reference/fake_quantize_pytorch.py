"""Writes PyTorch's learnable fake-quantize values and gradients for SoftRound.Tf's tests.

Run with PyTorch (2.6 was used; Debian trixie's python3-torch, e.g. in a debootstrap chroot):

    python3 fake_quantize_pytorch.py > fake-quantize-pytorch.json

Every case draws x and the incoming gradient from a fixed seed, adds the points where rounding ties (u = k + 1/2
exactly) and the edges of the grid, and records y = fq(x), dx, the scale's and the zero point's gradients. The zero
points avoid ties and values below -1/2, where PyTorch's backward pass rounds them differently from its forward pass.
"""
import json
import torch

torch.manual_seed(20261128)


def points(scale, qmin, qmax, zero, n):
    """x where rounding ties, at the grid's edges and just past them, then random normals spanning the grid."""
    s = float(scale)
    edges = [qmin - zero, qmax - zero]
    special = []
    for e in edges:
        for d in (-1.5, -0.5, -0.25, 0.0, 0.25, 0.5, 1.5):
            special.append((e + d) * s)
    for k in range(-3, 3):
        special.append((k + 0.5) * s)
    special += [0.0, -0.0]
    spread = (qmax - qmin) * s / 4
    rest = (torch.randn(n - len(special)) * spread + (qmin + qmax) / 2 * s - zero * s).tolist()
    return special + rest


def per_tensor(name, bits_min, bits_max, scale, zero, n=160, dtype=torch.float32):
    x = torch.tensor(points(scale, bits_min, bits_max, round(zero), n), dtype=dtype, requires_grad=True)
    s = torch.tensor([scale], dtype=torch.float32, requires_grad=True)
    z = torch.tensor([zero], dtype=torch.float32, requires_grad=True)
    g = 1.0 / (x.numel() * bits_max) ** 0.5
    y = torch._fake_quantize_learnable_per_tensor_affine(x, s, z, bits_min, bits_max, g)
    dy = torch.randn(x.shape, dtype=dtype)
    y.backward(dy)
    return dict(name=name, axis=None, shape=list(x.shape), qmin=bits_min, qmax=bits_max, grad_scale=g,
                scale=s.detach().tolist(), zero_point=z.detach().tolist(), x=x.detach().tolist(), dy=dy.tolist(),
                y=y.detach().tolist(), dx=x.grad.tolist(), dscale=s.grad.tolist(), dzero=z.grad.tolist())


def per_channel(name, bits_min, bits_max, scales, zeros, shape, axis):
    c = shape[axis]
    x = torch.randn(shape)
    # Ties and edges in the first slice of each channel.
    for ch in range(c):
        idx = [slice(None)] * len(shape)
        idx[axis] = ch
        flat = x[tuple(idx)].reshape(-1)
        sp = points(scales[ch], bits_min, bits_max, round(zeros[ch]), flat.numel() + 40)[:flat.numel()]
        x[tuple(idx)] = torch.tensor(sp).reshape(x[tuple(idx)].shape)
    x.requires_grad_(True)
    s = torch.tensor(scales, requires_grad=True)
    z = torch.tensor(zeros, requires_grad=True)
    g = 1.0 / (x.numel() * bits_max) ** 0.5
    y = torch._fake_quantize_learnable_per_channel_affine(x, s, z, axis, bits_min, bits_max, g)
    dy = torch.randn(shape)
    y.backward(dy)
    return dict(name=name, axis=axis, shape=list(shape), qmin=bits_min, qmax=bits_max, grad_scale=g,
                scale=s.detach().tolist(), zero_point=z.detach().tolist(), x=x.detach().reshape(-1).tolist(),
                dy=dy.reshape(-1).tolist(), y=y.detach().reshape(-1).tolist(), dx=x.grad.reshape(-1).tolist(),
                dscale=s.grad.tolist(), dzero=z.grad.tolist())


cases = [
    per_tensor("int8 symmetric, s = 0.25", -128, 127, 0.25, 0.0),
    per_tensor("int8 symmetric, s = 0.1", -128, 127, 0.1, 0.0),
    per_tensor("uint8 affine, s = 0.037, z = 3.3", 0, 255, 0.037, 3.3),
    per_tensor("int4 symmetric, s = 0.3", -8, 7, 0.3, 0.0),
    per_tensor("int4 narrow, s = 0.45", -7, 7, 0.45, 0.0),
    per_tensor("uint4 affine, s = 0.2, z = 6.7", 0, 15, 0.2, 6.7),
    per_tensor("int2 symmetric, s = 0.8", -2, 1, 0.8, 0.0),
    per_tensor("int16 symmetric, s = 0.001", -32768, 32767, 0.001, 0.0),
    per_channel("int8 per channel, axis 0", -128, 127, [0.1, 0.25, 0.05, 0.5], [0.0, 0.0, 0.0, 0.0], (4, 6, 3), 0),
    per_channel("uint4 affine per channel, axis 1", 0, 15, [0.2, 0.07, 0.9], [1.2, 7.0, 12.6], (5, 3, 4), 1),
    per_channel("int4 per channel, axis 2", -8, 7, [0.3, 0.11], [0.0, 0.0], (3, 4, 2), 2),
]
print(json.dumps(dict(generator="fake_quantize_pytorch.py", torch=torch.__version__, cases=cases)))
