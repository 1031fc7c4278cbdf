#!/usr/bin/python3
"""The PyTorch twin of samples/autoencoder.lyr, trained as its train block
says (with --truth input): adam(lr=0.001), cosine over 10 epochs, batch 128,
the .lyr mse (half the squared error summed over the 784 values, averaged
over the batch).  /usr/bin/python3 bench/twins/autoencoder.py [EPOCHS]"""
import torch
import torch.nn as nn
from common import run


def block(n, m):
    return [nn.Linear(n, m), nn.BatchNorm1d(m), nn.ReLU()]


def build():
    """The twin, with the initial weights of seed 1."""
    torch.manual_seed(1)
    model = nn.Sequential(*block(784, 128), *block(128, 128), *block(128, 128), *block(128, 128),
                          *block(128, 8),
                          *block(8, 128), *block(128, 128), *block(128, 128), *block(128, 128),
                          nn.Linear(128, 784))
    return model


if __name__ == "__main__":
    model = build()
    opt = torch.optim.Adam(model.parameters(), lr=0.001)
    run("autoencoder", model, opt, torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=0), 10, 128,
        kind="mse", shape=(784,))
