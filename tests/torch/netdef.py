"""netdef.py: one description of a test model, two renderings.

A Net is built in Python with the ops of SPEC §1; it renders itself as a
.lyr file for layerc and as a PyTorch twin (nn.Linear for dense, nn.Conv2d,
nn.MaxPool2d / nn.AvgPool2d, F.linear, F.softmax, ...), so that the two
cannot drift apart.  The twin takes its weight values from the C side (the
generated NAME_init, exported by the driver), never from its own init.
"""

import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


# torch says its padding='same' with an even kernel copies the input: true, and harmless here
warnings.filterwarnings("ignore", message="Using padding='same' with even kernel")

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
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(fmt_num(x) for x in v) + "]"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return repr(float(v))


def pair(v):
    """k or [h, w] -> (h, w)"""
    return tuple(v) if isinstance(v, (list, tuple)) else (v, v)


def conv_side(n, k, s, p, d):
    """One side of a convolution: (outputs, padding before, padding after);
    p = "same" as Keras/TFLite (ceil(n / s) outputs, the odd one after)."""
    span = (k - 1) * d + 1
    if p == "same":
        o = -(-n // s)
        total = max((o - 1) * s + span - n, 0)
        return o, total // 2, total - total // 2
    return (n + 2 * p - span) // s + 1, p, p


def conv_geometry(net, L):
    """[(out, before, after)] per spatial side of a conv2d / conv1d layer."""
    o = L.opts
    ins = net.shapes[L.args[0]][1:]
    if L.op == "conv1d":
        return [conv_side(ins[0], o["kernel"], o.get("stride", 1), o.get("pad", 0), o.get("dilation", 1))]
    k, s, d = pair(o["kernel"]), pair(o.get("stride", 1)), pair(o.get("dilation", 1))
    p = o.get("pad", 0)
    p = (p, p) if p == "same" else pair(p)
    return [conv_side(ins[i], k[i], s[i], p[i], d[i]) for i in range(2)]


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
        if op in ELEMENTWISE or op in ("dropout", "batchnorm", "layernorm"):
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
        if op in ("conv2d", "conv1d"):
            assert len(S[a[0]]) == (3 if op == "conv2d" else 2), S[a[0]]
            g = o.get("groups", 1)
            assert S[a[0]][0] % g == 0 and a[1] % g == 0
            geo = conv_geometry(self, Layer("", op, a, o, None))
            return (a[1],) + tuple(side[0] for side in geo)
        if op in ("maxpool", "avgpool"):
            c, h, w = S[a[0]]
            k = pair(o.get("size", 2))
            s = pair(o.get("stride", o.get("size", 2)))
            return (c, (h - k[0]) // s[0] + 1, (w - k[1]) // s[1] + 1)
        if op in ("maxpool1d", "avgpool1d"):
            c, n = S[a[0]]
            k = o.get("size", 2)
            s = o.get("stride", k)
            return (c, (n - k) // s + 1)
        if op in ("global_avgpool", "global_maxpool"):
            assert len(S[a[0]]) in (2, 3)
            return (S[a[0]][0],)
        raise ValueError(op)

    @property
    def out_size(self):
        return prod(self.shapes[self.output])

    @property
    def in_size(self):
        return prod(self.input_shape)

    def has_dropout(self):
        return any(L.op == "dropout" for L in self.layers)

    def buffers(self):
        """The weights of role buffer (batchnorm's running statistics), by name."""
        return [f"{L.name}.{b}" for L in self.layers if L.op == "batchnorm" for b in ("mean", "var")]

    def own_trainable(self):
        """The trainable weights the ops create (dense and conv2d W and b, the norms' gamma, beta)."""
        names = set()
        for L in self.layers:
            if L.op in ("dense", "conv2d", "conv1d"):
                names |= {f"{L.name}.{w}" for w in "Wb" if w == "W" or L.opts.get("bias", 1)}
            elif L.op in ("batchnorm", "layernorm"):
                names |= {f"{L.name}.gamma", f"{L.name}.beta"}
        return names

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
        self.prepad = {}       # layer -> F.pad amounts applied before its module (pad=same, strides)
        self.tensors = {}      # name as in NAME_params -> the leaf tensor
        self.buffers = {}      # batchnorm's running statistics: name -> the module's buffer
        for name, (shape, frozen, _) in net.weights.items():
            t = nn.Parameter(self._t(params[name]).reshape(shape), requires_grad=not frozen)
            self.tensors[name] = t
        for L in net.layers:
            if L.op == "dense":
                n = prod(net.shapes[L.args[0]])
                bias = bool(L.opts.get("bias", 1))
                m = nn.Linear(n, L.args[1], bias=bias)
            elif L.op in ("conv2d", "conv1d"):
                m = self._conv(net, L)
            elif L.op in ("maxpool", "avgpool"):
                k = pair(L.opts.get("size", 2))
                s = pair(L.opts.get("stride", L.opts.get("size", 2)))
                m = (nn.MaxPool2d if L.op == "maxpool" else nn.AvgPool2d)(k, stride=s)
            elif L.op in ("maxpool1d", "avgpool1d"):
                k = L.opts.get("size", 2)
                m = (nn.MaxPool1d if L.op == "maxpool1d" else nn.AvgPool1d)(k, stride=L.opts.get("stride", k))
            elif L.op == "global_maxpool":
                m = (nn.AdaptiveMaxPool2d if len(net.shapes[L.args[0]]) == 3 else nn.AdaptiveMaxPool1d)(1)
            elif L.op == "dropout":
                m = nn.Dropout(self._rate(L))
            elif L.op == "batchnorm":
                shape = net.shapes[L.args[0]]
                bn = {1: nn.BatchNorm1d, 2: nn.BatchNorm1d, 3: nn.BatchNorm2d, 4: nn.BatchNorm3d}[len(shape)]
                m = bn(shape[0], eps=float(L.opts.get("eps", 1e-5)), momentum=float(L.opts.get("momentum", 0.1)))
            elif L.op == "layernorm":
                m = nn.LayerNorm(net.shapes[L.args[0]][-1], eps=float(L.opts.get("eps", 1e-5)))
            else:
                continue
            m = m.to(dtype)
            if L.op in ("batchnorm", "layernorm"):
                with torch.no_grad():
                    m.weight.copy_(self._t(params[L.name + ".gamma"]))
                    m.bias.copy_(self._t(params[L.name + ".beta"]))
                self.tensors[L.name + ".gamma"] = m.weight
                self.tensors[L.name + ".beta"] = m.bias
            if L.op == "batchnorm":
                with torch.no_grad():
                    m.running_mean.copy_(self._t(params[L.name + ".mean"]))
                    m.running_var.copy_(self._t(params[L.name + ".var"]))
                self.buffers[L.name + ".mean"] = m.running_mean
                self.buffers[L.name + ".var"] = m.running_var
            if L.op in ("dense", "conv2d", "conv1d"):
                with torch.no_grad():
                    m.weight.copy_(self._t(params[L.name + ".W"]).reshape(m.weight.shape))
                    self.tensors[L.name + ".W"] = m.weight
                    if m.bias is not None:
                        m.bias.copy_(self._t(params[L.name + ".b"]))
                        self.tensors[L.name + ".b"] = m.bias
            self.mods[L.name] = m

    def _conv(self, net, L):
        """nn.Conv2d / nn.Conv1d of layer L.  pad=same: torch's own padding='same'
        at stride 1 (it pads the odd one after, as Keras); with strides torch
        refuses it, so the twin pads with F.pad as Keras does and convolves
        unpadded."""
        o = L.opts
        c = net.shapes[L.args[0]][0]
        two = L.op == "conv2d"
        conv = nn.Conv2d if two else nn.Conv1d
        k = pair(o["kernel"]) if two else o["kernel"]
        s = pair(o.get("stride", 1)) if two else o.get("stride", 1)
        d = pair(o.get("dilation", 1)) if two else o.get("dilation", 1)
        p = o.get("pad", 0)
        if p == "same" and s in (1, (1, 1)):
            padding = "same"
        elif p == "same":
            geo = conv_geometry(net, L)
            # F.pad takes the last dimension first: (left, right[, top, bottom])
            self.prepad[L.name] = tuple(v for side in reversed(geo) for v in side[1:])
            padding = 0
        else:
            padding = pair(p) if two else p
        return conv(c, L.args[1], k, stride=s, padding=padding, dilation=d, groups=o.get("groups", 1),
                    bias=bool(o.get("bias", 1)))

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
        if opt == "rmsprop":
            return torch.optim.RMSprop(groups, lr=hp.get("lr", 0.01), alpha=hp.get("alpha", 0.99),
                                       eps=hp.get("eps", 1e-8), momentum=hp.get("momentum", 0),
                                       centered=bool(hp.get("centered", 0)))
        if opt == "adadelta":
            return torch.optim.Adadelta(groups, lr=hp.get("lr", 1.0), rho=hp.get("rho", 0.9),
                                        eps=hp.get("eps", 1e-6))
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
            elif op in ("conv2d", "conv1d", "maxpool", "avgpool", "maxpool1d", "avgpool1d"):
                x = v[a[0]]
                if L.name in self.prepad:
                    x = F.pad(x, self.prepad[L.name])
                y = self.mods[L.name](x)
            elif op == "global_avgpool":
                y = v[a[0]].mean(tuple(range(2, v[a[0]].dim())))
            elif op == "global_maxpool":
                y = self.mods[L.name](v[a[0]]).flatten(1)
            elif op == "layernorm":
                y = self.mods[L.name](v[a[0]])
            elif op == "batchnorm":
                m = self.mods[L.name]
                m.train(training)
                y = m(v[a[0]])
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
        return {k: t.detach().double().numpy().reshape(-1).copy()
                for k, t in list(self.tensors.items()) + list(self.buffers.items())}

    def grads(self):
        return {k: (t.grad.detach().double().numpy().reshape(-1).copy() if t.grad is not None else None)
                for k, t in self.tensors.items()}
