"""torch_models.py: PyTorch models exported with torch.onnx.export, for t_onnx.sh.

    torch_models.py export OUTDIR
        for each model NAME: NAME.onnx, NAME.x.csv (inputs, one sample a row)
        and NAME.torch.csv (PyTorch's outputs)
    torch_models.py finetune OUTDIR TRAIN_IMAGES TRAIN_LABELS TEST_IMAGES TEST_LABELS
        the twin of samples/fashion_cnn.lyr trained one epoch by PyTorch on
        the IDX files given: trained.onnx, test.csv (images, then the label)
        and trained.torch.csv

The twins of samples/fashion_mlp.lyr and samples/fashion_cnn.lyr use what
torch writes for flattening (nn.Flatten, and x.view(x.size(0), -1) with its
Shape/Gather/Unsqueeze/Concat subgraph); "branches" has a strided
convolution after (x - mean) / std, average pooling, leaky ReLU, two dense heads (one without
bias), SiLU, GELU (which torch writes as x * (erf(x / sqrt(2)) + 1) * 0.5),
mul and add; ResNet-8 and DS-CNN are the MLPerf Tiny reference networks
(batchnorm with statistics that are not the identity, residual adds, 1x1
strided shortcuts, depthwise convolutions, a [10, 4] kernel, global average
pooling), each exported twice: with torch's folding of BatchNorm into the
Conv before it (NAME.onnx), and with the BatchNorm nodes kept (NAME_bn.onnx).
"""
import gzip
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class FashionMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                                 nn.Linear(128, 10), nn.Softmax(-1))

    def forward(self, x):
        return self.net(x)


class FashionCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 8, 3, padding=1)
        self.c2 = nn.Conv2d(8, 16, 3, padding=1)
        self.logits = nn.Linear(16 * 7 * 7, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        return F.softmax(self.logits(x.view(x.size(0), -1)), -1)

    def logits_of(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        return self.logits(x.view(x.size(0), -1))


class Branches(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 5, stride=2)
        self.a = nn.Linear(144, 32)
        self.b = nn.Linear(144, 32, bias=False)
        self.out = nn.Linear(32, 5)

    def forward(self, x):
        x = (x - 0.286) / 0.353   # Fashion-MNIST's mean and std
        x = F.avg_pool2d(F.leaky_relu(self.conv(x), 0.2), 2)
        x = torch.flatten(x, 1)
        a = torch.tanh(self.a(x))
        b = torch.sigmoid(self.b(x))
        return self.out(a * b + F.silu(a) + F.gelu(b))


class ResNet8(nn.Module):
    """MLPerf Tiny image classification: 3 residual stacks on 32x32 RGB."""
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU())
        self.blocks = nn.ModuleList()
        cin = 16
        for cout, stride in ((16, 1), (32, 2), (64, 2)):
            body = nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.BatchNorm2d(cout), nn.ReLU(),
                                 nn.Conv2d(cout, cout, 3, 1, 1), nn.BatchNorm2d(cout))
            short = nn.Identity() if stride == 1 and cin == cout else nn.Conv2d(cin, cout, 1, stride)
            self.blocks.append(nn.ModuleList([body, short]))
            cin = cout
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = self.stem(x)
        for body, short in self.blocks:
            x = F.relu(body(x) + short(x))
        return F.softmax(self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)), -1)


class DSCNN(nn.Module):
    """MLPerf Tiny keyword spotting: depthwise-separable convolutions on 49x10 MFCCs."""
    def __init__(self):
        super().__init__()
        layers = [nn.Conv2d(1, 64, (10, 4), stride=2, padding=(5, 1)), nn.BatchNorm2d(64), nn.ReLU()]
        for _ in range(4):
            layers += [nn.Conv2d(64, 64, 3, padding=1, groups=64), nn.BatchNorm2d(64), nn.ReLU(),
                       nn.Conv2d(64, 64, 1), nn.BatchNorm2d(64), nn.ReLU()]
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(64, 12)

    def forward(self, x):
        x = F.adaptive_avg_pool2d(self.features(x), 1)
        return F.softmax(self.fc(torch.flatten(x, 1)), -1)


MODELS = {'fashion_mlp': (FashionMLP, (1, 28, 28)), 'fashion_cnn': (FashionCNN, (1, 28, 28)),
          'branches': (Branches, (1, 28, 28)), 'resnet8': (ResNet8, (3, 32, 32)), 'dscnn': (DSCNN, (1, 49, 10))}


def randomise_bn(model, gen):
    """BatchNorm statistics that are not the identity, as after training."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=gen) * 0.1)


def save_csv(path, rows):
    np.savetxt(path, np.asarray(rows, dtype=np.float64).reshape(len(rows), -1), delimiter=',', fmt='%.9g')


def export(model, shape, path, keep_bn=False):
    """torch.onnx.export of the model in eval mode.  By default torch folds
    each BatchNorm into the Conv before it; keep_bn (TrainingMode.PRESERVE
    of a model in eval mode) writes them as BatchNormalization nodes with
    the running statistics, in their inference form."""
    mode = torch.onnx.TrainingMode.PRESERVE if keep_bn else torch.onnx.TrainingMode.EVAL
    torch.onnx.export(model, torch.zeros((1,) + shape), path, input_names=['image'], output_names=['probs'],
                      dynamic_axes={'image': {0: 'N'}, 'probs': {0: 'N'}}, opset_version=14, training=mode)


def cmd_export(out):
    os.makedirs(out, exist_ok=True)
    for name, (cls, shape) in MODELS.items():
        torch.manual_seed(5)
        gen = torch.Generator().manual_seed(6)
        model = cls()
        randomise_bn(model, gen)
        if hasattr(model, 'fc'):
            # a confident head: probabilities far from uniform carry the logits' differences
            model.fc.weight.data *= 8
        model.eval()
        x = torch.rand((7,) + shape, generator=gen)
        with torch.no_grad():
            y = model(x)
        export(model, shape, os.path.join(out, name + '.onnx'))
        save_csv(os.path.join(out, name + '.x.csv'), x.numpy())
        save_csv(os.path.join(out, name + '.torch.csv'), y.numpy())
        if any(isinstance(m, nn.BatchNorm2d) for m in model.modules()):
            export(model, shape, os.path.join(out, name + '_bn.onnx'), keep_bn=True)
            save_csv(os.path.join(out, name + '_bn.x.csv'), x.numpy())
            save_csv(os.path.join(out, name + '_bn.torch.csv'), y.numpy())


def read_idx(path):
    with (gzip.open if path.endswith('.gz') else open)(path, 'rb') as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def cmd_finetune(out, train_images, train_labels, test_images, test_labels):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(11)
    x = torch.tensor(read_idx(train_images), dtype=torch.float32).unsqueeze(1) / 255
    t = torch.tensor(read_idx(train_labels), dtype=torch.long)
    model = FashionCNN()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    perm = torch.randperm(len(x))
    for i in range(0, len(x), 32):
        idx = perm[i:i + 32]
        opt.zero_grad()
        F.cross_entropy(model.logits_of(x[idx]), t[idx]).backward()
        opt.step()
    model.eval()
    export(model, (1, 28, 28), os.path.join(out, 'trained.onnx'))
    xt = torch.tensor(read_idx(test_images), dtype=torch.float32).unsqueeze(1) / 255
    lt = read_idx(test_labels)
    with torch.no_grad():
        y = model(xt).numpy()
    save_csv(os.path.join(out, 'test.csv'), np.concatenate([xt.reshape(len(xt), -1).numpy(),
                                                            lt.reshape(-1, 1)], axis=1))
    save_csv(os.path.join(out, 'trained.torch.csv'), y)
    print('torch accuracy %.4f' % float(np.mean(y.argmax(1) == lt)))


if __name__ == '__main__':
    if sys.argv[1] == 'export':
        cmd_export(sys.argv[2])
    elif sys.argv[1] == 'finetune':
        cmd_finetune(*sys.argv[2:7])
    else:
        sys.exit('usage: torch_models.py export OUTDIR | finetune OUTDIR TRAIN_IMG TRAIN_LBL TEST_IMG TEST_LBL')
