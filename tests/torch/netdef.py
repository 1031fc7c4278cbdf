"""netdef.py: one description of a test model, two renderings.

A Net is built in Python with the ops of SPEC §1; it renders itself as a
.lyr file for layerc and as a PyTorch twin (nn.Linear for dense, nn.Conv2d,
nn.MaxPool2d / nn.AvgPool2d, F.linear, F.softmax, ...), so that the two
cannot drift apart.  The twin takes its weight values from the C side (the
generated NAME_init, exported by the driver), never from its own init.
"""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


# Elementwise ops, s -> s: op name -> f(x, opts) in torch.  A test case of
# a new elementwise op registers its twin with elementwise() beside the case.
ELEMENTWISE = {
    "identity": lambda x, o: x,
    "relu": lambda x, o: F.relu(x),
    "sigmoid": lambda x, o: torch.sigmoid(x),
    "tanh": lambda x, o: torch.tanh(x),
    "leaky_relu": lambda x, o: F.leaky_relu(x, float(o.get("alpha", 0.01))),
}


def elementwise(op, fn):
    """Registers the PyTorch twin fn(x, opts) of the elementwise op `op`."""
    ELEMENTWISE[op] = fn


def prod(s):
    return int(np.prod(s)) if len(s) else 1


def fmt_num(v):
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return repr(float(v))


class Layer:
    def __init__(self, name, op, args, opts, shape):
        self.name, self.op, self.args, self.opts, self.shape = name, op, args, opts, shape


class Net:
    """Builder: net.layer(name, op, *args, **opts) appends a layer and returns its name."""

    def __init__(self, name, input_shape, input_name="x"):
        self.name = name
        self.input_name = input_name
        self.input_shape = tuple(input_shape)
        self.shapes = {input_name: self.input_shape}
        self.stmts = []             # ('weight', name) | ('layer', Layer) in source order
        self.weights = {}           # name -> (shape, frozen, init text)
        self.layers = []
        self.output = None
        self.output_marked = False  # `output NAME;` form instead of `output NAME = OP(...)`
        self.loss = None
        self.optimizer = ("sgd", {"lr": 0.01})
        self.batch = 32
        self.seed = 1
        self.extra_train = {}

    # ---- declarations
    def weight(self, name, shape, init=None, frozen=False):
        self.weights[name] = (tuple(shape), frozen, init)
        self.stmts.append(("weight", name))
        return name

    def layer(self, name, op, *args, **opts):
        shape = self._infer(op, args, opts)
        L = Layer(name, op, args, opts, shape)
        self.layers.append(L)
        self.shapes[name] = shape
        self.stmts.append(("layer", L))
        return name

    def out(self, name, op=None, *args, **opts):
        """The output layer: defined here (op given) or an existing layer marked."""
        if op is None:
            self.output_marked = True
        else:
            self.layer(name, op, *args, **opts)
            self.stmts[-1] = ("output", self.layers[-1])
        self.output = name
        return name

    def set_loss(self, kind):
        self.loss = kind

    def train(self, optimizer, batch, seed=1, **hyper):
        self.optimizer = (optimizer, hyper)
        self.batch = batch
        self.seed = seed

    # ---- shapes (SPEC §1, Operations)
    def _infer(self, op, a, o):
        S = self.shapes
        if op in ELEMENTWISE or op == "dropout":
            return S[a[0]]
        if op == "softmax":
            assert len(S[a[0]]) == 1
            return S[a[0]]
        if op == "linear":
            assert len(S[a[0]]) == 1
            return (self.weights[a[1]][0][0],)
        if op == "dense":
            return (a[1],)
        if op in ("add", "mul"):
            assert S[a[0]] == S[a[1]], (S[a[0]], S[a[1]])
            return S[a[0]]
        if op == "concat":
            return (sum(prod(S[n]) for n in a),)
        if op == "flatten":
            return (prod(S[a[0]]),)
        if op == "reshape":
            assert prod(a[1]) == prod(S[a[0]])
            return tuple(a[1])
        if op == "conv2d":
            c, h, w = S[a[0]]
            k, s, p = o["kernel"], o.get("stride", 1), o.get("pad", 0)
            return (a[1], (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1)
        if op in ("maxpool", "avgpool"):
            c, h, w = S[a[0]]
            k = o.get("size", 2)
            s = o.get("stride", k)
            return (c, (h - k) // s + 1, (w - k) // s + 1)
        raise ValueError(op)

    @property
    def out_size(self):
        return prod(self.shapes[self.output])

    @property
    def in_size(self):
        return prod(self.input_shape)

    def has_dropout(self):
        return any(L.op == "dropout" for L in self.layers)

    # ---- the .lyr text
    def lyr(self):
        out = [f"model {self.name};", f"input {self.input_name}[{', '.join(map(str, self.input_shape))}];"]
        for kind, item in self.stmts:
            if kind == "weight":
                shape, frozen, init = self.weights[item]
                line = ("frozen " if frozen else "") + f"weight {item}[{', '.join(map(str, shape))}]"
                if init:
                    line += " = " + init
                out.append(line + ";")
                continue
            L = item
            args = []
            for v in L.args:
                if isinstance(v, str):
                    args.append(v)
                elif isinstance(v, (list, tuple)):
                    args.append("[" + ", ".join(map(str, v)) + "]")
                else:
                    args.append(fmt_num(v))
            args += [f"{k}={v if isinstance(v, str) else fmt_num(v)}" for k, v in L.opts.items()]
            kw = "output" if kind == "output" else "layer"
            out.append(f"{kw} {L.name} = {L.op}({', '.join(args)});")
        if self.output_marked:
            out.append(f"output {self.output};")
        out.append(f"loss {self.loss}({self.output});")
        opt, hyper = self.optimizer
        hp = ", ".join(f"{k}={fmt_num(v)}" for k, v in hyper.items())
        out.append("train {")
        out.append(f"    optimizer = {opt}({hp});")
        out.append(f"    batch = {self.batch};")
        out.append(f"    seed = {self.seed};")
        out.append("    shuffle = 0;")
        out.append("    epochs = 3;")
        out.append("}")
        return "\n".join(out) + "\n"


class Twin:
    """The PyTorch twin of a Net (float32 unless dtype says otherwise)."""

    def __init__(self, net, params, dtype=torch.float32):
        """params: name -> numpy array, the C side's values for every weight."""
        self.net = net
        self.dtype = dtype
        self.mods = {}
        self.tensors = {}      # name as in NAME_params -> the leaf tensor
        for name, (shape, frozen, _) in net.weights.items():
            t = nn.Parameter(self._t(params[name]).reshape(shape), requires_grad=not frozen)
            self.tensors[name] = t
        for L in net.layers:
            if L.op == "dense":
                n = prod(net.shapes[L.args[0]])
                bias = bool(L.opts.get("bias", 1))
                m = nn.Linear(n, L.args[1], bias=bias)
            elif L.op == "conv2d":
                c = net.shapes[L.args[0]][0]
                m = nn.Conv2d(c, L.args[1], L.opts["kernel"], stride=L.opts.get("stride", 1),
                              padding=L.opts.get("pad", 0), bias=bool(L.opts.get("bias", 1)))
            elif L.op == "maxpool":
                k = L.opts.get("size", 2)
                m = nn.MaxPool2d(k, stride=L.opts.get("stride", k))
            elif L.op == "avgpool":
                k = L.opts.get("size", 2)
                m = nn.AvgPool2d(k, stride=L.opts.get("stride", k))
            elif L.op == "dropout":
                m = nn.Dropout(self._rate(L))
            else:
                continue
            m = m.to(dtype)
            if L.op in ("dense", "conv2d"):
                with torch.no_grad():
                    m.weight.copy_(self._t(params[L.name + ".W"]).reshape(m.weight.shape))
                    self.tensors[L.name + ".W"] = m.weight
                    if m.bias is not None:
                        m.bias.copy_(self._t(params[L.name + ".b"]))
                        self.tensors[L.name + ".b"] = m.bias
            self.mods[L.name] = m

    def _t(self, a):
        return torch.tensor(np.asarray(a, dtype=np.float64), dtype=self.dtype)

    @staticmethod
    def _rate(L):
        return float(L.args[1] if len(L.args) > 1 else L.opts["rate"])

    def trainable(self):
        return [t for t in self.tensors.values() if t.requires_grad]

    def param_groups(self, decay):
        """One group per weight decay: a layer's decay= adds to its kernel's (not its bias's)."""
        own = {L.name + ".W": float(L.opts["decay"]) for L in self.net.layers if "decay" in L.opts}
        groups = {}
        for name, t in self.tensors.items():
            if t.requires_grad:
                groups.setdefault(decay + own.get(name, 0.0), []).append(t)
        return [{"params": ts, "weight_decay": d} for d, ts in groups.items()]

    def optimizer(self):
        opt, hp = self.net.optimizer
        groups = self.param_groups(hp.get("weight_decay", 0))
        if opt == "sgd":
            return torch.optim.SGD(groups, lr=hp.get("lr", 0.01), momentum=hp.get("momentum", 0))
        return torch.optim.Adam(groups, lr=hp.get("lr", 0.001),
                                betas=(hp.get("beta1", 0.9), hp.get("beta2", 0.999)),
                                eps=hp.get("eps", 1e-8))

    def forward(self, x, training=False, masks=None):
        """x: [B, *input shape].  Returns every layer's output by name.
        training: dropout layers multiply by masks[name] (the C side's, see
        verify.py); in eval mode they are nn.Dropout in eval, the identity."""
        B = x.shape[0]
        v = {self.net.input_name: x}
        for L in self.net.layers:
            a = L.args
            op = L.op
            if op in ELEMENTWISE:
                y = ELEMENTWISE[op](v[a[0]], L.opts)
            elif op == "linear":
                y = F.linear(v[a[0]], self.tensors[a[1]], self.tensors[a[2]] if len(a) > 2 else None)
            elif op == "dense":
                y = self.mods[L.name](v[a[0]].flatten(1))
            elif op == "softmax":
                y = F.softmax(v[a[0]], -1)
            elif op == "add":
                y = v[a[0]] + v[a[1]]
            elif op == "mul":
                y = v[a[0]] * v[a[1]]
            elif op == "concat":
                y = torch.cat([v[n].flatten(1) for n in a], 1)
            elif op == "flatten":
                y = v[a[0]].flatten(1)
            elif op == "reshape":
                y = v[a[0]].reshape(B, *a[1])
            elif op in ("conv2d", "maxpool", "avgpool"):
                y = self.mods[L.name](v[a[0]])
            elif op == "dropout":
                if training:
                    y = v[a[0]] * masks[L.name]
                else:
                    d = self.mods[L.name]
                    d.eval()
                    y = d(v[a[0]])
            else:
                raise ValueError(op)
            v[L.name] = y
        return v

    def loss(self, v, truth):
        """The batch loss of SPEC §1 (Losses), truth as the C API takes it."""
        y = v[self.net.output]
        n = y.shape[0]
        t = self._t(truth).reshape(y.shape)
        if self.net.loss == "mse":
            return nn.MSELoss(reduction="sum")(y, t) / (2 * n)
        if self.net.loss == "cross_entropy":
            logits = v[self.pre_activation()]
            return nn.CrossEntropyLoss()(logits, t.argmax(1))
        if self.net.loss == "bce":
            return nn.BCELoss(reduction="sum")(y, t) / n
        raise ValueError(self.net.loss)

    def pre_activation(self):
        L = [L for L in self.net.layers if L.name == self.net.output][0]
        return L.args[0]

    def values(self):
        """name -> numpy float64 copy of every weight (a copy: the optimizer
        updates the tensors in place, and in float64 .double() is no copy)."""
        return {k: t.detach().double().numpy().reshape(-1).copy() for k, t in self.tensors.items()}

    def grads(self):
        return {k: (t.grad.detach().double().numpy().reshape(-1).copy() if t.grad is not None else None)
                for k, t in self.tensors.items()}
