"""Reference values for the densities of SoftRound.Tf.Entropy, evaluated with mpmath at 60 significant digits.

Writes density-reference.csv to stdout. Every input is a float64 (written with repr, so it parses back exactly),
and every output is the exact function of that input, rounded to 20 significant digits. Deterministic.

    python3 generate_densities.py > density-reference.csv
"""
import mpmath as mp

mp.mp.dps = 60
HALF = mp.mpf(1) / 2


def logistic_cdf(z):
    return 1 / (1 + mp.exp(-z))


def normal_cdf(z):
    return mp.erfc(-z / mp.sqrt(2)) / 2


def laplace_cdf(z):
    return mp.exp(z) / 2 if z < 0 else 1 - mp.exp(-z) / 2


def logistic_logpdf(z):
    return -z - 2 * mp.log(1 + mp.exp(-z))


def normal_logpdf(z):
    return -z * z / 2 - mp.log(mp.sqrt(2 * mp.pi))


def laplace_logpdf(z):
    return -abs(z) - mp.log(2)


def logistic_quantile(p):
    return mp.log(p) - mp.log(1 - p)


def normal_quantile(p):
    # Bisection of log Φ(z) = log p on [−40, 40], to far below the 20 digits written.
    if p == HALF:
        return mp.mpf(0)
    lo, hi = mp.mpf(-40), mp.mpf(40)
    for _ in range(260):
        mid = (lo + hi) / 2
        if mp.log(normal_cdf(mid)) < mp.log(p):
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def laplace_quantile(p):
    return mp.log(2 * p) if p < HALF else -mp.log(2 - 2 * p)


DENSITIES = {
    "logistic": (logistic_cdf, logistic_logpdf, logistic_quantile),
    "normal": (normal_cdf, normal_logpdf, normal_quantile),
    "laplace": (laplace_cdf, laplace_logpdf, laplace_quantile),
}
PARAMETERS = [(0.0, 1.0), (0.3, 0.05), (-1.25, 3.7)]
STANDARD = [-50, -37.5, -20, -8.25, -3, -1, -0.4, 0, 0.2, 1.3, 5, 12.5, 30, 50]
PROBABILITIES = [1e-300, 1e-30, 1e-9, 0.01, 0.3, 0.5, 0.7, 0.99, 1 - 1e-9]


def s(v):
    return mp.nstr(v, 20, min_fixed=1, max_fixed=0) if v != 0 else "0"


def survival(cdf, z):
    # S(z) = F(−z) for the symmetric densities.
    return cdf(-z)


def log_cdf(cdf, z):
    # log F(z), from the tail where F is computed without rounding to 1.
    return mp.log(cdf(z)) if z <= 0 else mp.log1p(-cdf(-z))


print("kind,density,loc,scale,input,cdf,log_cdf,log_survival,log_prob,mass,log_mass,quantile")
for name, (cdf, logpdf, quantile) in DENSITIES.items():
    for loc, scale in PARAMETERS:
        m, sc = mp.mpf(loc), mp.mpf(scale)
        for zs in STANDARD:
            x = float(loc + scale * zs)
            z = (mp.mpf(x) - m) / sc
            lo, hi = (mp.mpf(x) - HALF - m) / sc, (mp.mpf(x) + HALF - m) / sc
            # The mass in the tail where it is a difference of small numbers, as 60 digits allow either way.
            mass = cdf(hi) - cdf(lo) if mp.mpf(x) <= m else survival(cdf, lo) - survival(cdf, hi)
            print(",".join(["x", name, repr(loc), repr(scale), repr(x), s(cdf(z)), s(log_cdf(cdf, z)),
                            s(log_cdf(cdf, -z)), s(logpdf(z) - mp.log(sc)), s(mass), s(mp.log(mass)), ""]))
        for p in PROBABILITIES:
            print(",".join(["p", name, repr(loc), repr(scale), repr(p)] + [""] * 6 + [s(m + sc * quantile(mp.mpf(p)))]))
