#!/usr/bin/env python3
"""Writes accuracy-reference.csv: the rounding ops evaluated with 150 significant digits with mpmath.

Each row is one input that is exactly representable in its dtype (float32 or float64), the steepness (k for
differentiable_round, alpha for the soft-round family; also exactly representable), and the exact value and
derivative dy/dx of the op at that input, to 20 significant digits. The C# tests read the table and measure the
library's error in ulps of the dtype. Run from this folder with Debian's python3 and python3-mpmath:

    python3 generate.py > accuracy-reference.csv
"""
import random
import struct

from mpmath import mp, mpf, floor, exp, tanh, atanh, sinh, cosh, log

mp.dps = 150


def f32(x):
    return struct.unpack('f', struct.pack('f', x))[0]


def sigmoid(z):
    return 1 / (1 + exp(-z))


def differentiable_round(x, k):
    f = floor(x)
    z = k * (x - f - mpf('0.5'))
    return f + sigmoid(z), k * sigmoid(z) * sigmoid(-z)


def soft_round(x, a):
    m = floor(x) + mpf('0.5')
    r = x - m
    d = 2 * tanh(a / 2)
    return m + tanh(a * r) / d, a / cosh(a * r) ** 2 / d


def soft_round_inverse(y, a):
    if y == floor(y):  # an integer maps to itself (the formula reaches it only as atanh(±1)/α)
        return y, sinh(a) / a
    m = floor(y) + mpf('0.5')
    s = 2 * (y - m) * tanh(a / 2)
    return m + atanh(s) / a, 2 * tanh(a / 2) / (a * (1 - s * s))


def conditional_mean(y, a):
    x, dx = soft_round_inverse(y - mpf('0.5'), a)
    return x + mpf('0.5'), dx


OPS = {
    'differentiable_round': (differentiable_round, [1.0, 10.0, 50.0]),
    'soft_round': (soft_round, [1.0, 5.0, 16.0, 50.0]),
    # 100 and 800: where 2·sinh(α) overflows float32 and float64, so the library takes its other form.
    'soft_round_inverse': (soft_round_inverse, [1.0, 5.0, 16.0, 50.0, 100.0, 800.0]),
    'soft_round_conditional_mean': (conditional_mean, [1.0, 5.0, 16.0, 50.0]),
}


def inputs(dtype, rng):
    cast = f32 if dtype == 'float32' else float
    ulp_one = 2.0 ** -23 if dtype == 'float32' else 2.0 ** -52
    points = set()
    for n in [-7, -3, -2, -1, 0, 1, 2, 3, 7, 100]:
        for base in (n, n + 0.5):
            for delta in (0, ulp_one, 4 * ulp_one, 1e-6, 1e-4, 1e-3, 0.01, 0.03, 0.1, 0.16, 0.2, 0.3, 0.45):
                points.add(cast(base + delta))
                points.add(cast(base - delta))
    for _ in range(120):
        points.add(cast(rng.uniform(-4, 4)))
    for x in (1e-30, -1e-30, 1e-9, -1e-9):
        points.add(cast(x))
    return sorted(points)


def main():
    rng = random.Random(20261128)
    print('op,dtype,steepness,x,value,derivative')
    for dtype in ('float32', 'float64'):
        xs = inputs(dtype, rng)
        for name, (op, steepnesses) in OPS.items():
            for s in steepnesses:
                # 1 − tanh(α/2) is about e^(−α): keep 150 digits beyond it.
                mp.dps = 150 + int(s)
                for x in xs:
                    value, derivative = op(mpf(x), mpf(s))
                    print(f'{name},{dtype},{s!r},{x!r},{mp.nstr(value, 20)},{mp.nstr(derivative, 20)}')


if __name__ == '__main__':
    main()
