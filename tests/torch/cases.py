"""cases.py: the models verify.py checks against PyTorch.

Every case is a Net (netdef.py), a batch (x, truth) and, when the C side's
own initialisation is not what the case needs, weight values to start from.
`quick` cases make up `verify.py --quick` (every `make test`): one or two per
op, loss and optimizer; the full run adds the option matrices (conv2d kernel x
stride x pad x bias, pooling sizes and strides), the edge cases and the
seeded random shapes.
"""
import zlib

import numpy as np

import torch
import torch.nn.functional as F

from netdef import Net, elementwise, prod


class Case:
    def __init__(self, name, covers, net, x, truth, params=None, quick=False, kind="std",
                 checks=None, jiggle=True):
        self.name = name
        self.covers = covers
        self.net = net
        self.x = np.asarray(x, dtype=np.float32)
        self.truth = np.asarray(truth, dtype=np.float32)
        self.params = params        # name -> values overriding NAME_init's
        self.quick = quick
        self.kind = kind            # "std" | "dropout_train"
        self.checks = checks        # extra checks: f(case, c_results) -> [(label, ok, detail)]
        self.jiggle = jiggle        # False: exact ties that moving inputs by one rounding would break

    @property
    def n(self):
        return self.x.shape[0]


def rng_for(name):
    return np.random.default_rng(zlib.crc32(name.encode()))


def make_truth(net, n, rng, binary=False):
    k = net.out_size
    if net.loss == "mse":
        return rng.standard_normal((n, k))
    if net.loss == "cross_entropy":
        t = np.zeros((n, k))
        t[np.arange(n), rng.integers(0, k, n)] = 1
        return t
    if binary:
        return rng.integers(0, 2, (n, k)).astype(float)
    return rng.uniform(0, 1, (n, k))


def head(net, src, loss, k, name="o"):
    """From layer src to the loss: dense(k) then the output layer the loss needs."""
    if loss == "mse":
        net.out(name, "dense", src, k)
    elif loss == "cross_entropy":
        net.layer("logits", "dense", src, k)
        net.out(name, "softmax", "logits")
    else:
        net.layer("z", "dense", src, k)
        net.out(name, "sigmoid", "z")
    net.set_loss(loss)


def case(name, covers, build, n, quick=False, loss=None, binary=False, params=None, x=None,
         truth=None, **kw):
    """build(net-less) -> Net; the batch is drawn from a generator seeded by the name."""
    rng = rng_for(name)
    net = build()
    if net.batch < n:
        net.batch = n
    if x is None:
        x = rng.standard_normal((n,) + net.input_shape)
    if truth is None:
        truth = make_truth(net, n, rng, binary)
    if callable(params):
        params = params(net, rng)
    return Case(name, covers, net, x, truth, params=params, quick=quick, **kw)


def mk(name, shape, opt="sgd", batch=1, **hyper):
    net = Net(name, shape)
    net.train(opt, batch, **(hyper or {"lr": 0.1}))
    return net


# ------------------------------------------------------------------- ops

def op_cases():
    C = []

    def identity():
        net = mk("m_identity", [5], lr=0.1)
        net.weight("W", [3, 5])
        net.weight("b", [3])
        net.layer("a", "identity", "x")
        net.layer("l", "linear", "a", "W", "b")
        net.out("o", "identity", "l")
        net.set_loss("mse")
        return net
    C.append(case("identity", "identity (input and output), linear with b", identity, 4, quick=True))

    def linear_nob():
        net = mk("m_linear", [17], lr=0.05)
        net.weight("W1", [9, 17])
        net.weight("W2", [3, 9], init="normal(0, 0.3)")
        net.layer("l1", "linear", "x", "W1")
        net.out("o", "linear", "l1", "W2")
        net.set_loss("mse")
        return net
    C.append(case("linear_nobias", "linear without b, two in a chain, 17 inputs", linear_nob, 5, quick=True))

    for bias in (1, 0):
        def dense(bias=bias):
            net = mk(f"m_dense{bias}", [7], lr=0.1)
            net.layer("h", "dense", "x", 8, bias=bias)
            net.out("o", "dense", "h", 3, bias=bias)
            net.set_loss("mse")
            return net
        C.append(case(f"dense_bias{bias}", f"dense(bias={bias}) = nn.Linear(bias={bool(bias)})", dense, 3,
                      quick=bias == 0))

    def dense_img():
        net = mk("m_dense_img", [2, 3, 5], lr=0.1)
        net.layer("h", "dense", "x", 4, init="xavier")
        net.out("o", "dense", "h", 1)
        net.set_loss("mse")
        return net
    def dense_big_batch():
        net = mk("m_dense_bb", [7], lr=0.1)
        net.layer("h", "dense", "x", 8)
        net.layer("t", "tanh", "h")
        net.out("o", "dense", "t", 3)
        net.set_loss("mse")
        net.batch = 16
        return net
    C.append(case("batch_above_n", "NAME_BATCH = 16 (train block) called with n = 5 samples", dense_big_batch, 5))

    C.append(case("dense_image_input", "dense on a [2,3,5] input (flattened), init=xavier", dense_img, 3))

    def zero_rows(layer_w, layer_b, rows):
        """Weights that make some pre-activations exactly 0 (x = anything)."""
        def f(net, rng):
            n_out, n_in = [L for L in net.layers if L.name == layer_w][0].args[1], \
                prod(net.shapes[net.layers[0].args[0]])
            W = rng.uniform(-0.5, 0.5, (n_out, n_in))
            b = rng.uniform(-0.5, 0.5, n_out)
            W[rows] = 0
            b[rows] = 0
            return {layer_w + ".W": W, layer_b + ".b": b}
        return f

    def act(op, **o):
        def build():
            net = mk(f"m_{op}", [6], lr=0.1)
            net.layer("h", "dense", "x", 10)
            net.layer("a", op, "h", **o)
            net.out("o", "dense", "a", 4)
            net.set_loss("mse")
            return net
        return build
    C.append(case("relu", "relu, incl. pre-activations exactly 0 (derivative 0 there, as torch)",
                  act("relu"), 6, quick=True, params=zero_rows("h", "h", [1, 6])))
    C.append(case("leaky_relu_default", "leaky_relu with the default alpha=0.01, exact zeros too",
                  act("leaky_relu"), 6, params=zero_rows("h", "h", [2])))
    C.append(case("leaky_relu_0.2", "leaky_relu(alpha=0.2)", act("leaky_relu", alpha=0.2), 6, quick=True))
    C.append(case("leaky_relu_-1.5", "leaky_relu with a negative alpha (-1.5)", act("leaky_relu", alpha=-1.5), 5))
    C.append(case("sigmoid", "sigmoid inside the graph (not fused with a loss)", act("sigmoid"), 5, quick=True))
    C.append(case("tanh", "tanh", act("tanh"), 5, quick=True))
    elementwise("elu", lambda x, o: F.elu(x, float(o.get("alpha", 1.0))))
    C.append(case("elu", "elu with the default alpha=1", act("elu"), 6, quick=True))
    C.append(case("elu_0.5", "elu(alpha=0.5)", act("elu", alpha=0.5), 5))

    def exact_values(values):
        """h = dense(x, 10) whose first pre-activations are exactly `values` (rows of 0 weights)."""
        def f(net, rng):
            W = rng.uniform(-0.5, 0.5, (10, 6))
            b = rng.uniform(-0.5, 0.5, 10)
            for i, v in enumerate(values):
                W[i] = 0
                b[i] = v
            return {"h.W": W, "h.b": b}
        return f
    elementwise("relu6", lambda x, o: F.relu6(x))
    elementwise("hardswish", lambda x, o: F.hardswish(x))
    elementwise("silu", lambda x, o: F.silu(x))
    elementwise("gelu", lambda x, o: F.gelu(x))
    elementwise("clip", lambda x, o: torch.clamp(x, float(o["lo"]), float(o["hi"])))
    C.append(case("relu6", "relu6, pre-activations exactly 0 and 6 (derivative 0 there, as hardtanh)",
                  act("relu6"), 6, quick=True, params=exact_values([0, 6, 7, -1])))
    C.append(case("relu6_wide", "relu6 on pre-activations spread over [-9, 9]", act("relu6"), 5,
                  x=rng_for("relu6w").uniform(-9, 9, (5, 6))))
    C.append(case("hardswish", "hardswish, pre-activations exactly -3 and 3 (derivative x/3 + 1/2 on [-3, 3])",
                  act("hardswish"), 6, quick=True, params=exact_values([-3, 3, -4, 4, 0])))
    C.append(case("silu", "silu = x sigmoid(x)", act("silu"), 5, quick=True))
    C.append(case("gelu", "gelu, the erf form (F.gelu's default)", act("gelu"), 5, quick=True,
                  x=rng_for("gelu").uniform(-4, 4, (5, 6))))
    C.append(case("clip", "clip(x, lo=-0.3, hi=0.4) = torch.clamp, values exactly at lo and hi "
                  "(derivative 1 there, as torch)", act("clip", lo=-0.3, hi=0.4), 6, quick=True,
                  params=exact_values([np.float32(-0.3), np.float32(0.4), -1, 1])))
    C.append(case("clip_point", "clip with lo = hi (every derivative 0 but at the point)",
                  act("clip", lo=0.25, hi=0.25), 4, params=exact_values([np.float32(0.25)])))

    def softmax_mse():
        net = mk("m_softmax_mse", [5], lr=0.5)
        net.layer("h", "dense", "x", 6)
        net.out("o", "softmax", "h")
        net.set_loss("mse")
        return net
    C.append(case("softmax_mse", "softmax's own backward (mse on it, not fused)", softmax_mse, 4, quick=True))

    def softmax_mid():
        net = mk("m_softmax_mid", [5], lr=0.5)
        net.layer("h", "dense", "x", 7)
        net.layer("s", "softmax", "h")
        net.out("o", "dense", "s", 2)
        net.set_loss("mse")
        return net
    C.append(case("softmax_middle", "softmax in the middle of the graph", softmax_mid, 3))

    def binop(op, same=False):
        def build():
            net = mk(f"m_{op}{'_self' if same else ''}", [4], lr=0.1)
            net.layer("a", "dense", "x", 5)
            net.layer("b", "dense", "x", 5)
            net.layer("ta", "tanh", "a")
            net.layer("c", op, "ta", "ta" if same else "b")
            net.out("o", "dense", "c", 3)
            net.set_loss("mse")
            return net
        return build
    C.append(case("add", "add(a, b) of two branches", binop("add"), 4, quick=True))
    C.append(case("mul", "mul(a, b) of two branches", binop("mul"), 4, quick=True))
    C.append(case("add_same_layer", "add(a, a): one layer used twice by one op", binop("add", True), 3))
    C.append(case("mul_same_layer", "mul(a, a): one layer used twice by one op", binop("mul", True), 3))

    def concat2():
        net = mk("m_concat2", [4], lr=0.1)
        net.layer("a", "dense", "x", 3)
        net.layer("b", "dense", "x", 5)
        net.layer("ra", "relu", "a")
        net.layer("c", "concat", "ra", "b")
        net.out("o", "dense", "c", 2)
        net.set_loss("mse")
        return net
    C.append(case("concat2", "concat of 2 inputs ([3] and [5])", concat2, 4, quick=True))

    def concat3():
        net = mk("m_concat3", [2, 5, 4], lr=0.05)
        net.layer("cv", "conv2d", "x", 3, kernel=3, pad=1)
        net.layer("d", "dense", "x", 7)
        net.layer("c", "concat", "cv", "d", "x")
        net.out("o", "dense", "c", 3)
        net.set_loss("mse")
        return net
    C.append(case("concat3_shapes", "concat of 3 inputs of different shapes ([3,5,4], [7], the input [2,5,4])",
                  concat3, 3, quick=True))

    def concat_self():
        net = mk("m_concat_self", [3], lr=0.1)
        net.layer("h", "dense", "x", 4)
        net.layer("c", "concat", "h", "x", "h")
        net.out("o", "dense", "c", 2)
        net.set_loss("mse")
        return net
    C.append(case("concat_same_layer", "concat(h, x, h): a layer twice in one concat", concat_self, 3))

    def flat_reshape():
        net = mk("m_reshape", [12], lr=0.05)
        net.layer("h", "dense", "x", 24)
        net.layer("r", "reshape", "h", [2, 3, 4])
        net.layer("cv", "conv2d", "r", 2, kernel=2)
        net.layer("r2", "reshape", "cv", [4, 3])
        net.layer("t", "tanh", "r2")
        net.layer("f", "flatten", "t")
        net.out("o", "dense", "f", 3)
        net.set_loss("mse")
        return net
    C.append(case("reshape_flatten", "reshape [24]->[2,3,4] (conv on it), reshape to rank 2, flatten",
                  flat_reshape, 3, quick=True))

    def flatten_img():
        net = mk("m_flatten", [3, 4, 5], lr=0.05)
        net.weight("Wo", [2, 12])
        net.layer("cv", "conv2d", "x", 2, kernel=3)
        net.layer("f", "flatten", "cv")
        net.out("o", "linear", "f", "Wo")
        net.set_loss("mse")
        return net
    C.append(case("flatten_linear", "flatten of a conv output into a declared-weight linear", flatten_img, 3))
    return C


# ---------------------------------------------------------------- conv2d

def conv_cases():
    C = []
    for k in (1, 2, 3, 5):
        def build(k=k):
            net = mk(f"m_conv_k{k}", [3, 9, 11], lr=0.01)
            branches = []
            i = 0
            for stride in (1, 2):
                for pad in (0, 1, 2):
                    for bias in (1, 0):
                        i += 1
                        name = f"c{i}_s{stride}p{pad}b{bias}"
                        net.layer(name, "conv2d", "x", 1 + i % 4, kernel=k, stride=stride, pad=pad, bias=bias)
                        branches.append(name)
            net.layer("all", "concat", *branches)
            net.out("o", "dense", "all", 2)
            net.set_loss("mse")
            return net
        C.append(case(f"conv2d_k{k}", f"conv2d kernel={k}, 12 branches: stride 1/2 x pad 0/1/2 x bias 1/0, "
                      "1-4 filters, 3 channels, odd 9x11 input", build, 2, quick=k == 3))

    def conv_default():
        net = mk("m_conv_def", [1, 6, 7], lr=0.05)
        net.layer("c1", "conv2d", "x", 4, kernel=3)
        net.layer("r1", "relu", "c1")
        net.layer("c2", "conv2d", "r1", 3, kernel=2, stride=2, pad=1)
        net.out("o", "conv2d", "c2", 2, kernel=1)
        net.set_loss("mse")
        return net
    C.append(case("conv2d_stack", "conv2d defaults (stride 1, pad 0, bias 1), a chain of 3, conv output "
                  "as the mse output", conv_default, 3, quick=True))

    def conv_small():
        net = mk("m_conv_small", [2, 2, 3], lr=0.05)
        net.layer("a", "conv2d", "x", 2, kernel=5, pad=2)               # kernel larger than the input
        net.layer("b", "conv2d", "x", 3, kernel=3, stride=2, pad=1)     # 1x2
        net.layer("c", "conv2d", "x", 1, kernel=2, stride=3, bias=0)    # 1x1, stride beyond the input
        net.layer("d", "conv2d", "x", 2, kernel=1, pad=2)               # output larger than the input
        net.layer("all", "concat", "a", "b", "c", "d")
        net.out("o", "dense", "all", 3)
        net.set_loss("mse")
        return net
    C.append(case("conv2d_small_inputs", "conv2d on a 2x3 input: kernel 5 with pad 2, stride 2 and 3 "
                  "giving 1x2 and 1x1 outputs, pad 2 with kernel 1 giving 6x7", conv_small, 3))

    def conv_big():
        net = mk("m_conv_big", [20, 6, 7], lr=0.01)
        net.layer("c1", "conv2d", "x", 40, kernel=4, pad=1)      # C*K*K = 320 > LC_KC, 40 > LC_NR
        net.layer("t", "tanh", "c1")
        net.out("o", "dense", "t", 3)
        net.set_loss("mse")
        return net
    C.append(case("conv2d_wide", "conv2d with C*K*K = 320 and 40 filters (the gemm's K and N blocking)",
                  conv_big, 5))
    return C


# ------------------------------------- groups, dilation, same, rectangles, 1-D

def concat_all(net, names, prefix="cat"):
    """concat of any number of layers, through concats of at most 16 (layerc's limit)."""
    level = 0
    while len(names) > 16:
        names = [net.layer(f"{prefix}{level}_{i}", "concat", *names[i:i + 16]) if len(names[i:i + 16]) > 1
                 else names[i] for i in range(0, len(names), 16)]
        level += 1
    return net.layer(prefix, "concat", *names)


def modern_conv_cases():
    C = []

    def groups():
        net = mk("m_conv_groups", [4, 7, 6], lr=0.02)
        net.layer("g", "conv2d", "x", 6, kernel=3, pad=1, groups=2)
        net.layer("t", "tanh", "g")
        net.layer("dw", "conv2d", "t", 6, kernel=3, pad="same", groups=6)
        net.layer("pw", "conv2d", "dw", 4, kernel=1, groups=2, bias=0)
        net.out("o", "dense", "pw", 3)
        net.set_loss("mse")
        return net
    C.append(case("conv2d_groups", "conv2d groups=2 (4 -> 6 channels), a depthwise 3x3 pad=same (groups = "
                  "channels), a grouped 1x1 without bias", groups, 3, quick=True))

    def depthwise_strided():
        net = mk("m_dw_stride", [3, 9, 8], "adam", lr=0.01)
        net.layer("d1", "conv2d", "x", 6, kernel=3, stride=2, pad="same", groups=3)   # 2 filters a channel
        net.layer("r", "relu", "d1")
        net.layer("d2", "conv2d", "r", 6, kernel=3, pad="same", dilation=2, groups=6)
        net.layer("d3", "conv2d", "d2", 6, kernel=[3, 2], stride=[2, 1], groups=6)
        net.out("o", "dense", "d3", 2)
        net.set_loss("mse")
        return net
    C.append(case("conv2d_depthwise", "depthwise: 2 filters a channel with stride 2 and pad=same (Keras: "
                  "the odd padding below and right; the twin pads with F.pad), dilation 2 with pad=same "
                  "(torch's padding='same'), kernel [3, 2] stride [2, 1]", depthwise_strided, 4, quick=True))

    def rect():
        net = mk("m_conv_rect", [2, 11, 9], lr=0.02)
        net.layer("a", "conv2d", "x", 3, kernel=[3, 2], stride=[2, 1], pad=[1, 0], dilation=[2, 1])
        net.layer("b", "conv2d", "x", 2, kernel=[1, 4], stride=[1, 3], pad=[0, 2], bias=0)
        net.layer("c", "conv2d", "x", 2, kernel=[4, 4], stride=[2, 2], pad="same")   # even kernel, stride 2
        net.layer("d", "conv2d", "x", 2, kernel=[2, 3], pad="same", dilation=[3, 1])
        net.layer("all", "concat", "a", "b", "c", "d")
        net.out("o", "dense", "all", 3)
        net.set_loss("mse")
        return net
    C.append(case("conv2d_rectangular", "conv2d kernel, stride, pad and dilation as [h, w]; pad=same with an "
                  "even kernel and stride 2, and with dilation [3, 1]", rect, 3, quick=True))

    def matrix(i, g, f, cases_):
        def build():
            net = mk(f"m_conv_matrix{i}", [6, 10, 9], lr=0.002)
            branches = []
            for j, (k, s, p, d) in enumerate(cases_):
                name = f"c{j}"
                net.layer(name, "conv2d", "x", f, kernel=k, stride=s, pad=p, dilation=d, groups=g,
                          bias=j % 2)
                branches.append(name)
            concat_all(net, branches, "all")
            net.out("o", "dense", "all", 2)
            net.set_loss("mse")
            return net
        return build
    opts = [(k, s, p, d) for k in (1, 2, 3) for s in (1, 2, 3) for p in (0, 1, "same") for d in (1, 2)
            if not (p != "same" and (k - 1) * d + 1 > 9 + 2 * p)]
    for i, (g, f) in enumerate(((1, 2), (2, 4), (3, 3), (6, 6), (6, 12))):
        C.append(case(f"conv2d_matrix_g{g}_f{f}", f"conv2d groups={g}, {f} filters on 6 channels: "
                      f"{len(opts)} branches of kernel 1/2/3 x stride 1/2/3 x pad 0/1/same x dilation 1/2",
                      matrix(i, g, f, opts), 2))

    def conv1d():
        net = mk("m_conv1d", [4, 20], "sgd", lr=0.02, momentum=0.9)
        net.layer("a", "conv1d", "x", 6, kernel=3, pad="same")
        net.layer("r", "relu", "a")
        net.layer("b", "conv1d", "r", 6, kernel=5, stride=2, pad=2, groups=6)
        net.layer("c", "conv1d", "b", 4, kernel=3, dilation=2, groups=2, decay=0.2)
        net.layer("p", "maxpool1d", "c", size=2)
        net.layer("q", "avgpool1d", "a", size=3, stride=2)
        net.layer("gm", "global_maxpool", "p")
        net.layer("ga", "global_avgpool", "q")
        net.layer("all", "concat", "gm", "ga", "p")
        net.out("o", "dense", "all", 3)
        net.set_loss("mse")
        return net
    C.append(case("conv1d_pool1d", "conv1d (pad=same, depthwise stride 2, grouped dilated with decay=), "
                  "maxpool1d, avgpool1d, global max and average pools of sequences, sgd momentum",
                  conv1d, 4, quick=True))

    def conv1d_matrix():
        net = mk("m_conv1d_matrix", [3, 13], lr=0.02)
        branches = []
        j = 0
        for k in (1, 2, 3, 5):
            for s in (1, 2, 3):
                for p in (0, 1, "same"):
                    for d in (1, 2):
                        if p != "same" and (k - 1) * d + 1 > 13 + 2 * p:
                            continue
                        name = f"c{j}"
                        net.layer(name, "conv1d", "x", 1 + j % 3, kernel=k, stride=s, pad=p, dilation=d,
                                  groups=3 if j % 3 == 2 else 1, bias=j % 2)
                        branches.append(name)
                        j += 1
        concat_all(net, branches, "all")
        net.out("o", "dense", "all", 2)
        net.set_loss("mse")
        return net
    C.append(case("conv1d_matrix", "conv1d kernel 1/2/3/5 x stride 1/2/3 x pad 0/1/same x dilation 1/2, "
                  "groups 1 or 3, bias 0/1, on an odd length 13", conv1d_matrix, 2))

    def conv1d_decay():
        net = mk("m_conv1d_decay", [2, 9])
        net.optimizer = ("adam", dict(lr=0.05, weight_decay=0.01))
        net.layer("c", "conv1d", "x", 3, kernel=3, decay=0.4)
        net.layer("t", "tanh", "c")
        net.out("o", "dense", "t", 2)
        net.set_loss("mse")
        return net
    C.append(case("layer_decay_conv1d", "decay= on a conv1d kernel (its bias keeps adam's weight_decay): "
                  "torch parameter groups", conv1d_decay, 3, quick=True))

    def pools():
        net = mk("m_pool_rect", [2, 9, 7], lr=0.02)
        net.layer("c", "conv2d", "x", 3, kernel=3, pad=1)
        net.layer("mp", "maxpool", "c", size=[3, 2], stride=[2, 1])
        net.layer("ap", "avgpool", "c", size=[2, 3], stride=[1, 3])
        net.layer("m1", "maxpool", "c", size=[2, 1])
        net.layer("gm", "global_maxpool", "c")
        net.layer("ga", "global_avgpool", "c")
        net.layer("all", "concat", "mp", "ap", "m1", "gm", "ga")
        net.out("o", "dense", "all", 3)
        net.set_loss("mse")
        return net
    C.append(case("pool_rect_global", "maxpool size [3, 2] stride [2, 1], avgpool [2, 3] stride [1, 3], "
                  "maxpool [2, 1] (stride = size), global max and average pools of an image", pools, 3,
                  quick=True))

    def global_ties():
        net = mk("m_gmax_ties", [8], lr=0.1)
        net.weight("W", [8, 8])
        net.layer("h", "linear", "x", "W")
        net.layer("r", "reshape", "h", [2, 2, 2])
        net.layer("gm", "global_maxpool", "r")
        net.layer("r1", "reshape", "h", [2, 4])
        net.layer("g1", "global_maxpool", "r1")
        net.layer("c", "concat", "gm", "g1")
        net.out("o", "identity", "c")
        net.set_loss("mse")
        return net
    x = np.array([[1, 1, 0, 0, 2, 2, 2, 2], [0, 2, 2, 2, 3, 3, 3, 3], [-1, -1, -1, -1, 5, 0, 5, 0],
                  [4, 4, 4, 4, 4, 4, 4, 4]], dtype=np.float32)
    C.append(case("global_maxpool_ties", "global_maxpool with tied maxima: the gradient goes to the first "
                  "one, as torch's AdaptiveMaxPool", global_ties, 4, x=x, jiggle=False,
                  params=lambda net, rng: {"W": np.eye(8)}))

    def dscnn():
        net = mk("m_dscnn", [1, 49, 10], "adam", lr=0.003)
        net.layer("c0", "conv2d", "x", 8, kernel=[10, 4], stride=[2, 2], pad="same")
        net.layer("r0", "relu", "c0")
        for i in range(2):
            src = "r0" if i == 0 else f"pr{i - 1}"
            net.layer(f"dw{i}", "conv2d", src, 8, kernel=3, pad="same", groups=8)
            net.layer(f"dr{i}", "relu", f"dw{i}")
            net.layer(f"pw{i}", "conv2d", f"dr{i}", 8, kernel=1)
            net.layer(f"pr{i}", "relu", f"pw{i}")
        net.layer("ap", "avgpool", "pr1", size=[25, 5])
        head(net, "ap", "cross_entropy", 4, "probs")
        return net
    C.append(case("dscnn_like", "DS-CNN-like: conv [10, 4] stride 2 pad=same on 49x10, two depthwise-"
                  "separable blocks (3x3 depthwise pad=same, 1x1), avgpool [25, 5], cross_entropy, adam",
                  dscnn, 3))

    def mobilenet():
        net = mk("m_mobilenet", [3, 24, 24], "sgd", lr=0.05, momentum=0.9)
        net.layer("c0", "conv2d", "x", 8, kernel=3, stride=2, pad="same")
        net.layer("r0", "relu", "c0")
        src = "r0"
        for i, (f, s) in enumerate(((16, 1), (16, 2))):
            net.layer(f"dw{i}", "conv2d", src, net.shapes[src][0], kernel=3, stride=s, pad="same",
                      groups=net.shapes[src][0], bias=0)
            net.layer(f"dr{i}", "relu", f"dw{i}")
            net.layer(f"pw{i}", "conv2d", f"dr{i}", f, kernel=1, bias=0)
            net.layer(f"pr{i}", "relu", f"pw{i}")
            src = f"pr{i}"
        net.layer("gp", "global_avgpool", src)
        head(net, "gp", "cross_entropy", 3, "probs")
        return net
    C.append(case("mobilenet_like", "MobileNetV1-like: conv 3x3 stride 2 pad=same, depthwise 3x3 strides 1 "
                  "and 2 pad=same (no bias), 1x1 convs, global_avgpool, cross_entropy, sgd momentum",
                  mobilenet, 3))
    return C


# --------------------------------------------------------------- pooling

def pool_cases():
    C = []
    for op in ("maxpool", "avgpool"):
        def build(op=op):
            net = mk(f"m_{op}", [2, 9, 11], lr=0.005)
            net.layer("c", "conv2d", "x", 3, kernel=3, pad=1)
            branches = []
            for size, stride in ((2, None), (2, 1), (3, None), (3, 1), (3, 2), (2, 3)):
                o = {"size": size} if stride is None else {"size": size, "stride": stride}
                name = f"p{size}_{stride or 'd'}"
                net.layer(name, op, "c", **o)
                branches.append(name)
            net.layer("all", "concat", *branches)
            net.out("o", "dense", "all", 2)
            net.set_loss("mse")
            return net
        C.append(case(op, f"{op} size 2/3, stride default/1/2/3, odd 9x11 (floor mode)", build, 3, quick=True))

    def pool_default():
        net = mk("m_pool_def", [3, 7, 5], lr=0.05)
        net.layer("c", "conv2d", "x", 2, kernel=1)
        net.layer("mp", "maxpool", "c")
        net.layer("ap", "avgpool", "c")
        net.layer("m", "mul", "mp", "ap")
        net.out("o", "dense", "m", 2)
        net.set_loss("mse")
        return net
    C.append(case("pool_defaults", "maxpool() and avgpool() with all defaults (size 2, stride 2), 7x5",
                  pool_default, 3))

    def ties():
        net = mk("m_ties", [8], lr=0.1)
        net.weight("W", [8, 8])
        net.layer("h", "linear", "x", "W")
        net.layer("r", "reshape", "h", [2, 2, 2])
        net.layer("mp", "maxpool", "r", size=2, stride=1)
        net.layer("r2", "reshape", "h", [1, 2, 4])
        net.layer("mq", "maxpool", "r2", size=2, stride=1)
        net.layer("c", "concat", "mp", "mq")
        net.out("o", "identity", "c")
        net.set_loss("mse")
        return net
    x = np.array([[1, 1, 0, 0, 2, 2, 2, 2], [0, 2, 2, 2, 3, 3, 3, 3], [-1, -1, -1, -1, 5, 0, 5, 0],
                  [4, 4, 4, 4, 4, 4, 4, 4]], dtype=np.float32)
    C.append(case("maxpool_ties", "maxpool with tied maxima: the gradient goes to the first one in "
                  "row-major order, as torch's CPU kernel", ties, 4, x=x, jiggle=False,
                  params=lambda net, rng: {"W": np.eye(8)}))
    return C


# --------------------------------------------------------------- dropout

def dropout_cases():
    C = []

    def eval_build():
        net = mk("m_drop_eval", [6], lr=0.1)
        net.layer("h", "dense", "x", 9)
        net.layer("d", "dropout", "h", 0.4)
        net.out("o", "dense", "d", 3)
        net.set_loss("mse")
        return net
    C.append(case("dropout_eval", "dropout(0.4): forward and backward in eval mode = identity "
                  "(nn.Dropout.eval()); steps: AOT vs JIT only (masks are layerc's)", eval_build, 4, quick=True))

    for rate, N, quick in ((0.3, 300, True), (0.5, 200, False), (0.9, 200, False), (0.0, 50, False)):
        def build(rate=rate, N=N):
            net = mk(f"m_drop_{int(rate * 10)}", [8], "sgd", lr=0.05, momentum=0.9)
            net.layer("h", "dense", "x", N)
            net.layer("d", "dropout", "h", rate)
            net.out("o", "identity", "d")
            net.set_loss("mse")
            return net

        def params(net, rng, N=N):
            return {"h.W": rng.uniform(0.5, 1.0, (N, 8)), "h.b": np.zeros(N)}
        C.append(case(f"dropout_train_{rate}", f"dropout({rate}) training: masks read back from the "
                      "gradients; values in {0, 1/(1-rate)}, drop rate, fresh masks per sample and step, "
                      "same mask forward and backward; then loss/grads/3 steps vs torch with those masks",
                      build, 8, quick=quick, kind="dropout_train", x=np.eye(8), params=params,
                      truth=rng_for("dt").uniform(-1, 1, (8, N))))
    return C


# ----------------------------------------------------------------- losses

def loss_cases():
    C = []

    def mse_img():
        net = mk("m_mse_img", [2, 5, 5], lr=0.05)
        net.layer("c", "conv2d", "x", 3, kernel=3)
        net.out("o", "tanh", "c")
        net.set_loss("mse")
        return net
    C.append(case("mse_image", "mse on a [3,3,3] output (½ Σ over all elements, mean over batch)",
                  mse_img, 3, quick=True))

    for k, n, quick in ((10, 7, True), (2, 3, False), (1, 2, False)):
        def ce(k=k):
            net = mk(f"m_ce{k}", [6], lr=0.1)
            net.layer("h", "dense", "x", 8)
            net.layer("t", "tanh", "h")
            head(net, "t", "cross_entropy", k, "p")
            return net
        C.append(case(f"cross_entropy_{k}", f"cross_entropy, {k} classes = CrossEntropyLoss on the "
                      "softmax input, fused backward", ce, n, quick=quick))

    def ce_big_logits():
        net = mk("m_ce_big", [4], lr=0.01)
        net.weight("W", [5, 4])
        net.layer("l", "linear", "x", "W")
        net.out("p", "softmax", "l")
        net.set_loss("cross_entropy")
        return net
    C.append(case("cross_entropy_large_logits", "cross_entropy with logits up to ~±60 (stable log-softmax)",
                  ce_big_logits, 3, params=lambda net, rng: {"W": rng.uniform(-15, 15, (5, 4))},
                  x=rng_for("ceb").uniform(-1, 1, (3, 4))))

    for binary, k in ((True, 1), (False, 5)):
        def bce(k=k):
            net = mk(f"m_bce{k}", [5], lr=0.1)
            net.layer("h", "dense", "x", 6)
            net.layer("t", "relu", "h")
            head(net, "t", "bce", k, "p")
            return net
        C.append(case(f"bce_{'binary' if binary else 'soft'}_{k}", f"bce, {k} output(s), "
                      f"{'0/1' if binary else 'soft (0..1)'} targets, fused backward", bce, 6,
                      quick=binary, binary=binary))

    def bce_sat():
        net = mk("m_bce_sat", [2], lr=0.01)
        net.weight("W", [3, 2])
        net.layer("z", "linear", "x", "W")
        net.out("p", "sigmoid", "z")
        net.set_loss("bce")
        return net
    C.append(case("bce_saturated", "bce where the sigmoid saturates to exactly 0 or 1 in float32 "
                  "(|z| up to 60): loss as BCELoss (log clamped at -100); gradient from the fused "
                  "form p - t (SPEC), compared with BCEWithLogitsLoss's (BCELoss's autograd gives 0 there)",
                  bce_sat, 4, params=lambda net, rng: {"W": np.array([[30, 0], [0, -30], [3, 2]])},
                  x=np.array([[1, 1], [2, -1], [-1, 2], [0.5, 0.5]]),
                  truth=np.array([[0, 1, 1], [1, 0, 0], [1, 1, 0], [0.5, 0.5, 0.5]])))
    return C


# ------------------------------------------------------------- optimizers

def opt_cases():
    C = []
    variants = [
        ("sgd", dict(lr=0.1), True),
        ("sgd", dict(lr=0.1, momentum=0.9), True),
        ("sgd", dict(lr=0.2, weight_decay=0.05), False),
        ("sgd", dict(lr=0.1, momentum=0.5, weight_decay=0.1), True),
        ("adam", dict(), False),
        ("adam", dict(lr=0.01), True),
        ("adam", dict(lr=0.05, beta1=0.8, beta2=0.99, eps=1e-6), False),
        ("adam", dict(lr=0.02, weight_decay=0.1), True),
        ("adam", dict(lr=0.05, beta1=0.5, beta2=0.6, eps=0.1, weight_decay=0.3), True),
        ("rmsprop", dict(), False),
        ("rmsprop", dict(lr=0.005, alpha=0.9), True),
        ("rmsprop", dict(lr=0.002, momentum=0.9, weight_decay=0.05), True),
        ("rmsprop", dict(lr=0.003, alpha=0.8, eps=1e-3, centered=1), True),
        ("rmsprop", dict(lr=0.001, momentum=0.5, centered=1, weight_decay=0.2), False),
        ("adadelta", dict(), True),
        ("adadelta", dict(lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.1), True),
    ]
    torch_name = {"sgd": "SGD", "adam": "Adam", "rmsprop": "RMSprop", "adadelta": "Adadelta"}
    for i, (opt, hp, quick) in enumerate(variants):
        label = ", ".join(f"{k}={v}" for k, v in hp.items()) or "defaults"
        loss = "cross_entropy" if i % 2 else "mse"

        def build(opt=opt, hp=hp, i=i, loss=loss):
            net = mk(f"m_opt{i}", [6])
            net.optimizer = (opt, hp)
            net.layer("h", "dense", "x", 9)
            net.layer("t", "tanh", "h")
            head(net, "t", loss, 4, "p")
            return net
        tag = "_".join(f"{k}{v}" for k, v in hp.items()) or "default"
        C.append(case(f"{opt}_{tag}", f"{opt}({label}) = torch.optim.{torch_name[opt]}, "
                      f"{loss}", build, 5, quick=quick))
    for opt, hp in (("sgd", dict(lr=0.1, momentum=0.9, weight_decay=0.02)), ("adam", dict(lr=0.05)),
                    ("rmsprop", dict(lr=0.01, momentum=0.9, weight_decay=0.02)),
                    ("adadelta", dict(weight_decay=0.01))):
        def layer_decay(opt=opt, hp=hp):
            net = mk(f"m_decay_{opt}", [1, 6, 6])
            net.optimizer = (opt, hp)
            net.layer("c", "conv2d", "x", 3, kernel=3, decay=0.3)
            net.layer("r", "relu", "c")
            net.layer("h", "dense", "r", 7, decay=0.5)
            net.layer("t", "tanh", "h")
            head(net, "t", "mse", 3, "p")
            return net
        C.append(case(f"layer_decay_{opt}", f"decay= on a conv2d and a dense kernel (their biases and the head "
                      f"keep {opt}'s weight_decay): torch parameter groups", layer_decay, 4, quick=True))
    return C


# ----------------------------------------------------------------- frozen

def frozen_cases():
    C = []
    for opt, hp, quick in (("sgd", dict(lr=0.1, momentum=0.9, weight_decay=0.1), True),
                           ("adam", dict(lr=0.05, weight_decay=0.2), True)):
        def build(opt=opt, hp=hp):
            net = mk(f"m_frozen_{opt}", [5], opt, **hp)
            net.weight("W0", [4, 5])
            net.weight("F", [4, 4], init="uniform(-0.8, 0.8)", frozen=True)
            net.weight("W2", [2, 4])
            net.weight("b2", [2], init="constant(0.3)")
            net.layer("a", "linear", "x", "W0")
            net.layer("t", "tanh", "a")
            net.layer("b", "linear", "t", "F")
            net.out("o", "linear", "b", "W2", "b2")
            net.set_loss("mse")
            return net
        C.append(case(f"frozen_middle_{opt}", f"a frozen weight between trainable ones, {opt} with "
                      "weight decay (frozen weights must not move)", build, 4, quick=quick))

    def frozen_first():
        net = mk("m_frozen_first", [4], "sgd", lr=0.1, momentum=0.9, weight_decay=0.01)
        net.weight("F", [6, 4], frozen=True)
        net.weight("Fb", [6], init="ones", frozen=True)
        net.weight("W", [3, 6])
        net.weight("b", [3], frozen=True)
        net.layer("a", "linear", "x", "F", "Fb")
        net.layer("r", "leaky_relu", "a", alpha=0.1)
        net.out("o", "linear", "r", "W", "b")
        net.set_loss("mse")
        return net
    C.append(case("frozen_first_and_bias", "frozen first layer (no gradient flows to it) and a frozen "
                  "bias beside a trainable matrix", frozen_first, 3))
    return C


# ----------------------------------------------------------------- graphs

def graph_cases():
    C = []

    def branch():
        net = mk("m_branch", [5], "sgd", lr=0.1, momentum=0.9)
        net.layer("h", "dense", "x", 6)
        net.layer("r", "relu", "h")
        net.layer("s", "sigmoid", "h")
        net.layer("g", "mul", "r", "s")
        net.layer("a", "add", "g", "h")
        net.out("o", "dense", "a", 2)
        net.set_loss("mse")
        return net
    C.append(case("graph_layer_used_twice", "a layer feeding three layers (relu, sigmoid, add): "
                  "gradients accumulate", branch, 4, quick=True))

    def shared():
        net = mk("m_shared", [4], "adam", lr=0.02)
        net.weight("W", [4, 4])
        net.weight("b", [4])
        net.layer("a", "linear", "x", "W", "b")
        net.layer("t", "tanh", "a")
        net.layer("c", "linear", "t", "W", "b")
        net.out("o", "dense", "c", 2)
        net.set_loss("mse")
        return net
    C.append(case("graph_shared_weight", "one declared weight (W, b) used by two linear layers",
                  shared, 4, quick=True))

    def residual():
        net = mk("m_residual", [8], "sgd", lr=0.05, momentum=0.9, weight_decay=0.01)
        net.layer("h1", "dense", "x", 8)
        net.layer("r1", "relu", "h1")
        net.layer("h2", "dense", "r1", 8)
        net.layer("s", "add", "h2", "x")
        net.layer("h3", "dense", "s", 8)
        net.layer("t", "tanh", "h3")
        net.layer("s2", "add", "t", "s")
        head(net, "s2", "cross_entropy", 3, "p")
        return net
    C.append(case("graph_residual", "residual blocks: add(layer, input), add of two depths, cross_entropy",
                  residual, 6))

    def everything():
        net = mk("m_all", [2, 7, 7], "sgd", lr=0.1, momentum=0.9, weight_decay=0.01)
        net.weight("W", [4, 5])
        net.weight("b", [4], init="zeros")
        net.layer("c1", "conv2d", "x", 3, kernel=3, stride=2, pad=1, bias=0)
        net.layer("r1", "leaky_relu", "c1", alpha=0.2)
        net.layer("p1", "maxpool", "r1", size=2, stride=1)
        net.layer("p2", "avgpool", "r1", size=3, stride=1)
        net.layer("f", "flatten", "p1")
        net.layer("cc", "concat", "f", "p2")
        net.layer("h", "dense", "cc", 5, bias=0)
        net.layer("s", "sigmoid", "h")
        net.layer("t", "tanh", "h")
        net.layer("m", "mul", "s", "t")
        net.layer("a", "add", "m", "h")
        net.layer("l", "linear", "a", "W", "b")
        net.out("p", "softmax", "l")
        net.set_loss("cross_entropy")
        return net
    C.append(case("graph_everything", "conv, leaky_relu, both pools on one layer, concat of them, dense, "
                  "sigmoid*tanh+h, linear, softmax/cross_entropy, sgd momentum + decay", everything, 4,
                  quick=True))

    def marked():
        net = mk("m_marked", [3], "sgd", lr=0.1)
        net.layer("h", "dense", "x", 4)
        net.layer("p", "sigmoid", "h")
        net.out("p")
        net.set_loss("bce")
        return net
    C.append(case("output_marked", "`output p;` marking an existing sigmoid layer, bce", marked, 3))

    def dead():
        net = mk("m_dead", [3], "sgd", lr=0.1, momentum=0.9, weight_decay=0.1)
        net.layer("h", "dense", "x", 4)
        net.layer("unused", "dense", "x", 2)
        net.out("o", "dense", "h", 2)
        net.set_loss("mse")
        return net
    def unused():
        net = mk("m_unused", [3], "adam", lr=0.01, weight_decay=0.01)
        net.weight("W", [2, 3])
        net.weight("U", [2, 2])
        net.out("o", "linear", "x", "W")
        net.set_loss("mse")
        return net
    C.append(case("unused_weight_adam_decay", "a declared weight used by no layer, adam with weight decay: "
                  "torch never updates a parameter whose .grad is None", unused, 3))
    C.append(case("dead_branch_decay", "a dense layer that does not reach the output, with weight decay "
                  "and momentum: torch never updates a parameter whose .grad is None", dead, 3))
    return C


# ------------------------------------------------------ samples and size

def sample_cases(root):
    C = []

    def shape(frozen):
        def build():
            net = Net("shape", [3], "food")
            net.train("sgd", 3, lr=0.01)
            net.weight("w2", [1, 3], init="[[1/200, -3000/11600000, 1/5800]]", frozen=frozen)
            net.layer("l1", "identity", "food")
            net.layer("l2", "linear", "l1", "w2")
            net.out("l3", "identity", "l2")
            net.set_loss("mse")
            return net
        return build
    x = np.array([[100, 2000, 100], [200, 0, 0], [0, 2000, 3000]])
    t = np.array([[0], [1], [1]])

    def spec_numbers(case, r):
        """SPEC §1, samples/shape.lyr: outputs 0, 1, 0; loss 1/6; unfrozen gradient (0, -2000/3, -1000)."""
        out = []
        ok = np.allclose(r.y, [[0], [1], [0]], rtol=0, atol=1e-5)
        out.append(("spec outputs 0,1,0", ok, f"{r.y.ravel()}"))
        ok = abs(r.loss - 1 / 6) <= 1e-5 / 6
        out.append(("spec loss 1/6", ok, f"{r.loss!r}"))
        if case.name.endswith("unfrozen"):
            g = r.grads[:3]
            want = np.array([0, -2000 / 3, -1000])
            ok = np.all(np.abs(g - want) <= 1e-5 * np.abs(want) + 1e-5)
            out.append(("spec gradient (0,-2000/3,-1000)", ok, f"{g}"))
        return out
    C.append(case("sample_shape", "samples/shape.lyr (SPEC §1): frozen weight, identity, linear; the "
                  "SPEC's outputs and loss", shape(True), 3, x=x, truth=t, quick=True, checks=spec_numbers))
    C.append(case("sample_shape_unfrozen", "shape.lyr with `frozen` removed: the SPEC's gradient "
                  "(0, -2000/3, -1000); inputs in the thousands", shape(False), 3, x=x, truth=t,
                  checks=spec_numbers))

    def xor():
        net = Net("xor", [2])
        net.train("adam", 4, seed=7, lr=0.05)
        net.layer("h", "dense", "x", 8, init="xavier")
        net.layer("a", "tanh", "h")
        net.layer("z", "dense", "a", 1)
        net.out("p", "sigmoid", "z")
        net.set_loss("bce")
        return net
    C.append(case("sample_xor", "samples/xor.lyr: xavier init, tanh, sigmoid/bce, adam(lr=0.05), seed 7",
                  xor, 4, x=np.array([[0, 0], [0, 1], [1, 0], [1, 1]]), truth=np.array([[0], [1], [1], [0]]),
                  quick=True))

    def mnist_mlp():
        net = mk("m_mlp784", [1, 28, 28], "sgd", lr=0.05, momentum=0.9)
        net.layer("h1", "dense", "x", 100)
        net.layer("r1", "relu", "h1")
        net.layer("h2", "dense", "r1", 37)
        net.layer("r2", "relu", "h2")
        head(net, "r2", "cross_entropy", 10, "probs")
        return net
    C.append(case("mlp_784", "fashion_mlp-like 784->100->37->10 (gemm K blocks of 256, odd N), batch 9",
                  mnist_mlp, 9, x=rng_for("784").uniform(0, 1, (9, 1, 28, 28))))

    def lenet():
        net = mk("m_lenet", [1, 16, 16], "adam", lr=0.003)
        net.layer("c1", "conv2d", "x", 6, kernel=5, pad=2)
        net.layer("r1", "relu", "c1")
        net.layer("p1", "maxpool", "r1")
        net.layer("c2", "conv2d", "p1", 16, kernel=5)
        net.layer("r2", "relu", "c2")
        net.layer("p2", "avgpool", "r2")
        net.layer("h", "dense", "p2", 20)
        net.layer("t", "tanh", "h")
        head(net, "t", "cross_entropy", 10, "probs")
        return net
    C.append(case("lenet", "LeNet-like: conv 5x5 pad 2, maxpool, conv 5x5 (C*K*K = 150), avgpool, "
                  "dense, adam, batch 6", lenet, 6))
    return C


# ----------------------------------------------------------- random shapes

def random_cases(count):
    C = []
    sizes = [1, 2, 3, 5, 7, 9, 16, 17, 23, 31, 33]
    acts = ["relu", "leaky_relu", "sigmoid", "tanh", "identity"]
    losses = ["mse", "cross_entropy", "bce"]

    def optim(rng):
        if rng.random() < 0.5:
            hp = dict(lr=float(rng.choice([0.01, 0.05, 0.2])))
            if rng.random() < 0.5:
                hp["momentum"] = float(rng.choice([0.5, 0.9]))
            if rng.random() < 0.5:
                hp["weight_decay"] = float(rng.choice([0.01, 0.1]))
            return "sgd", hp
        hp = dict(lr=float(rng.choice([0.001, 0.01, 0.03])))
        if rng.random() < 0.5:
            hp["beta1"], hp["beta2"] = 0.85, 0.95
        if rng.random() < 0.5:
            hp["weight_decay"] = 0.05
        return "adam", hp

    for i in range(count):
        name = f"rand_mlp_{i}"
        rng = rng_for(name)
        nin = int(rng.choice(sizes))
        depth = int(rng.integers(1, 4))
        widths = [int(rng.choice(sizes)) for _ in range(depth)]
        loss = losses[i % 3]
        k = int(rng.choice([1, 2, 3, 5, 17])) if loss != "cross_entropy" else int(rng.choice([2, 3, 10, 17]))
        n = int(rng.choice([1, 2, 3, 5, 8, 13, 17]))
        opt, hp = optim(rng)
        a_list = [acts[int(rng.integers(len(acts)))] for _ in range(depth)]
        bias = [int(rng.integers(0, 2)) for _ in range(depth)]

        def build(name=name, nin=nin, widths=widths, loss=loss, k=k, opt=opt, hp=hp, a_list=a_list, bias=bias):
            net = mk("m_" + name, [nin], opt, **hp)
            src = "x"
            for j, (w, a) in enumerate(zip(widths, a_list)):
                net.layer(f"h{j}", "dense", src, w, bias=bias[j])
                net.layer(f"a{j}", a, f"h{j}")
                src = f"a{j}"
            head(net, src, loss, k, "p")
            return net
        desc = f"{nin}->" + "->".join(f"{w}{a[:4]}" for w, a in zip(widths, a_list)) + f"->{k} {loss}, " \
               f"batch {n}, {opt}({', '.join(f'{a}={b}' for a, b in hp.items())})"
        C.append(case(name, "random MLP " + desc, build, n, quick=i < 2))

    for i in range(count):
        name = f"rand_conv_{i}"
        rng = rng_for(name)
        while True:
            c = int(rng.integers(1, 6))
            h, w = int(rng.integers(1, 15)), int(rng.integers(1, 15))
            k = int(rng.choice([1, 2, 3, 5]))
            s = int(rng.choice([1, 2, 3]))
            p = int(rng.choice([0, 1, 2]))
            if h + 2 * p >= k and w + 2 * p >= k:
                break
        f = int(rng.integers(1, 7))
        oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        pool = None
        if min(oh, ow) >= 2 and rng.random() < 0.7:
            ps = int(rng.choice([2, 3])) if min(oh, ow) >= 3 else 2
            pool = (str(rng.choice(["maxpool", "avgpool"])), ps, int(rng.choice([1, 2, ps])))
        loss = losses[i % 3]
        kout = int(rng.choice([1, 3, 4])) if loss != "cross_entropy" else int(rng.choice([2, 5]))
        n = int(rng.choice([1, 2, 3, 4, 7]))
        opt, hp = optim(rng)
        act = acts[int(rng.integers(len(acts)))]
        bias = int(rng.integers(0, 2))

        def build(name=name, c=c, h=h, w=w, k=k, s=s, p=p, f=f, pool=pool, loss=loss, kout=kout, opt=opt,
                  hp=hp, act=act, bias=bias):
            net = mk("m_" + name, [c, h, w], opt, **hp)
            net.layer("cv", "conv2d", "x", f, kernel=k, stride=s, pad=p, bias=bias)
            net.layer("a", act, "cv")
            src = "a"
            if pool:
                net.layer("pl", pool[0], "a", size=pool[1], stride=pool[2])
                src = "pl"
            head(net, src, loss, kout, "p")
            return net
        desc = f"[{c},{h},{w}] conv(f={f}, k={k}, s={s}, p={p}, bias={bias}) {act}" + \
               (f" {pool[0]}({pool[1]}, stride {pool[2]})" if pool else "") + f" ->{kout} {loss}, batch {n}, " \
               f"{opt}({', '.join(f'{a}={b}' for a, b in hp.items())})"
        C.append(case(name, "random conv " + desc, build, n, quick=i < 2))
    return C


# ---------------------------------------------------------- normalisation

def bn_stats(*layers):
    """Running statistics (and gamma, beta) away from their initial 0, 1, so that
    the evaluating forward and backward passes are tested with real ones."""
    def f(net, rng):
        p = {}
        for name in layers:
            c = net.shapes[[L for L in net.layers if L.name == name][0].args[0]][0]
            p[name + ".mean"] = rng.normal(0, 0.5, c)
            p[name + ".var"] = rng.uniform(0.3, 2.0, c)
            p[name + ".gamma"] = rng.uniform(0.5, 1.5, c)
            p[name + ".beta"] = rng.normal(0, 0.3, c)
        return p
    return f


def torch_normalize(x, o):
    """torchvision.transforms.Normalize(mean, std) on a batch: per channel, dim 1."""
    shape = [1, -1] + [1] * (x.dim() - 2)
    mean = torch.tensor(o["mean"] if isinstance(o["mean"], list) else [o["mean"]], dtype=x.dtype)
    std = torch.tensor(o["std"] if isinstance(o["std"], list) else [o["std"]], dtype=x.dtype)
    return (x - mean.reshape(shape)) / std.reshape(shape)


elementwise("normalize", torch_normalize)


def norm_cases():
    C = []

    def nz_image():
        net = mk("m_nz_img", [3, 6, 5], "sgd", lr=0.05, momentum=0.9)
        net.layer("n", "normalize", "x", mean=[0.4914, 0.4822, 0.4465], std=[0.247, 0.243, 0.261])
        net.layer("c", "conv2d", "n", 4, kernel=3, pad=1)
        net.layer("r", "relu", "c")
        net.out("o", "dense", "r", 3)
        net.set_loss("mse")
        return net
    C.append(case("normalize_image", "normalize(x, mean=[3 values], std=[3 values]) on a [3,6,5] input = "
                  "torchvision Normalize, before a padded conv", nz_image, 4, quick=True,
                  x=rng_for("nzimg").uniform(0, 1, (4, 3, 6, 5))))

    def nz_hidden():
        net = mk("m_nz_hid", [5], "adam", lr=0.01)
        net.layer("h", "dense", "x", 4)
        net.layer("n", "normalize", "h", mean=[0.1, -0.2, 0.3, 0.0], std=[2.0, 0.5, 1.0, 0.25])
        net.layer("t", "tanh", "n")
        head(net, "t", "cross_entropy", 3, "p")
        return net
    C.append(case("normalize_features", "normalize with a value per feature of [4], after a dense: its "
                  "backward pass (dy / std) reaches the dense's weights", nz_hidden, 5, quick=True))

    def nz_scalar():
        net = mk("m_nz_sc", [2, 7], "sgd", lr=0.1)
        net.layer("n", "normalize", "x", mean=0.1307, std=0.3081)
        net.layer("c", "conv1d", "n", 3, kernel=3)
        net.out("o", "dense", "c", 2)
        net.set_loss("mse")
        return net
    C.append(case("normalize_scalar", "normalize(x, mean=0.1307, std=0.3081): one number for every "
                  "channel of [2, 7] (MNIST's), before a conv1d", nz_scalar, 3))

    def bn2d():
        net = mk("m_bn2d", [2, 5, 6], "sgd", lr=0.1, momentum=0.9)
        net.layer("c", "conv2d", "x", 3, kernel=3, pad=1, bias=0)
        net.layer("n", "batchnorm", "c")
        net.layer("r", "relu", "n")
        net.out("o", "dense", "r", 4)
        net.set_loss("mse")
        return net
    C.append(case("batchnorm_2d", "batchnorm on a conv output [3,5,6] = nn.BatchNorm2d: eval mode (running "
                  "statistics) forward and backward, then 3 training steps (batch statistics, running "
                  "statistics compared after each)", bn2d, 4, quick=True, params=bn_stats("n")))

    def bn1d():
        net = mk("m_bn1d", [6], "adam", lr=0.01)
        net.layer("h", "dense", "x", 8)
        net.layer("n", "batchnorm", "h", momentum=0.3, eps=1e-3)
        net.layer("t", "tanh", "n")
        head(net, "t", "cross_entropy", 3, "p")
        return net
    C.append(case("batchnorm_1d", "batchnorm(momentum=0.3, eps=1e-3) on [8] features = nn.BatchNorm1d, "
                  "adam, cross_entropy", bn1d, 6, quick=True, params=bn_stats("n")))

    def bn_cl():
        net = mk("m_bn_cl", [12], "sgd", lr=0.05)
        net.layer("h", "dense", "x", 12)
        net.layer("r", "reshape", "h", [3, 4])
        net.layer("n", "batchnorm", "r")
        net.out("o", "dense", "n", 2)
        net.set_loss("mse")
        return net
    C.append(case("batchnorm_cl", "batchnorm on [c, l] = [3, 4] (nn.BatchNorm1d on (N, C, L))", bn_cl, 3,
                  params=bn_stats("n")))

    def bn_input():
        net = mk("m_bn_in", [5], "sgd", lr=0.1)
        net.layer("n", "batchnorm", "x", momentum=1)
        net.out("o", "dense", "n", 3)
        net.set_loss("mse")
        return net
    C.append(case("batchnorm_input", "batchnorm on the input (no gradient below it), momentum=1: the "
                  "running statistics are the last batch's", bn_input, 5, quick=True,
                  x=rng_for("bnin").normal(3, 2, (5, 5))))

    def bn_branch():
        net = mk("m_bn_branch", [2, 4, 4], "sgd", lr=0.05, momentum=0.5)
        net.layer("c", "conv2d", "x", 4, kernel=3, pad=1)
        net.layer("n1", "batchnorm", "c", momentum=0)
        net.layer("n2", "batchnorm", "c", eps=0.5)
        net.layer("s", "add", "n1", "n2")
        net.layer("r", "relu", "s")
        net.layer("p", "maxpool", "r")
        net.out("o", "dense", "p", 3)
        net.set_loss("mse")
        return net
    C.append(case("batchnorm_branches", "two batchnorms reading one conv (their input gradients add up), "
                  "momentum=0 (running statistics never move), eps=0.5", bn_branch, 3,
                  params=bn_stats("n1", "n2")))

    def bn_wide():
        net = mk("m_bn_wide", [70], "sgd", lr=0.05)
        net.layer("h", "dense", "x", 150)
        net.layer("n", "batchnorm", "h")
        net.layer("t", "tanh", "n")
        net.out("o", "dense", "t", 2)
        net.set_loss("mse")
        return net
    C.append(case("batchnorm_channels_150", "batchnorm over 150 features (three chunks of the kernel's 64), "
                  "batch 2 (unbiased variance = 2x the biased)", bn_wide, 2, params=bn_stats("n")))

    def bn_big_mean():
        net = mk("m_bn_mean", [3, 4, 4], "sgd", lr=0.01)
        net.layer("n", "batchnorm", "x")
        net.out("o", "dense", "n", 2)
        net.set_loss("mse")
        return net
    C.append(case("batchnorm_large_mean", "batchnorm of values around 1000 with spread 1 (two-pass statistics)",
                  bn_big_mean, 4, x=rng_for("bnm").normal(1000, 1, (4, 3, 4, 4))))

    def ln1():
        net = mk("m_ln1", [7], "sgd", lr=0.1, momentum=0.9)
        net.layer("h", "dense", "x", 9)
        net.layer("n", "layernorm", "h")
        net.layer("t", "tanh", "n")
        net.out("o", "dense", "t", 3)
        net.set_loss("mse")
        return net

    def ln_params(net, rng):
        return {"n.gamma": rng.uniform(0.5, 1.5, 9), "n.beta": rng.normal(0, 0.3, 9)}
    C.append(case("layernorm", "layernorm on [9] = nn.LayerNorm(9)", ln1, 5, quick=True, params=ln_params))

    def ln3():
        net = mk("m_ln3", [2, 3, 5], "adam", lr=0.01)
        net.layer("c", "conv2d", "x", 3, kernel=3, pad=1)
        net.layer("n", "layernorm", "c", eps=0.01)
        net.layer("a", "add", "n", "c")
        net.out("o", "dense", "a", 2)
        net.set_loss("mse")
        return net
    C.append(case("layernorm_image", "layernorm(eps=0.01) over the last dimension of [3, 3, 5] "
                  "(nn.LayerNorm(5)), its input also read by add", ln3, 3, quick=True))

    def ln_input():
        net = mk("m_ln_in", [4], "sgd", lr=0.1)
        net.layer("n", "layernorm", "x")
        net.out("o", "dense", "n", 2)
        net.set_loss("mse")
        return net
    C.append(case("layernorm_input", "layernorm on the input (no gradient below it)", ln_input, 3))
    return C


def all_cases(root, random_count=12):
    return (op_cases() + conv_cases() + modern_conv_cases() + pool_cases() + dropout_cases() + loss_cases()
            + opt_cases() + frozen_cases() + graph_cases() + norm_cases() + sample_cases(root)
            + random_cases(random_count))
