#!/usr/bin/python3
"""bench/torch_ref.py: the PyTorch side of `make bench`.

The same models as samples/fashion_mlp.lyr and samples/fashion_cnn.lyr, the
same batch (64), optimizer (SGD, momentum 0.9) and data (Fashion-MNIST from
the IDX files, or random data of the same shape with "-"), the same loop as
bench/train_aot.c: shuffle, copy a batch, forward, loss, backward, step.

  /usr/bin/python3 bench/torch_ref.py train MODEL IMAGES LABELS STEPS REPEATS THREADS
  /usr/bin/python3 bench/torch_ref.py latency MODEL REPEATS THREADS

MODEL is mlp or cnn.  train prints "samples_per_s X loss Y" per repeat (after
a warm-up of 20 steps); latency prints "latency_us median X min Y" for one
sample through the model in eval mode under torch.no_grad().
"""
import gzip
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128),
                         nn.ReLU(), nn.Linear(128, 10))


def cnn():
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(16 * 7 * 7, 10))


LR = {"mlp": 0.01, "cnn": 0.05}


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(images, labels):
    if images == "-":
        g = torch.Generator().manual_seed(12345)
        return torch.rand(60000, 1, 28, 28, generator=g), torch.randint(0, 10, (60000,), generator=g)
    x = torch.from_numpy(read_idx(images).astype(np.float32) / 255.0).reshape(-1, 1, 28, 28)
    y = torch.from_numpy(read_idx(labels).astype(np.int64))
    return x, y


def train(kind, images, labels, steps, repeats):
    torch.manual_seed(1)
    net = {"mlp": mlp, "cnn": cnn}[kind]()
    opt = torch.optim.SGD(net.parameters(), lr=LR[kind], momentum=0.9)
    X, Y = load(images, labels)
    n, B = X.shape[0], 64
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
            loss = F.cross_entropy(net(x), y)
            loss.backward()
            opt.step()
            total += loss.item()
        secs = time.perf_counter() - t0
        if r >= 0:
            print("samples_per_s %.1f loss %.4f" % (k * B / secs, total / k), flush=True)


def latency(kind, repeats):
    torch.manual_seed(1)
    net = {"mlp": mlp, "cnn": cnn}[kind]().eval()
    x = torch.rand(1, 1, 28, 28)
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


def main(argv):
    if len(argv) >= 8 and argv[1] == "train":
        torch.set_num_threads(int(argv[7]))
        train(argv[2], argv[3], argv[4], int(argv[5]), int(argv[6]))
    elif len(argv) >= 5 and argv[1] == "latency":
        torch.set_num_threads(int(argv[4]))
        latency(argv[2], int(argv[3]))
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
