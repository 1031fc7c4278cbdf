"""bench/twins/common.py: what the PyTorch twins of the samples share.

The loop is `layerc train`'s: every epoch a fresh shuffle of the 60,000
training images, batches of the train block's size (the last one shorter),
forward, the .lyr loss, backward, the optimizer step; then the rate of the
next epoch (StepLR / CosineAnnealingLR stepped once per epoch, as layerc's
schedules) and an evaluation of the 10,000 test images in eval mode.
samples/s counts the training pass alone, as layerc's epoch line does.
Weight decay per layer (`decay=` in the .lyr) is a parameter group holding
the layer's kernel; biases, batchnorm's gamma and beta get none.
Data: Debian's dataset-fashion-mnist, bytes scaled to [0, 1] (SPEC §4).
"""
import gzip
import math
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

D = "/usr/share/datasets/fashion-mnist/"


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def fashion(shape):
    def images(name):
        x = torch.from_numpy(read_idx(D + name).astype(np.float32) / 255.0)
        return x.reshape([-1] + shape)
    def labels(name):
        return torch.from_numpy(read_idx(D + name).astype(np.int64))
    return (images("train-images-idx3-ubyte.gz"), labels("train-labels-idx1-ubyte.gz"),
            images("t10k-images-idx3-ubyte.gz"), labels("t10k-labels-idx1-ubyte.gz"))


class SamePad(nn.Module):
    """Keras's padding='same' for a stride: the odd row and column of padding
    below and right (torch's padding= is symmetric)."""

    def __init__(self, size, kernel, stride):
        super().__init__()
        pads = []
        for n, k, s in zip(size, kernel, stride):
            total = max((math.ceil(n / s) - 1) * s + k - n, 0)
            pads.append((total // 2, total - total // 2))
        (top, bottom), (left, right) = pads
        self.pad = (left, right, top, bottom)

    def forward(self, x):
        return F.pad(x, self.pad)


def conv_same(c, f, kernel, stride, size, groups=1):
    """conv2d(..., pad=same) on a size[0] x size[1] map."""
    kernel = (kernel, kernel) if isinstance(kernel, int) else kernel
    stride = (stride, stride) if isinstance(stride, int) else stride
    return nn.Sequential(SamePad(size, kernel, stride), nn.Conv2d(c, f, kernel, stride=stride, groups=groups))


def param_groups(model, decay):
    """Every conv and linear kernel with its layer's decay, the rest without."""
    kernels = {id(m.weight): decay(m) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))}
    groups = {}
    for p in model.parameters():
        groups.setdefault(kernels.get(id(p), 0.0), []).append(p)
    return [{"params": ps, "weight_decay": d} for d, ps in groups.items()]


def loss_of(kind, out, truth):
    if kind == "cross_entropy":
        return F.cross_entropy(out, truth)
    return 0.5 * F.mse_loss(out, truth, reduction="sum") / out.shape[0]   # the .lyr mse


def run(name, model, opt, schedule, epochs, batch, kind="cross_entropy", shape=(1, 28, 28), seed=1):
    """Train for `epochs` (argv[1] overrides), printing layerc-like epoch lines."""
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    if len(sys.argv) > 1:
        epochs = int(sys.argv[1])
    X, Y, TX, TY = fashion(list(shape))
    if kind == "mse":
        Y, TY = X.reshape(X.shape[0], -1), TX.reshape(TX.shape[0], -1)
    n = X.shape[0]
    print(f"training {name} (PyTorch {torch.__version__}, 1 thread) on {n} samples: "
          f"{epochs} epochs, batch {batch}", flush=True)
    for e in range(epochs):
        model.train()
        order = torch.randperm(n)
        t0, total, right = time.perf_counter(), 0.0, 0
        for at in range(0, n, batch):
            idx = order[at:at + batch]
            x, y = X[idx], Y[idx]
            opt.zero_grad()
            out = model(x)
            loss = loss_of(kind, out, y)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            if kind == "cross_entropy":
                right += (out.argmax(1) == y).sum().item()
        secs = time.perf_counter() - t0
        lr = opt.param_groups[0]["lr"]
        if schedule is not None:
            schedule.step()
        model.eval()
        with torch.no_grad():
            tl, tr = 0.0, 0
            for at in range(0, TX.shape[0], 500):
                out = model(TX[at:at + 500])
                ty = TY[at:at + 500]
                tl += loss_of(kind, out, ty).item() * out.shape[0]
                if kind == "cross_entropy":
                    tr += (out.argmax(1) == ty).sum().item()
                else:
                    tr += F.mse_loss(out, ty, reduction="sum").item()
        m = TX.shape[0]
        if kind == "cross_entropy":
            print(f"epoch {e + 1}/{epochs}  lr {lr:.6g}  loss {total / n:.4f}  accuracy {100 * right / n:.2f}%  "
                  f"| test loss {tl / m:.4f}  accuracy {100 * tr / m:.2f}%  | {secs:.1f}s, {n / secs:.0f} samples/s",
                  flush=True)
        else:
            print(f"epoch {e + 1}/{epochs}  lr {lr:.6g}  loss {total / n:.4f}  "
                  f"| test loss {tl / m:.4f}  MSE {tr / (m * Y.shape[1]):.6f}  | {secs:.1f}s, {n / secs:.0f} samples/s",
                  flush=True)
