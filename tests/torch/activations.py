#!/usr/bin/python3
"""activations.py: the elementwise kernels (tests/c/act_dump.c's output on
stdin) against PyTorch in float32: F.sigmoid, torch.tanh, F.relu6,
F.hardswish, F.silu, F.gelu (erf form), F.elu(alpha), torch.clamp,
F.leaky_relu, F.softmax, each forward and its autograd gradient, and the
losses (MSELoss sum / 2n, BCELoss sum / n, CrossEntropyLoss).  Prints
"ok OP" or "FAIL OP: detail" a line; exits with the number of failures.

Tolerance: |a - b| <= 4e-6 max(|a|, |b|) + 1e-6 (forward) and 1e-5 (gradients,
loss); that is, a few float ulps: the kernels' exp, tanh and erf are not
libm's, and PyTorch's own (SLEEF) are not either."""
import sys
from collections import defaultdict

import torch
import torch.nn.functional as F

ALPHA_ELU, LO, HI, ALPHA_LEAKY = 0.7, -1.5, 2.0, 0.1
FUNCS = {
    "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu6": F.relu6, "hardswish": F.hardswish,
    "silu": F.silu, "gelu": F.gelu, "elu": lambda x: F.elu(x, ALPHA_ELU),
    "clip": lambda x: torch.clamp(x, LO, HI), "leaky_relu": lambda x: F.leaky_relu(x, ALPHA_LEAKY),
    "softmax": lambda x: F.softmax(x.reshape(-1, 10), -1).reshape(-1),
}

rows, losses, loss_in = defaultdict(list), {}, []
for line in sys.stdin:
    f = line.split()
    if f[0] == "loss":
        loss_in.append((float(f[1]), float(f[2])))
    elif len(f) == 2:
        losses[f[0]] = float(f[1])
    else:
        rows[f[0]].append([float(v) for v in f[1:]])

failures = 0


def close(a, b, rtol, atol):
    bad = (a - b).abs() > rtol * torch.maximum(a.abs(), b.abs()) + atol
    return int(bad.nonzero()[0]) if bad.any() else -1


for op, fn in FUNCS.items():
    v = torch.tensor(rows[op], dtype=torch.float64)
    x = v[:, 0].float().requires_grad_()
    y = fn(x)
    y.backward(v[:, 1].float())
    i = close(v[:, 2].float(), y.detach(), 4e-6, 1e-6)
    j = close(v[:, 3].float(), x.grad, 4e-6, 1e-5)
    ok = len(v) > 100 and i < 0 and j < 0
    k = i if i >= 0 else j
    print(f"ok {op} ({len(v)} values, forward and gradient)" if ok else
          f"FAIL {op}: x = {v[k, 0]:.9g}: layerc {v[k, 2]:.9g} / {v[k, 3]:.9g}, "
          f"torch {float(y[k]):.9g} / {float(x.grad[k]):.9g}")
    failures += not ok

xt = torch.tensor(loss_in, dtype=torch.float32)
x, t = xt[:, 0], xt[:, 1]
n = len(x) // 10
want = {
    "mse": float(torch.nn.MSELoss(reduction="sum")(x, t)) / (2 * n),
    "bce": float(torch.nn.BCELoss(reduction="sum")(torch.sigmoid(x), t)) / n,
    "cross_entropy": float(torch.nn.CrossEntropyLoss()(x.reshape(n, 10), torch.arange(n) % 10)),
}
for k, w in want.items():
    got = losses.get(k)
    ok = got is not None and abs(got - w) <= 1e-5 * max(1, abs(w))
    print(f"ok {k} loss" if ok else f"FAIL {k} loss: layerc {got}, torch {w}")
    failures += not ok
sys.exit(min(failures, 100))
