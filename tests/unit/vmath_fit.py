#!/usr/bin/python3
"""vmath_fit.py: the polynomials of runtime/kernels/vmath.c, fitted again.

Each is a minimax fit (Lawson's iteratively reweighted least squares on
4,000 Chebyshev points, in double) of the smooth part of a function on the
interval vmath.c evaluates it on, weighted so that the error minimised is
the error it makes in the float result.  The coefficients are printed as
floats (9 significant digits round-trip).  tests/unit/test_vmath.c measures
what they give in float arithmetic against libm in double.

    /usr/bin/python3 tests/unit/vmath_fit.py      (needs numpy)
"""
import math

import numpy as np


def lawson(fun, weight, lo, hi, deg, var=lambda x: x, npts=4000, iters=300):
    t = np.cos(np.pi * (np.arange(npts) + 0.5) / npts)
    x = np.concatenate([(lo + hi) / 2 + (hi - lo) / 2 * t, [lo, hi]])
    w = weight(x)
    A = np.vander(var(x), deg + 1, increasing=True) * w[:, None]
    b = np.vectorize(fun)(x) * w
    u = np.full(len(x), 1.0 / len(x))
    for _ in range(iters):
        s = np.sqrt(u)
        c = np.linalg.lstsq(A * s[:, None], b * s, rcond=None)[0]
        e = np.abs(A @ c - b)
        u = u * e / np.sum(u * e)
    return c, float(np.max(np.abs(A @ c - b)))


def show(name, c, err):
    print(f"{name}: max weighted error {err:.2e}")
    print("    " + ", ".join(f"{float(np.float32(k)):.9g}f" for k in c))


LN2_2 = math.log(2) / 2 * 1.02   # |r| of exp's reduction, with room for n off by one rounding
# exp(r) = 1 + r + r^2 P(r): P's absolute error (exp's relative error is r^2 times it)
show("exp P", *lawson(lambda r: (math.expm1(r) - r) / (r * r) if abs(r) > 1e-4 else 0.5 + r / 6 + r * r / 24,
                      np.ones_like, -LN2_2, LN2_2, 4))
# log(1 + f) = f + f^2 Q(f), f in [sqrt(1/2) - 1, sqrt(2) - 1]: relative error of log1p
show("log Q", *lawson(lambda f: (math.log1p(f) - f) / (f * f) if abs(f) > 1e-4 else -0.5 + f / 3 - f * f / 4,
                      lambda f: f * f / np.abs(np.log1p(f)), math.sqrt(0.5) - 1, math.sqrt(2) - 1, 8))
# tanh(x) = x + x^3 T(x^2), |x| < 0.625: relative error of tanh
show("tanh T", *lawson(lambda x: (math.tanh(x) - x) / x ** 3 if x > 1e-3 else -1 / 3 + 2 * x * x / 15,
                       lambda x: x * x, 1e-6, 0.625, 4, var=lambda x: x * x))
# erf(x) = x + x E(x^2), |x| < 0.921875: relative error of erf
show("erf E", *lawson(lambda x: (math.erf(x) - x) / x if x > 1e-4 else 2 / math.sqrt(math.pi) - 1,
                      np.ones_like, 1e-6, 0.921875, 6, var=lambda x: x * x))
# erf(a) = 1 - exp(-a G(a)), 0.921875 <= a <= 4: the error it makes in 1 - erfc
show("erf G", *lawson(lambda a: -math.log(math.erfc(a)) / a,
                      lambda a: a * np.vectorize(math.erfc)(a), 0.921875, 4.0, 5))
