#!/usr/bin/python3
"""bench/torch_ref.py: the PyTorch side of `make bench`.

Each model of the bench is a .lyr file whose "# torch:" comment lines hold
its PyTorch twin: Python code (with torch, nn, F and Residual in scope) that
sets `model` to the same layers, ending at the logits for cross_entropy as
PyTorch models do.
The rest comes from the .lyr itself: the loss (`loss KIND(...)`), the
optimizer and the batch (its train block), and "# bench: truth=input" for
an autoencoder.  The data are Fashion-MNIST's images from the IDX files (or
random data of the same shape with "-"); the loop is bench/train_aot.c's:
shuffle, copy a batch, forward, loss, backward, step.

  /usr/bin/python3 bench/torch_ref.py train MODEL.lyr IMAGES LABELS STEPS REPEATS THREADS
  /usr/bin/python3 bench/torch_ref.py latency MODEL.lyr REPEATS THREADS
  /usr/bin/python3 bench/torch_ref.py twin MODEL.lyr       the twin's parameter count
  /usr/bin/python3 bench/torch_ref.py blas                 which BLAS PyTorch runs on

train prints "samples_per_s X loss Y" per repeat (after a warm-up of 20
steps); latency prints "latency_us median X min Y" for one sample through
the model in eval mode under torch.no_grad().
"""
import gzip
import os
import re
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Residual(nn.Module):
    """main(x) + shortcut(x) (the identity without one): add() of two paths."""

    def __init__(self, main, shortcut=None):
        super().__init__()
        self.main, self.shortcut = main, shortcut if shortcut is not None else nn.Identity()

    def forward(self, x):
        return self.main(x) + self.shortcut(x)


class Spec:
    """What the bench needs of a .lyr file."""

    def __init__(self, path):
        text = open(path).read()
        self.twin = "\n".join(m.group(1) for m in re.finditer(r"^# torch: ?(.*)$", text, re.M))
        if "model" not in self.twin:
            raise SystemExit(f"{path}: no '# torch: model = ...' lines (the model's PyTorch twin)")
        m = re.search(r"^\s*loss\s+(\w+)\s*\(", text, re.M)
        self.loss = m.group(1) if m else "mse"
        m = re.search(r"^\s*input\s+\w+\s*\[([^\]]*)\]", text, re.M)
        self.input = [int(d) for d in m.group(1).split(",")] if m else [1, 28, 28]
        m = re.search(r"\bbatch\s*=\s*(\d+)", text)
        self.batch = int(m.group(1)) if m else 32
        m = re.search(r"\boptimizer\s*=\s*(\w+)\s*\(([^)]*)\)", text)
        self.opt, args = (m.group(1), m.group(2)) if m else ("sgd", "")
        self.opt_args = {k: float(v) for k, v in re.findall(r"(\w+)\s*=\s*([-+.\deE]+)", args)}
        self.truth_input = bool(re.search(r"^#\s*bench:.*\btruth=input\b", text, re.M))

    def model(self):
        torch.manual_seed(1)
        scope = {"nn": nn, "F": F, "torch": torch, "Residual": Residual}
        exec(self.twin, scope)
        return scope["model"]

    def optimizer(self, params):
        a = self.opt_args
        if self.opt == "adam":
            return torch.optim.Adam(params, lr=a.get("lr", 1e-3), betas=(a.get("beta1", 0.9), a.get("beta2", 0.999)),
                                    eps=a.get("eps", 1e-8), weight_decay=a.get("weight_decay", 0))
        return torch.optim.SGD(params, lr=a.get("lr", 0.01), momentum=a.get("momentum", 0),
                               weight_decay=a.get("weight_decay", 0))

    def loss_fn(self, out, truth, n):
        """The .lyr loss on a batch of n, as SPEC.md defines it."""
        if self.loss == "cross_entropy":
            return F.cross_entropy(out, truth)
        if self.loss == "bce":
            return F.binary_cross_entropy(out, truth, reduction="sum") / n
        return 0.5 * F.mse_loss(out, truth, reduction="sum") / n


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(spec, images, labels):
    if images == "-":
        g = torch.Generator().manual_seed(12345)
        x = torch.rand(60000, 784, generator=g)
        y = torch.randint(0, 10, (60000,), generator=g)
    else:
        x = torch.from_numpy(read_idx(images).astype(np.float32) / 255.0).reshape(-1, 784)
        y = torch.from_numpy(read_idx(labels).astype(np.int64))
    x = x.reshape([-1] + spec.input)
    if spec.truth_input:
        return x, x.reshape(x.shape[0], -1)
    if spec.loss == "cross_entropy":
        return x, y
    return x, F.one_hot(y, 10).float()


def train(spec, images, labels, steps, repeats):
    net = spec.model()
    opt = spec.optimizer(net.parameters())
    X, Y = load(spec, images, labels)
    n, B = X.shape[0], spec.batch
    order, at = None, n
    for r in range(-1, repeats):
        k = 20 if r < 0 else steps
        t0, total = time.perf_counter(), 0.0
        for _ in range(k):
            if at + B > n:
                order, at = torch.randperm(n), 0
            idx = order[at:at + B]
            at += B
            x, y = X.index_select(0, idx), Y.index_select(0, idx)
            opt.zero_grad()
            out = net(x)
            loss = spec.loss_fn(out.reshape(B, -1) if spec.loss != "cross_entropy" else out, y, B)
            loss.backward()
            opt.step()
            total += loss.item()
        secs = time.perf_counter() - t0
        if r >= 0:
            print("samples_per_s %.1f loss %.4f" % (k * B / secs, total / k), flush=True)


def latency(spec, repeats):
    net = spec.model().eval()
    x = torch.rand([1] + spec.input)
    times = []
    with torch.no_grad():
        for _ in range(200):
            net(x)
        for _ in range(repeats):
            t0 = time.perf_counter()
            net(x)
            times.append(time.perf_counter() - t0)
    times.sort()
    print("latency_us median %.3f min %.3f" % (times[len(times) // 2] * 1e6, times[0] * 1e6))


def blas():
    """The BLAS PyTorch calls: its build setting and the library loaded."""
    a = torch.randn(256, 256)
    (a @ a).sum()
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            p = line.split()[-1]
            if re.search(r"blas|mkl|lapack|atlas|blis", os.path.basename(p)):
                libs.add(os.path.realpath(p))
    config = torch.__config__.show()
    info = re.search(r"BLAS_INFO=(\w+)", config)
    cap = re.search(r"CPU capability usage: (\w+)", config)
    print("PyTorch %s (BLAS_INFO=%s, CPU capability %s) calls %s" % (
        torch.__version__, info.group(1) if info else "?", cap.group(1) if cap else "?",
        ", ".join(sorted(libs)) or "no BLAS library"))


def main(argv):
    if len(argv) >= 8 and argv[1] == "train":
        torch.set_num_threads(int(argv[7]))
        train(Spec(argv[2]), argv[3], argv[4], int(argv[5]), int(argv[6]))
    elif len(argv) >= 5 and argv[1] == "latency":
        torch.set_num_threads(int(argv[4]))
        latency(Spec(argv[2]), int(argv[3]))
    elif len(argv) >= 3 and argv[1] == "twin":
        print("parameters %d" % sum(p.numel() for p in Spec(argv[2]).model().parameters()))
    elif len(argv) >= 2 and argv[1] == "blas":
        blas()
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
