#!/usr/bin/python3
"""The PyTorch twin of samples/mobilenet_v1_025.lyr, trained as its train
block says: adam(lr=0.002), cosine over 6 epochs, batch 64, decay=8e-5 on
every conv kernel.  /usr/bin/python3 bench/twins/mobilenet_v1_025.py [EPOCHS]"""
import torch
import torch.nn as nn
from common import conv_same, param_groups, run

# (output channels, stride of the depthwise conv) of the 13 blocks
BLOCKS = [(16, 1), (32, 2), (32, 1), (64, 2), (64, 1), (128, 2)] + [(128, 1)] * 5 + [(256, 1), (256, 1)]


def build():
    """The twin, with the initial weights of seed 1."""
    torch.manual_seed(1)
    layers, c, size = [conv_same(1, 8, 3, 1, (28, 28)), nn.BatchNorm2d(8), nn.ReLU6()], 8, 28
    for f, stride in BLOCKS:
        layers += [conv_same(c, c, 3, stride, (size, size), groups=c), nn.BatchNorm2d(c), nn.ReLU6(),
                   nn.Conv2d(c, f, 1), nn.BatchNorm2d(f), nn.ReLU6()]
        c, size = f, (size + stride - 1) // stride
    model = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 10))
    return model


if __name__ == "__main__":
    model = build()
    opt = torch.optim.Adam(param_groups(model, lambda m: 8e-5 if isinstance(m, nn.Conv2d) else 0.0), lr=0.002)
    run("mobilenet_v1_025", model, opt, torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=6, eta_min=0), 6, 64)
