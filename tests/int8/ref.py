#!/usr/bin/python3
"""tests/int8/ref.py: an independent NumPy model of the TensorFlow Lite int8
arithmetic, for checking layerc's --quantize int8 C bit for bit.

    ref.py MODEL.lyr WEIGHTS.npz M.c DATA.csv QX.csv QY.csv

It reads the model's layers from the .lyr (its own small parser: one
`input`/`layer`/`output` statement a line), the float weights from
`layerc export --npz`, and each layer's calibrated range from the
"@range NAME LO HI" lines of the generated C (the only thing it takes from
layerc's output).  From those it chooses every scale and zero point,
quantises the weights, biases and multipliers, and computes every layer with
the reference kernels' integer arithmetic (tensorflow/lite/kernels/internal/
common.h: SaturatingRoundingDoublingHighMul, RoundingDivideByPOT,
MultiplyByQuantizedMultiplier; reference/integer_ops: fully connected,
conv, depthwise conv, pooling, add; the Requantize of concat; softmax, sigmoid
and tanh through tables).  It writes the quantised inputs of DATA's rows (QX,
for the C to read) and its int8 outputs (QY).  Tables of exp, tanh and the
sigmoid use Python's math (the C library's functions, as layerc does).
"""
import math
import re
import sys

import numpy as np

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1


def round_away(x):
    """std::round: half away from zero."""
    return -math.floor(-x + 0.5) if x < 0 else math.floor(x + 0.5)


def np_round_away(x):
    return np.where(x < 0, -np.floor(-x + 0.5), np.floor(x + 0.5))


def choose(lo, hi):
    """ChooseQuantizationParams for int8."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    if not hi > lo:
        return 1.0, 0
    scale = (hi - lo) / 255.0
    zmin, zmax = -128.0 - lo / scale, 127.0 - hi / scale
    emin, emax = 128.0 + abs(lo / scale), 127.0 + abs(hi / scale)
    z = zmin if emin < emax else zmax
    return scale, (-128 if z < -128 else 127 if z > 127 else int(round_away(z)))


def quantize_multiplier(real):
    """QuantizeMultiplier: real = m 2^(shift - 31)."""
    if real == 0:
        return 0, 0
    q, e = math.frexp(real)
    fixed = int(round_away(q * 2147483648.0))
    if fixed == 1 << 31:
        fixed //= 2
        e += 1
    if e < -31:
        fixed, e = 0, 0
    return fixed, e


def high_mul(a, b):
    """SaturatingRoundingDoublingHighMul, elementwise on int64 arrays."""
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    ab = a * b
    v = ab + np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    r = np.where(v >= 0, v >> 31, -((-v) >> 31))   # C division truncates
    return np.where((a == b) & (a == INT32_MIN), INT32_MAX, r)


def div_pot(x, e):
    """RoundingDivideByPOT."""
    x, e = np.asarray(x, np.int64), np.asarray(e, np.int64)
    mask = (np.int64(1) << e) - 1
    rem = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> e) + (rem > threshold)


def requant(x, mult, shift):
    """MultiplyByQuantizedMultiplier (a left shift that overflows saturates)."""
    shift = np.asarray(shift, np.int64)
    left, right = np.maximum(shift, 0), np.maximum(-shift, 0)
    v = np.clip(np.asarray(x, np.int64) << left, INT32_MIN, INT32_MAX)
    return div_pot(high_mul(v, mult), right)


def bound(q, real):
    scale, zero = q
    if math.isinf(real):
        return 127 if real > 0 else -128
    v = zero + round_away(real / scale)
    return int(min(max(v, -128), 127))


# ---- the model file ---------------------------------------------------------

STMT = re.compile(r"^\s*(input|layer|output)\s+(\w+)\s*(?:=\s*(\w+)\((.*)\)|\[(.*)\])\s*;")


def parse_value(v):
    v = v.strip()
    if v.startswith("["):
        return [int(t) for t in v[1:-1].split(",")]
    if re.fullmatch(r"-?\d+", v):
        return int(v)
    if re.fullmatch(r"-?[\d.]+(e-?\d+)?", v):
        return float(v)
    return v


def split_args(s):
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
            continue
        depth += ch == "["
        depth -= ch == "]"
        cur += ch
    if cur.strip():
        out.append(cur)
    return out


def parse_model(path):
    layers, output = [], None
    for line in open(path):
        line = line.split("#")[0]
        m = STMT.match(line)
        if not m:
            continue
        kind, name, op, args, dims = m.groups()
        if kind == "input":
            layers.append({"name": name, "op": "input", "shape": [int(d) for d in dims.split(",")]})
            continue
        pos, kw = [], {}
        for a in split_args(args):
            if "=" in a:
                k, v = a.split("=", 1)
                kw[k.strip()] = parse_value(v)
            else:
                pos.append(parse_value(a))
        layers.append({"name": name, "op": op, "pos": pos, "kw": kw})
        if kind == "output":
            output = name
    return layers, output


INPUTS = {"concat": None, "add": 2}


def inputs_of(l):
    n = INPUTS.get(l["op"], 1)
    return [p for p in l["pos"]] if n is None else l["pos"][:n]


def arg(l, k, key, default):
    """Argument k of layer l, given by position or as key=."""
    if key in l["kw"]:
        return l["kw"][key]
    return l["pos"][k] if len(l["pos"]) > k else default


def pair(v, default):
    v = default if v is None else v
    return (v, v) if isinstance(v, int) else tuple(v)


def _clip(l, x):
    lo, hi = float(arg(l, 1, "lo", 0)), float(arg(l, 2, "hi", 0))
    return lo if x < lo else hi if x > hi else x


# activations computed through a table, the output quantised by its range
CALIBRATED_LUT = {
    "leaky_relu": lambda l, x: x if x > 0 else float(arg(l, 1, "alpha", 0.01)) * x,
    "elu": lambda l, x: x if x > 0 else float(arg(l, 1, "alpha", 1)) * (math.exp(x) - 1),
    "hardswish": lambda l, x: x * min(max(x + 3, 0.0), 6.0) / 6,
    "silu": lambda l, x: x / (1 + math.exp(-x)),
    "gelu": lambda l, x: 0.5 * x * (1 + math.erf(x / math.sqrt(2.0))),
    "clip": _clip,
}


# ---- the layers -------------------------------------------------------------

def fold_batchnorm(layers, output, w):
    """A batchnorm read from a dense/conv2d that nothing else reads goes into
    its weights, as layerc's fold.c: scale = gamma / sqrt(var + eps), shift =
    beta - mean scale, W' = W scale, b' = b scale + shift, each rounded to
    float32; readers of the batchnorm read the layer before it."""
    readers = {}
    for l in layers[1:]:
        for i in inputs_of(l):
            readers[i] = readers.get(i, 0) + 1
    by = {l["name"]: l for l in layers}
    kept, renamed = [], {}
    for l in layers:
        if l["op"] != "input":
            l["pos"] = [renamed.get(p, p) if isinstance(p, str) else p for p in l["pos"]]
        if l["op"] == "batchnorm":
            p = l["pos"][0]
            if by[p]["op"] in ("dense", "conv2d", "conv1d") and readers.get(p) == 1:
                n = l["name"]
                eps = float(arg(l, 2, "eps", 1e-5))
                g, beta = w[n + ".gamma"].astype(np.float64), w[n + ".beta"].astype(np.float64)
                mu, var = w[n + ".mean"].astype(np.float64), w[n + ".var"].astype(np.float64)
                scale = g / np.sqrt(var + eps)
                shift = beta - mu * scale
                W = w[p + ".W"].astype(np.float64)
                b = w.get(p + ".b", np.zeros(W.shape[0], np.float32)).astype(np.float64)
                w[p + ".W"] = (W * scale.reshape([-1] + [1] * (W.ndim - 1))).astype(np.float32)
                w[p + ".b"] = (b * scale + shift).astype(np.float32)
                renamed[n] = p
                if output == n:
                    output = p
                continue
        kept.append(l)
    return kept, output


class Ref:
    def __init__(self, layers, output, weights, ranges):
        layers, output = fold_batchnorm(layers, output, weights)
        self.layers = {l["name"]: l for l in layers}
        self.order = [l["name"] for l in layers]
        self.output = output
        self.w = weights
        self.ranges = ranges
        readers = {}
        for l in layers[1:]:
            for i in inputs_of(l):
                readers[i] = readers.get(i, 0) + 1
        # a relu/relu6 read alone from a dense/conv2d folds into its clamp
        self.takes = {}
        self.absorbed = set()
        for l in layers[1:]:
            if l["op"] in ("relu", "relu6"):
                p = l["pos"][0]
                if self.layers[p]["op"] in ("dense", "conv2d", "conv1d") and readers.get(p) == 1 and p != output:
                    self.takes[p] = l["name"]
                    self.absorbed.add(l["name"])
        self.q, self.clamp, self.shape = {}, {}, {}

    def quant_of(self, name):
        lo, hi = self.ranges[name]
        return choose(lo, hi)

    def run_input(self, name, x):
        l = self.layers[name]
        self.q[name] = self.quant_of(name)
        self.clamp[name] = (-128, 127)
        self.shape[name] = l["shape"]
        return x.reshape([x.shape[0]] + l["shape"])

    def channel_weights(self, name, qin, qout):
        W = self.w[name + ".W"].astype(np.float64)
        b = self.w.get(name + ".b")
        rows = W.shape[0]
        flat = W.reshape(rows, -1)
        m = np.abs(flat).max(axis=1)
        sw = np.where(m > 0, m / 127.0, 1.0)
        qw = np.clip(np_round_away(flat / sw[:, None]), -127, 127).astype(np.int64).reshape(W.shape)
        qb = np.zeros(rows, np.int64)
        if b is not None:
            b = b.astype(np.float64)
            qb = np.array([int(round_away(b[r] / (qin[0] * sw[r]))) for r in range(rows)], np.int64)
        mults = [quantize_multiplier(qin[0] * sw[r] / qout[0]) for r in range(rows)]
        return qw, qb, np.array([m for m, _ in mults], np.int64), np.array([s for _, s in mults], np.int64)

    def out_quant(self, name):
        """Calibrated quantisation and clamp of a dense/conv2d (a folded relu's)."""
        r = self.takes.get(name)
        q = self.quant_of(r or name)
        if r is None:
            return q, (-128, 127)
        hi = math.inf if self.layers[r]["op"] == "relu" else 6.0
        return q, (bound(q, 0.0), bound(q, hi))

    def finish(self, name, acc, mult, shift, q, clamp):
        y = requant(acc, mult, shift) + q[1]
        return np.clip(y, clamp[0], clamp[1])

    def dense(self, name, l, x):
        src = l["pos"][0]
        qin = self.q[src]
        q, clamp = self.out_quant(name)
        qw, qb, mult, shift = self.channel_weights(name, qin, q)
        xs = x.reshape(x.shape[0], -1).astype(np.int64) - qin[1]
        acc = xs @ qw.T + qb
        self.q[name], self.clamp[name], self.shape[name] = q, clamp, [qw.shape[0]]
        return self.finish(name, acc, mult, shift, q, clamp)

    def conv2d(self, name, l, x, one_d=False):
        """conv2d; conv1d as a convolution of height 1 (x [B, C, 1, L])."""
        src = l["pos"][0]
        qin = self.q[src]
        q, clamp = self.out_quant(name)
        qw, qb, mult, shift = self.channel_weights(name, qin, q)
        if one_d:
            qw = qw[:, :, None, :]
        OC, cg, KH, KW = qw.shape
        B, C, H, W = x.shape
        G = arg(l, 6, "groups", 1)
        SH, SW = pair(arg(l, 3, "stride", 1), 1)
        DH, DW = pair(arg(l, 5, "dilation", 1), 1)
        if one_d:
            SH = DH = 1
        spanh, spanw = (KH - 1) * DH + 1, (KW - 1) * DW + 1
        pad = arg(l, 4, "pad", 0)
        if pad == "same":
            OH, OW = -(-H // SH), -(-W // SW)
            PH, PW = max((OH - 1) * SH + spanh - H, 0) // 2, max((OW - 1) * SW + spanw - W, 0) // 2
        else:
            PH, PW = pair(pad, 0)
            if one_d:
                PH = 0
            OH, OW = (H + 2 * PH - spanh) // SH + 1, (W + 2 * PW - spanw) // SW + 1
        after_h = max((OH - 1) * SH + spanh - H - PH, 0)
        after_w = max((OW - 1) * SW + spanw - W - PW, 0)
        xs = np.pad(x.astype(np.int64) - qin[1], ((0, 0), (0, 0), (PH, after_h), (PW, after_w)))
        acc = np.zeros((B, OC, OH, OW), np.int64) + qb[None, :, None, None]
        og = OC // G
        for i in range(KH):
            for j in range(KW):
                patch = xs[:, :, i * DH: i * DH + SH * (OH - 1) + 1: SH, j * DW: j * DW + SW * (OW - 1) + 1: SW]
                for g in range(G):
                    acc[:, g * og:(g + 1) * og] += np.einsum(
                        "oc,bchw->bohw", qw[g * og:(g + 1) * og, :, i, j], patch[:, g * cg:(g + 1) * cg])
        self.q[name], self.clamp[name], self.shape[name] = q, clamp, [OC, OW] if one_d else [OC, OH, OW]
        y = self.finish(name, acc, mult[None, :, None, None], shift[None, :, None, None], q, clamp)
        return y[:, :, 0, :] if one_d else y

    def pool(self, name, l, x, kind):
        """the pools; of a sequence [C, L] as of an image of height 1"""
        src = l["pos"][0]
        self.q[name], self.clamp[name] = self.q[src], (-128, 127)
        one_d = x.ndim == 3
        if one_d:
            x = x[:, :, None, :]
        B, C, H, W = x.shape
        if kind.startswith("global"):
            KH, KW, SH, SW = H, W, 1, 1
        elif one_d:
            KH = SH = 1
            KW = arg(l, 1, "size", 2)
            SW = arg(l, 2, "stride", None) or KW
        else:
            KH, KW = pair(arg(l, 1, "size", 2), 2)
            st = arg(l, 2, "stride", None)
            SH, SW = pair(st, None) if st is not None else (KH, KW)
        OH, OW = (H - KH) // SH + 1, (W - KW) // SW + 1
        win = np.stack([x[:, :, i: i + SH * (OH - 1) + 1: SH, j: j + SW * (OW - 1) + 1: SW].astype(np.int64)
                        for i in range(KH) for j in range(KW)])
        if kind.endswith("maxpool"):
            y = win.max(axis=0)
        else:
            s, n = win.sum(axis=0), KH * KW
            y = np.where(s > 0, (s + n // 2) // n, -((-(s - n // 2)) // n))
            y = np.clip(y, -128, 127)
        if kind.startswith("global"):
            self.shape[name] = [C]
            return y.reshape(B, C)
        self.shape[name] = [C, OW] if one_d else [C, OH, OW]
        return y[:, :, 0, :] if one_d else y

    def add(self, name, l, x):
        a, b = l["pos"][:2]
        qa, qb, qy = self.q[a], self.q[b], self.quant_of(name)
        twice = 2 * max(qa[0], qb[0])
        am, ash = quantize_multiplier(qa[0] / twice)
        bm, bsh = quantize_multiplier(qb[0] / twice)
        ym, ysh = quantize_multiplier(twice / (1048576.0 * qy[0]))
        xa = (self.vals[a].astype(np.int64) - qa[1]) << 20
        xb = (self.vals[b].astype(np.int64) - qb[1]) << 20
        s = requant(xa, am, ash) + requant(xb, bm, bsh)
        self.q[name], self.clamp[name], self.shape[name] = qy, (-128, 127), self.shape[a]
        return np.clip(requant(s, ym, ysh) + qy[1], -128, 127)

    def concat(self, name, l, x):
        qy = self.quant_of(name)
        parts = []
        for s in l["pos"]:
            v = self.vals[s].reshape(self.vals[s].shape[0], -1).astype(np.int64)
            qx = self.q[s]
            if qx == qy:
                parts.append(v)
            else:
                m, sh = quantize_multiplier(qx[0] / qy[0])
                parts.append(np.clip(requant(v - qx[1], m, sh) + qy[1], -128, 127))
        y = np.concatenate(parts, axis=1)
        self.q[name], self.clamp[name], self.shape[name] = qy, (-128, 127), [y.shape[1]]
        return y

    def lut(self, name, l, x, fn, q):
        qin = self.q[l["pos"][0]]
        table = np.array([bound(q, fn(qin[0] * (v - qin[1]))) for v in range(-128, 128)], np.int64)
        self.q[name], self.clamp[name], self.shape[name] = q, (-128, 127), self.shape[l["pos"][0]]
        return table[x.astype(np.int64) + 128]

    def softmax(self, name, l, x):
        s = self.q[l["pos"][0]][0]
        t = np.array([int(round_away(65536.0 * math.exp(-s * d))) for d in range(256)], np.int64)
        x = x.astype(np.int64)
        e = t[x.max(axis=1, keepdims=True) - x]
        tot = e.sum(axis=1, keepdims=True)
        self.q[name], self.clamp[name], self.shape[name] = (1 / 256.0, -128), (-128, 127), self.shape[l["pos"][0]]
        return np.clip((e * 256 + tot // 2) // tot - 128, -128, 127)

    def run(self, qx):
        self.vals = {}
        for name in self.order:
            l = self.layers[name]
            op = l["op"]
            x = self.vals.get(l["pos"][0]) if op != "input" else None
            if op == "input":
                y = self.run_input(name, qx)
            elif name in self.absorbed or op in ("flatten", "reshape", "identity"):
                src = l["pos"][0]
                self.q[name], self.clamp[name] = self.q[src], self.clamp[src]
                if op == "reshape":
                    shape = l["pos"][1]
                elif op == "flatten":
                    shape = [int(np.prod(self.shape[src]))]
                else:
                    shape = self.shape[src]
                self.shape[name] = shape
                y = x.reshape([x.shape[0]] + list(shape))
            elif op == "dense":
                y = self.dense(name, l, x)
            elif op == "conv2d":
                y = self.conv2d(name, l, x)
            elif op == "conv1d":
                y = self.conv2d(name, l, x[:, :, None, :], one_d=True)
            elif op in ("maxpool", "avgpool", "global_avgpool", "global_maxpool"):
                y = self.pool(name, l, x, op)
            elif op in ("maxpool1d", "avgpool1d"):
                y = self.pool(name, l, x, op[:-2])
            elif op in ("relu", "relu6"):
                q = self.q[l["pos"][0]]
                lo, hi = bound(q, 0.0), bound(q, math.inf if op == "relu" else 6.0)
                self.q[name], self.clamp[name], self.shape[name] = q, (lo, hi), self.shape[l["pos"][0]]
                y = np.clip(x, lo, hi)
            elif op == "add":
                y = self.add(name, l, x)
            elif op == "concat":
                y = self.concat(name, l, x)
            elif op == "sigmoid":
                y = self.lut(name, l, x, lambda v: 1 / (1 + math.exp(-v)), (1 / 256.0, -128))
            elif op == "tanh":
                y = self.lut(name, l, x, math.tanh, (1 / 128.0, 0))
            elif op == "softmax":
                y = self.softmax(name, l, x)
            elif op in CALIBRATED_LUT:
                y = self.lut(name, l, x, lambda v, l=l, f=CALIBRATED_LUT[op]: f(l, v), self.quant_of(name))
            else:
                raise SystemExit("ref.py: no int8 model of %s" % op)
            self.vals[name] = y
        return self.vals[self.output]


def main():
    lyr, npz, csrc, data, qx_path, qy_path = sys.argv[1:7]
    layers, output = parse_model(lyr)
    weights = dict(np.load(npz))
    ranges = {}
    for line in open(csrc):
        m = re.match(r"\s*\*\s*@range\s+(\w+)\s+(\S+)\s+(\S+)", line)
        if m:
            ranges[m.group(1)] = (float(m.group(2)), float(m.group(3)))
    ref = Ref(layers, output, weights, ranges)
    size = int(np.prod(layers[0]["shape"]))
    rows = np.loadtxt(data, delimiter=",", ndmin=2)[:, :size]
    scale, zero = choose(*ranges[layers[0]["name"]])
    qx = np.clip(np_round_away(rows / scale) + zero, -128, 127).astype(np.int64)
    qy = ref.run(qx).reshape(qx.shape[0], -1)
    np.savetxt(qx_path, qx, fmt="%d", delimiter=",")
    np.savetxt(qy_path, qy, fmt="%d", delimiter=",")


if __name__ == "__main__":
    main()
