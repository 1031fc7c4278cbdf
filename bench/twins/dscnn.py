#!/usr/bin/python3
"""The PyTorch twin of samples/dscnn.lyr, trained as its train block says:
adam(lr=0.002), cosine over 6 epochs, batch 64, decay=2e-4 on every conv
kernel.  /usr/bin/python3 bench/twins/dscnn.py [EPOCHS]"""
import torch
import torch.nn as nn
from common import conv_same, param_groups, run


def separable(c):
    return [conv_same(c, c, 3, 1, (14, 14), groups=c), nn.BatchNorm2d(c), nn.ReLU(),
            nn.Conv2d(c, c, 1), nn.BatchNorm2d(c), nn.ReLU()]


def build():
    """The twin, with the initial weights of seed 1."""
    torch.manual_seed(1)
    model = nn.Sequential(conv_same(1, 64, (10, 4), (2, 2), (28, 28)), nn.BatchNorm2d(64), nn.ReLU(), nn.Dropout(0.2),
                          *separable(64), *separable(64), *separable(64), *separable(64),
                          nn.Dropout(0.4), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))
    return model


if __name__ == "__main__":
    model = build()
    opt = torch.optim.Adam(param_groups(model, lambda m: 2e-4 if isinstance(m, nn.Conv2d) else 0.0), lr=0.002)
    run("dscnn", model, opt, torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=6, eta_min=0), 6, 64)
