#!/usr/bin/python3
"""The PyTorch twin of samples/resnet8.lyr, trained as its train block says:
adam(lr=0.002), cosine over 10 epochs, batch 64, decay=2e-4 on every conv
kernel.  /usr/bin/python3 bench/twins/resnet8.py [EPOCHS]"""
import torch
import torch.nn as nn
from common import conv_same, param_groups, run


class Stack(nn.Module):
    """Two 3x3 convs with batchnorm, added to the input (through a 1x1 conv
    of the stride when the stride is 2), relu."""

    def __init__(self, c, f, stride, size):
        super().__init__()
        out = (size + stride - 1) // stride
        self.main = nn.Sequential(conv_same(c, f, 3, stride, (size, size)), nn.BatchNorm2d(f), nn.ReLU(),
                                  conv_same(f, f, 3, 1, (out, out)), nn.BatchNorm2d(f))
        self.shortcut = conv_same(c, f, 1, stride, (size, size)) if stride > 1 else nn.Identity()

    def forward(self, x):
        return torch.relu(self.shortcut(x) + self.main(x))


def build():
    """The twin, with the initial weights of seed 1."""
    torch.manual_seed(1)
    model = nn.Sequential(conv_same(1, 16, 3, 1, (28, 28)), nn.BatchNorm2d(16), nn.ReLU(),
                          Stack(16, 16, 1, 28), Stack(16, 32, 2, 28), Stack(32, 64, 2, 14),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))
    return model


if __name__ == "__main__":
    model = build()
    opt = torch.optim.Adam(param_groups(model, lambda m: 2e-4 if isinstance(m, nn.Conv2d) else 0.0), lr=0.002)
    run("resnet8", model, opt, torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=0), 10, 64)
