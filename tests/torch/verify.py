#!/usr/bin/python3
"""verify.py: layerc's numbers against PyTorch, for every op, loss and optimizer.

Run from the repository root with Debian's Python (it has python3-torch):
    /usr/bin/python3 tests/torch/verify.py            # everything (make test-torch)
    /usr/bin/python3 tests/torch/verify.py --quick    # the subset `make test` runs
Options: --quick, --report (write docs/VERIFICATION.md on a --quick run too),
--no-report, --only SUBSTRING, --jobs N, --keep (keep the temporary directory).

For every case (cases.py):
 1. the model is written as .lyr, compiled by `./layerc m.lyr -o m.c`, and
    built with gcc -std=c99 -O2 against driver.c, which uses only the public
    API (SPEC §3): NAME_init, NAME_forward, NAME_loss, NAME_backward,
    NAME_train_step, the NAME_params table and the params[]/grads[] arrays;
 2. a PyTorch twin (netdef.py) gets the C side's initial weights and the same
    batch, and computes outputs, loss and gradients in float32, then runs 3
    steps of torch.optim.SGD/Adam/RMSprop/Adadelta;
 3. outputs, loss, every gradient, the losses of 3 train_steps and the
    weights after each are compared (tolerance below);
 4. the JIT: `layerc predict --weights` must give the AOT outputs, and
    `layerc train --weights --save` for 3 epochs (shuffle = 0, batch = all
    rows, so 3 steps) must give the AOT weights after 3 train_steps.
The last line is `torch: N passed, M failed`; the exit status is 1 if any failed.
"""
import argparse
import concurrent.futures
import datetime
import os
import platform
import shutil
import struct
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True     # leave no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

import cases as C  # noqa: E402
import lyw  # noqa: E402
from netdef import Twin  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
LAYERC = os.path.join(ROOT, "layerc")
DRIVER = os.path.join(HERE, "driver.c")
STEPS = 3

# ---------------------------------------------------------------- tolerance
#
# Two float32 values a (layerc) and b (torch, float32) agree when
#     |a - b| <= RTOL * max(|a|, |b|) + atol,      RTOL = 1e-5,
# where the absolute floor atol is the larger of
#  (1) FLOOR = 1e-6 times the scale of the quantity: the largest |b| of the
#      tensor compared (outputs, loss), for weights the largest value of the
#      tensor over the run (initial or after any step: a weight after steps
#      is p0 minus the updates, and is small when they cancel), for
#      gradients the largest
#      gradient of the whole model at that step times
#      rho = (max|y| + max|t|) / max|y - t| (>= 1; y the output layer, t the
#      truth).  Each element is a float32 sum (a dot product, a convolution,
#      a sum over the batch and the positions of a convolution) whose
#      rounding error is a few eps32 (6e-8) times the sum of the magnitudes
#      of its terms -- the scale of the tensor, not the size of the element
#      when its terms cancel.  Gradients are sums of products of activations
#      and the residuals y - t (mse) or p - t (cross_entropy, bce), and a
#      residual carries the rounding error of y, eps32 |y|, not eps32 |y - t|:
#      once training has brought y near t, the gradients shrink by rho but
#      their absolute rounding error does not.  1e-6 is ~16 eps32: sums of up
#      to a few hundred terms.
#  (2) SENS = 4 times torch's own float32 error on that element: the largest
#      |torch float32 - torch float64| over SENS_RUNS + 1 runs, the plain one
#      and runs with every input, truth and weight value moved by a relative
#      +-2^-24 (one float32 rounding), which reshuffles all later roundings.
#      This covers values made by cancellation, whose relative error is
#      unbounded in any float32 implementation: y - t when y ~ t, a bias
#      gradient sum_b (p_b - t_b)/n, log-softmax of a near-certain class,
#      gradients after 3 steps that amplify the rounding of the updates.
#      Example: concat3_shapes, step 3, grad o.W[205]: layerc -6.32711e-4,
#      torch float32 -6.32814e-4, float64 -6.32762e-4 -- both 5e-8 off, a
#      1.6e-4 relative difference between two equally right results.  A
#      layerc bug moves a value by far more than 4 float32 roundings.
# Both are scales of the computation, never constants: well-conditioned
# values are compared to 1e-5 relative.  The error printed per case is
# |a - b| / (max(|a|, |b|) + atol / RTOL), a relative error that counts values
# below the floor as the floor; a case passes when it is <= 1e-5 everywhere.
# JIT vs AOT (two float32 builds: gcc -O2 and tcc with layerc's -O3
# kernels, the set chosen for the CPU) uses the same rule.  No case needs more.
RTOL = 1e-5
FLOOR = 1e-6
SENS = 4
SENS_RUNS = 3


class Cmp:
    """The comparisons of one case, grouped for the report."""
    GROUPS = ("out", "grad", "step", "jit")

    def __init__(self):
        self.worst = {g: 0.0 for g in self.GROUPS}
        self.fails = []

    def check(self, group, label, a, b, scale=None, sens=None):
        """scale: what the floor is a fraction of (default: max |b|);
        sens: per element, how far b moves when its inputs are rounded
        differently (twin_run with rng); the floor is at least SENS times it."""
        a = np.asarray(a, dtype=np.float64).ravel()
        b = np.asarray(b, dtype=np.float64).ravel()
        if a.shape != b.shape:
            self.fails.append(f"{label}: {a.size} values, torch/reference has {b.size}")
            return
        sens = np.zeros_like(b) if sens is None else np.asarray(sens, dtype=np.float64).ravel()
        if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
            bad = ~(np.isfinite(a) & np.isfinite(b))
            if not np.array_equal(a[bad], b[bad], equal_nan=True):
                self.fails.append(f"{label}: non-finite values differ: {a[bad][:4]} vs {b[bad][:4]}")
                return
            a, b, sens = a[~bad], b[~bad], sens[~bad]
        if a.size == 0:
            return
        atol = FLOOR * (np.max(np.abs(b)) if scale is None else scale)
        atol = np.maximum(atol, SENS * np.nan_to_num(sens))
        denom = np.maximum(np.abs(a), np.abs(b)) + atol / RTOL
        err = np.abs(a - b) / np.where(denom > 0, denom, 1)
        i = int(np.argmax(err))
        worst = float(err[i])
        self.worst[group] = max(self.worst[group], worst)
        if worst > RTOL:
            nbad = int(np.sum(err > RTOL))
            self.fails.append(f"{label}: {nbad}/{a.size} beyond tolerance, worst [{i}] "
                              f"{a[i]:.9g} vs {b[i]:.9g} (rel err {worst:.3g}, floor {atol[i]:.3g})")

    def flag(self, ok, label):
        if not ok:
            self.fails.append(label)

    def worst_all(self):
        return max(self.worst.values())


# ------------------------------------------------------------ the C side

class CRun:
    """What the driver and the JIT produced for one case."""
    error = None


def sh(cmd, cwd=None, timeout=300):
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def fmt32(v):
    """A float32 as the shortest decimal that reads back as the same float32."""
    return repr(float(np.float32(v))) if float(v) != int(v) or abs(v) >= 1e15 else str(int(v))


def c_side(case, tmp):
    r = CRun()
    net = case.net
    d = os.path.join(tmp, case.name)
    os.makedirs(d)
    r.dir = d
    lyr = os.path.join(d, "m.lyr")
    with open(lyr, "w") as f:
        f.write(net.lyr())
    rc, out, err = sh([LAYERC, lyr, "-o", os.path.join(d, "m.c")])
    if rc != 0:
        r.error = f"layerc -o failed ({rc}): {err.strip()[:800]}"
        return r
    exe = os.path.join(d, "drv")
    rc, out, err = sh(["gcc", "-std=c99", "-O2", "-I", d, f"-DMODEL={net.name}", '-DHDR="m.h"',
                       DRIVER, os.path.join(d, "m.c"), "-o", exe, "-lm"])
    if rc != 0:
        r.error = f"gcc failed: {err.strip()[:800]}"
        return r
    rc, out, err = sh([exe, "-", "-", "0", "-1"])
    if rc != 0:
        r.error = f"driver (table) failed: {err.strip()[:400]}"
        return r
    lines = out.split("\n")
    r.P, r.IN, r.OUT, r.BATCH, nt = map(int, lines[0].split())
    r.table = []
    for ln in lines[1:1 + nt]:
        f = ln.split()
        r.table.append(dict(name=f[0], offset=int(f[1]), size=int(f[2]), trainable=int(f[3]),
                            dims=[int(v) for v in f[5:5 + int(f[4])]]))
    n = case.n
    if r.IN != net.in_size or r.OUT != net.out_size:
        r.error = f"IN/OUT = {r.IN}/{r.OUT}, expected {net.in_size}/{net.out_size}"
        return r

    # the input file: n, has_params, x, truth[, params]
    def write_input(path, params):
        with open(path, "wb") as f:
            f.write(struct.pack("<ii", n, 0 if params is None else 1))
            f.write(case.x.astype("<f4").tobytes())
            f.write(case.truth.astype("<f4").reshape(n, -1).tobytes())
            if params is not None:
                f.write(params.astype("<f4").tobytes())
    inb = os.path.join(d, "in.bin")
    if case.params:
        # the weights the case sets replace NAME_init's; the others keep them
        write_input(inb, None)
        rc, _, err = sh([exe, inb, os.path.join(d, "init.bin"), str(net.seed), "0"])
        if rc != 0:
            r.error = f"driver failed ({rc}): {err.strip()[:400]}"
            return r
        p = np.fromfile(os.path.join(d, "init.bin"), dtype="<f4", count=r.P).copy()
        names = {t["name"]: t for t in r.table}
        for k, val in case.params.items():
            t = names[k]
            p[t["offset"]:t["offset"] + t["size"]] = np.asarray(val, dtype=np.float32).ravel()
        write_input(inb, p)
    else:
        write_input(inb, None)

    outb = os.path.join(d, "out.bin")
    rc, _, err = sh([exe, inb, outb, str(net.seed), str(STEPS)])
    if rc != 0:
        r.error = f"driver failed ({rc}): {err.strip()[:400]}"
        return r
    v = np.fromfile(outb, dtype="<f4")
    P, k = r.P, n * r.OUT
    want = P + 2 * k + 1 + P + STEPS * (1 + 2 * P)
    if v.size != want:
        r.error = f"driver wrote {v.size} floats, expected {want}"
        return r
    at = 0

    def take(m):
        nonlocal at
        at += m
        return v[at - m:at].astype(np.float64)
    r.params0 = take(P)
    r.y = take(k).reshape(n, r.OUT)
    r.y1 = take(k).reshape(n, r.OUT)
    r.loss = float(take(1)[0])
    r.grads = take(P)
    r.steps = []
    for _ in range(STEPS):
        r.steps.append(dict(loss=float(take(1)[0]), grads=take(P), params=take(P)))

    # ---- the JIT, from the same initial weights
    w0 = os.path.join(d, "init.lyw")
    lyw.write(w0, [(t["name"], t["dims"], r.params0[t["offset"]:t["offset"] + t["size"]]) for t in r.table])
    csv = os.path.join(d, "data.csv")
    with open(csv, "w") as f:
        xs = case.x.reshape(n, -1)
        ts = case.truth.reshape(n, -1)
        for i in range(n):
            row = [fmt32(u) for u in xs[i]]
            if net.loss == "cross_entropy":
                row.append(str(int(np.argmax(ts[i]))))
            else:
                row += [fmt32(u) for u in ts[i]]
            f.write(",".join(row) + "\n")
    rc, out, err = sh([LAYERC, "predict", lyr, csv, "--weights", w0])
    if rc != 0:
        r.jit_error = f"layerc predict failed ({rc}): {err.strip()[:400]}"
    else:
        try:
            r.jit_y = np.array([[float(u) for u in ln.split(",")] for ln in out.split("\n") if ln.strip()])
        except ValueError:
            r.jit_y = None
            r.jit_error = f"layerc predict printed: {out[:200]!r}"
    w3 = os.path.join(d, "trained.lyw")
    rc, out, err = sh([LAYERC, "train", lyr, csv, "--weights", w0, "--save", w3, "--epochs", str(STEPS),
                       "--batch", str(n), "--quiet"])
    if rc != 0:
        r.jit_train_error = f"layerc train failed ({rc}): {err.strip()[:400]}"
    else:
        try:
            r.jit_params = lyw.read(w3)
        except (ValueError, OSError) as e:
            r.jit_train_error = f"reading {w3}: {e}"
    return r


# ------------------------------------------------------------- torch side

def by_name(r, flat):
    return {t["name"]: flat[t["offset"]:t["offset"] + t["size"]] for t in r.table}


def torch_loss(case, twin, v, truth):
    """(value, what to differentiate): BCELoss, except for bce_saturated where
    the gradient is the fused form's (BCEWithLogitsLoss), see cases.py."""
    val = twin.loss(v, truth)
    if case.name == "bce_saturated":
        z = v[twin.pre_activation()]
        t = torch.tensor(truth, dtype=z.dtype).reshape(z.shape)
        return val, nn.BCEWithLogitsLoss(reduction="sum")(z, t) / z.shape[0]
    return val, val


def infer_masks(case, r, cmp, notes):
    """dropout_train cases (cases.py): h = dense(one-hot x, N), d = dropout(h),
    o = identity(d), mse.  grad h.W[i, b] = m'[b,i] (h[b,i] m[b,i] - t[b,i]) / B
    where m is the forward mask and m' the backward one; m' = 0 where the
    gradient is 0, else m' = s = 1/(1-rate), and m is whichever of {0, s}
    explains the gradient.  If the forward used another mask than the
    backward, the loss computed by torch with the inferred masks disagrees."""
    L = [L for L in case.net.layers if L.op == "dropout"][0]
    rate = float(L.args[1])
    s = 1 / (1 - rate)
    B = case.n
    N = case.net.shapes["h"][0]
    t = case.truth.astype(np.float64).reshape(B, N)
    masks = []
    prev = by_name(r, r.params0)
    for k in range(STEPS):
        g = by_name(r, r.steps[k]["grads"])["h.W"].reshape(N, B).T          # [b, i]
        W = prev["h.W"].astype(np.float32).reshape(N, B)
        bias = prev["h.b"].astype(np.float32)
        h = (W.T + bias[None, :]).astype(np.float64)                          # [b, i]
        g_drop = s * (0 - t) / B
        g_keep = s * (h * s - t) / B
        mprime = g != 0
        m = np.where(np.abs(g - g_keep) < np.abs(g - g_drop), s, 0.0) * mprime
        resid = np.where(mprime, np.minimum(np.abs(g - g_keep), np.abs(g - g_drop)), 0)
        # the kept values must be exactly s (inverted dropout): a gradient explained
        # by neither 0 nor s is a mask value outside {0, 1/(1-rate)}
        cmp.flag(np.all(resid <= 1e-4 * np.abs(g) + 1e-7),
                 f"step {k + 1}: a mask value is neither 0 nor 1/(1-rate) = {s:.7g} "
                 f"(worst gradient residual {resid.max():.3g})")
        masks.append(m)
        prev = by_name(r, r.steps[k]["params"])
    allm = np.stack(masks)
    drop = float(np.mean(allm == 0))
    cnt = allm.size
    sigma = np.sqrt(max(rate * (1 - rate), 1e-12) / cnt)
    cmp.flag(abs(drop - rate) <= 5 * sigma + 1e-12,
             f"dropped fraction {drop:.4f} over {cnt} draws, rate {rate} (5 sigma = {5 * sigma:.4f})")
    notes.append(f"dropped {drop:.4f} of {cnt} (rate {rate})")
    if 0 < rate < 1:
        same = rate ** 2 + (1 - rate) ** 2
        sig2 = np.sqrt(same * (1 - same) / (B * N))
        for a, b_, what in ((allm[0], allm[1], "steps 1 and 2"), (allm[0][0], allm[0][1], "samples 1 and 2 of step 1")):
            agree = float(np.mean((a == 0) == (b_ == 0)))
            tol = 5 * (sig2 if a.ndim == 2 else np.sqrt(same * (1 - same) / N))
            cmp.flag(abs(agree - same) <= tol,
                     f"masks of {what} agree on {agree:.3f} of the positions, independent draws: {same:.3f}")
    return [{L.name: torch.tensor(m, dtype=torch.float32)} for m in masks]


def twin_run(case, p0, masks, dtype, rng=None, steps=True):
    """The twin's numbers for the case: outputs (eval), loss, gradients, then
    STEPS optimizer steps (losses, gradients, weights).  rng: move every
    input, truth and weight value by one float32 rounding (a relative
    +-2^-24, random sign), for the estimate of torch's own float32 error
    (floor (2) of the tolerance)."""
    net = case.net
    n = case.n
    x = case.x.astype(np.float64)
    truth = case.truth.astype(np.float64)
    p = dict(p0)
    if rng is not None:
        def jiggle(a):
            a = np.asarray(a, dtype=np.float64)
            return a * (1 + 2.0 ** -24 * rng.choice([-1.0, 1.0], a.shape))
        x = jiggle(x)
        if net.loss != "cross_entropy":
            truth = jiggle(truth)
        p = {k: jiggle(v) for k, v in p.items()}
    xt = torch.tensor(x, dtype=dtype)
    out = {}
    twin = Twin(net, p, dtype)
    v = twin.forward(xt, training=False)
    out["y"] = v[net.output].detach().double().numpy().reshape(n, -1)
    val, lg = torch_loss(case, twin, v, truth)
    out["loss"] = val.item()
    if twin.trainable():
        lg.backward()
        out["grads"] = grads_of(twin)
    out["steps"] = []
    if not steps:
        return out
    tw = Twin(net, p, dtype)
    opt = tw.optimizer() if tw.trainable() else None
    for k in range(STEPS):
        v = tw.forward(xt, training=True, masks=masks[k] if masks else None)
        val, lg = torch_loss(case, tw, v, truth)
        st = {"loss": val.item(), "y": v[net.output].detach().double().numpy().reshape(n, -1).copy()}
        if opt:
            opt.zero_grad()
            lg.backward()
            st["grads"] = grads_of(tw)
            opt.step()
        st["params"] = tw.values()
        out["steps"].append(st)
    return out


def grads_of(twin):
    """name -> gradient; a weight torch leaves without .grad (it does not
    reach the loss) has gradient 0.  Frozen weights are left out."""
    g = twin.grads()
    return {k: (g[k] if g[k] is not None else np.zeros(t.numel())) for k, t in twin.tensors.items()
            if t.requires_grad}


def spread(base, runs, get):
    """The largest error of torch's float32 result (against float64) over
    the plain and the jiggled runs: a sample of float32 rounding errors."""
    b = np.asarray(get(base), dtype=np.float64)
    return np.max([np.abs(np.asarray(get(r), dtype=np.float64) - b) for r in runs], axis=0)


def compare(case, r):
    cmp = Cmp()
    notes = []
    net = case.net
    trainable = [t["name"] for t in r.table if t["trainable"]]
    buffers = net.buffers()
    frozen = [t["name"] for t in r.table if not t["trainable"] and t["name"] not in buffers]
    want_trainable = {k for k, (_, fr, _) in net.weights.items() if not fr} | net.own_trainable()
    cmp.flag({t["name"] for t in r.table} ==
             want_trainable | {k for k, (_, fr, _) in net.weights.items()} | set(buffers),
             f"NAME_params lists {sorted(t['name'] for t in r.table)}")
    cmp.flag(set(trainable) == want_trainable, f"trainable tensors {sorted(trainable)}, expected "
             f"{sorted(want_trainable)}")

    p0 = by_name(r, r.params0)
    if case.params:
        for k, v in case.params.items():
            cmp.check("out", f"params[{k}] as set", p0[k], np.asarray(v, dtype=np.float32))

    masks = None
    if case.kind == "dropout_train":
        masks = infer_masks(case, r, cmp, notes)
    steps = not (net.has_dropout() and masks is None)
    if not steps:
        notes.append("steps vs torch skipped (dropout masks are layerc's): AOT vs JIT only")
    ref = twin_run(case, p0, masks, torch.float32, steps=steps)
    base = twin_run(case, p0, masks, torch.float64, steps=steps)
    rng = np.random.default_rng(1)
    runs = [ref] + [twin_run(case, p0, masks, torch.float32, rng, steps=steps)
                    for _ in range(SENS_RUNS if case.jiggle else 0)]

    def check(group, label, a, get, scale=None):
        cmp.check(group, label, a, get(ref), scale=scale, sens=spread(base, runs, get))

    def check_grads(group, label, cg, get, y):
        """floor (1): a fraction of the model's largest gradient times the
        residuals' cancellation ratio rho (see the tolerance)."""
        g = get(ref)
        t = case.truth.astype(np.float64).reshape(y.shape)
        rho = max(1.0, (np.max(np.abs(y)) + np.max(np.abs(t))) / max(np.max(np.abs(y - t)), 1e-30))
        scale = rho * max(float(np.max(np.abs(v))) if v.size else 0.0 for v in g.values())
        for k in trainable:
            check(group, f"{label} {k}", cg[k], lambda o, k=k: get(o)[k], scale=scale)

    # ---- forward (eval), loss, backward
    check("out", "outputs", r.y, lambda o: o["y"])
    cmp.check("out", "outputs one sample at a time vs the batch", r.y1, r.y)
    check("out", "loss", r.loss, lambda o: o["loss"])
    if trainable:
        check_grads("grad", "grad", by_name(r, r.grads), lambda o: o["grads"], ref["y"])

    # ---- 3 train_steps
    # the floor of a weight is a fraction of its tensor's largest value over
    # the run (initial or after any step): a weight after steps is
    # p0 - sum of updates, and may be small because they cancel
    wscale = {name: max(float(np.max(np.abs(by_name(r, p)[name]))) for p in
                        [r.params0] + [st["params"] for st in r.steps]) for name in trainable + frozen + buffers}
    for k, st in enumerate(ref["steps"]):
        c = r.steps[k]
        check("step", f"step {k + 1} loss", c["loss"], lambda o, k=k: o["steps"][k]["loss"])
        if trainable:
            check_grads("step", f"step {k + 1} grad", by_name(r, c["grads"]),
                        lambda o, k=k: o["steps"][k]["grads"], st["y"])
        cp = by_name(r, c["params"])
        for name in trainable + frozen + buffers:
            check("step", f"step {k + 1} {'buffer' if name in buffers else 'weights'} {name}", cp[name],
                  lambda o, k=k, name=name: o["steps"][k]["params"][name], scale=wscale[name])
    for name in frozen:
        cmp.flag(np.array_equal(by_name(r, r.steps[-1]["params"])[name], p0[name]),
                 f"frozen weight {name} changed in training")

    # ---- JIT vs AOT
    if getattr(r, "jit_error", None):
        cmp.fails.append(r.jit_error)
    else:
        cmp.check("jit", "JIT predict vs AOT outputs", r.jit_y, r.y, sens=spread(base, runs, lambda o: o["y"]))
        check("jit", "JIT predict vs torch outputs", r.jit_y, lambda o: o["y"])
    if getattr(r, "jit_train_error", None):
        cmp.fails.append(r.jit_train_error)
    else:
        cp = by_name(r, r.steps[-1]["params"])
        got = {name: vals for name, dims, vals in r.jit_params}
        cmp.flag(list(got) == [t["name"] for t in r.table], f"JIT .lyw tensors {list(got)}")
        for name in cp:
            if name in got:
                sens = (spread(base, runs, lambda o, name=name: o["steps"][-1]["params"][name])
                        if ref["steps"] else None)
                cmp.check("jit", f"JIT train weights {name} vs AOT after {STEPS} steps", got[name], cp[name],
                          scale=wscale[name], sens=sens)

    if case.checks:
        for label, ok, detail in case.checks(case, r):
            cmp.flag(ok, f"{label}: {detail}")
    return cmp, notes


# ----------------------------------------------------------------- report

def machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for ln in f:
                if ln.startswith("model name"):
                    cpu = ln.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    gcc = subprocess.run(["gcc", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    rc, ver, _ = sh([LAYERC, "--version"])
    return dict(cpu=f"{cpu}, {os.cpu_count()} CPUs", os=f"{platform.system()} {platform.release()}",
                gcc=gcc, torch=torch.__version__, numpy=np.__version__,
                python=platform.python_version(), layerc=ver.strip().split("\n")[0])


def e(v):
    return "0" if v == 0 else f"{v:.1e}"


def write_report(path, rows, args, secs, m):
    npass = sum(1 for r in rows if r["ok"])
    out = []
    out.append("# Verification against PyTorch\n")
    out.append("Generated by `tests/torch/verify.py`; do not edit by hand (run it again).\n")
    out.append("Every op, loss and optimizer of SPEC §1 is compiled by layerc to C, built with "
               "`gcc -std=c99 -O2` against a driver that uses only the public API of SPEC §3, and "
               "compared with a PyTorch twin of the model given the same initial weights and batch "
               "(float32): the outputs (forward, dropout off; the batch at once and one sample at a "
               "time), the loss, every gradient, then 3 `train_step`s (their losses, gradients and the "
               "weights after each) against 3 steps of `torch.optim.SGD`/`Adam`/`RMSprop`/`Adadelta`. The JIT is compared "
               "with the AOT build: `layerc predict --weights` outputs, and the weights saved by "
               "`layerc train --weights --save` after 3 epochs (shuffle = 0, batch = all rows: 3 steps) "
               "against the driver's after 3 `train_step`s.\n")
    out.append("## How to run\n")
    out.append("```\n/usr/bin/python3 tests/torch/verify.py            # all cases; rewrites this file "
               "(make test-torch)\n/usr/bin/python3 tests/torch/verify.py --quick    # the subset of "
               "`make test` (tests/t_torch.sh)\n```\n")
    out.append("Debian's `python3-torch` is needed (`/usr/bin/python3`, not a pyenv or venv Python). "
               "Options: `--only SUBSTRING`, `--jobs N`, `--keep` (keep the generated C), `--report` "
               "(write this file after a `--quick` run).\n")
    out.append("## Tolerance\n")
    out.append(f"Two values a (layerc) and b (torch, float32) agree when |a − b| ≤ {RTOL:g}·max(|a|, |b|) "
               "+ atol. The absolute floor atol is the larger of\n\n"
               f"1. {FLOOR:g} × the scale of the quantity: the largest |b| of the tensor compared (outputs, "
               "loss), for weights the tensor's largest value over the run (a weight after steps is p0 minus "
               "the updates and is small when they cancel), for gradients the model's largest gradient at that step times "
               "ρ = (max|y| + max|t|) / max|y − t| ≥ 1 (y the output, t the truth). Every element is a float32 "
               "sum whose rounding error is a few eps32 (6e-8) times the magnitude of its terms, i.e. of the "
               "tensor, not of the element when its terms cancel; gradients are linear in the residuals "
               "y − t (or p − t), which carry y's rounding error eps32·|y|, so when training brings y near t "
               f"the gradients shrink by ρ but their absolute error does not. {FLOOR:g} ≈ 16 eps32.\n"
               f"2. {SENS} × torch's own float32 error on that element: the largest |torch float32 − torch "
               f"float64| over {SENS_RUNS + 1} runs (plain, and with every input, truth and weight moved by "
               "±2⁻²⁴ relative, which reshuffles the roundings). It covers values made by cancellation "
               "(y − t when y ≈ t, a bias gradient Σ(p − t)/n, gradients after 3 steps), whose relative "
               "error is unbounded in any float32 code: e.g. `concat3_shapes`, step 3, grad o.W[205] is "
               "−6.32711e-4 in layerc, −6.32814e-4 in torch float32 and −6.32762e-4 in float64.\n\n"
               "Both are scales of the computation, never constants: well-conditioned values are compared "
               f"to {RTOL:g} relative. The errors below are |a − b| / (max(|a|, |b|) + atol/{RTOL:g}); a case "
               f"passes when every one is ≤ {RTOL:g}. JIT vs AOT (two float32 builds: gcc -O2, and tcc calling "
               "layerc's -O3 kernels, the set chosen for the CPU) uses the same rule. No case has a wider "
               "tolerance. The harness was checked to fail on small injected faults in the generated C "
               "(tanh' off by 1e-4, softmax's backward by 1e-5, the mse loss by 2e-5, avgpool's divisor by "
               "2e-5, weight decay by 1%, Adam's eps tripled or its bias correction one step off, dampened "
               "momentum, maxpool ties to the last maximum, relu'(0) = 1 or leaky_relu'(0) = 1, dropout's "
               "backward without the 1/(1-rate) scale).\n")
    out.append("Exceptions to a plain PyTorch twin, by design of the SPEC:\n")
    out.append("- `bce_saturated`: where the sigmoid rounds to exactly 0 or 1, the SPEC's fused backward "
               "(`p − t` on the pre-activation) is compared with `BCEWithLogitsLoss`'s gradient; "
               "`BCELoss`'s autograd gives 0 there (it multiplies by p(1 − p) = 0). The loss is `BCELoss`'s "
               "(log clamped at −100).\n"
               "- dropout in training draws layerc's own masks: `dropout_train_*` read them back from the "
               "gradients (see `infer_masks` in verify.py), check their values, rate and independence, "
               "and that the forward and backward use the same mask, then run torch with those masks. "
               "Other models with dropout compare steps AOT vs JIT only.\n")
    out.append("## Results\n")
    out.append(f"{npass} passed, {len(rows) - npass} failed, {len(rows)} cases "
               f"({'--quick' if args.quick else 'full run'}, {secs:.0f} s).\n")
    out.append("| case | covers | outputs/loss | gradients | 3 steps | JIT vs AOT | tolerance | result |")
    out.append("|---|---|---|---|---|---|---|---|")
    for r in rows:
        w = r["worst"]
        res = "pass" if r["ok"] else "**FAIL**"
        cov = r["covers"].replace("|", "\\|")
        if r["notes"]:
            cov += " (" + "; ".join(r["notes"]) + ")"
        out.append(f"| `{r['name']}` | {cov} | {e(w['out'])} | {e(w['grad'])} | {e(w['step'])} | "
                   f"{e(w['jit'])} | {RTOL:g} + floor | {res} |")
    worst = {g: max((r["worst"][g] for r in rows if r["ok"]), default=0) for g in Cmp.GROUPS}
    out.append(f"| **worst of the passed cases** | | {e(worst['out'])} | {e(worst['grad'])} | "
               f"{e(worst['step'])} | {e(worst['jit'])} | | |")
    out.append("\nThe errors are relative (see Tolerance); 0 means bit-identical.\n")
    fails = [r for r in rows if not r["ok"]]
    if fails:
        out.append("### Failures\n")
        for r in fails:
            out.append(f"- `{r['name']}`:")
            for f in r["fails"][:8]:
                out.append(f"  - {f}")
        out.append("")
    out.append("## Machine\n")
    out.append(f"- date: {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}")
    for k in ("cpu", "os", "gcc", "layerc", "torch", "numpy", "python"):
        out.append(f"- {k}: {m[k]}")
    out.append(f"- command: `/usr/bin/python3 tests/torch/verify.py{' --quick' if args.quick else ''}`")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(out) + "\n")
    os.replace(tmp, path)


# ------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="the subset run by make test")
    ap.add_argument("--report", action="store_true", help="write docs/VERIFICATION.md even with --quick")
    ap.add_argument("--no-report", action="store_true", help="do not write docs/VERIFICATION.md")
    ap.add_argument("--only", help="cases whose name contains this")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()
    t0 = time.time()
    torch.set_num_threads(1)
    torch.manual_seed(0)

    if not os.access(LAYERC, os.X_OK):
        print(f"FAIL setup {LAYERC} missing: run make first")
        print("torch: 0 passed, 1 failed")
        return 1
    cases = C.all_cases(ROOT, random_count=12)
    if args.quick:
        cases = [c for c in cases if c.quick]
    if args.only:
        cases = [c for c in cases if args.only in c.name]
    names = [c.name for c in cases]
    assert len(set(names)) == len(names), "duplicate case names"

    tmp = tempfile.mkdtemp(prefix="layerc-torch-")
    rows = []
    npass = nfail = 0
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            futs = [pool.submit(c_side, c, tmp) for c in cases]
            for c, fut in zip(cases, futs):
                try:
                    r = fut.result()
                except Exception as ex:  # noqa: BLE001 - reported as a failed case
                    r = CRun()
                    r.error = f"{type(ex).__name__}: {ex}"
                if r.error:
                    cmp, notes = Cmp(), []
                    cmp.fails.append(r.error)
                else:
                    try:
                        cmp, notes = compare(c, r)
                    except Exception as ex:  # noqa: BLE001
                        import traceback
                        cmp, notes = Cmp(), []
                        cmp.fails.append(f"{type(ex).__name__}: {ex} {traceback.format_exc(limit=3)}")
                ok = not cmp.fails
                if ok:
                    npass += 1
                    print(f"PASS {c.name} {cmp.worst_all():.2e}", flush=True)
                else:
                    nfail += 1
                    print(f"FAIL {c.name} {cmp.worst_all():.2e} ({c.covers})", flush=True)
                    for f in cmp.fails[:12]:
                        print(f"    {f}", flush=True)
                    if len(cmp.fails) > 12:
                        print(f"    ... and {len(cmp.fails) - 12} more", flush=True)
                rows.append(dict(name=c.name, covers=c.covers, worst=dict(cmp.worst), ok=ok,
                                 fails=cmp.fails, notes=notes))
    finally:
        if args.keep:
            print(f"(kept {tmp})", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    secs = time.time() - t0
    if (not args.quick or args.report) and not args.no_report and not args.only:
        write_report(os.path.join(ROOT, "docs", "VERIFICATION.md"), rows, args, secs, machine())
    print(f"torch: {npass} passed, {nfail} failed")
    return 1 if nfail else 0


if __name__ == "__main__":
    sys.exit(main())
