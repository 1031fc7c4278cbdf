#!/bin/sh
# Every default of an op or optimizer argument is PyTorch's: a model that
# leaves them out trains to the same bits as the same model with every one
# written out, the values read from PyTorch's own signatures
# (inspect.signature of torch.optim.Adam, torch.optim.SGD, F.leaky_relu,
# F.elu, nn.BatchNorm1d, nn.LayerNorm), not from a copy kept in the tests.
# And each written value, changed, changes the weights: the comparison can
# see every one of them.  Fails when PyTorch is missing.
. "$(dirname "$0")/lib.sh"
if ! /usr/bin/python3 -c 'import torch' >/dev/null 2>&1; then
    echo "FAIL python3-torch is not installed (apt-get install python3-torch, or sh tests/deps.sh test)"
    echo "defaults: 0 passed, 1 failed"
    exit 1
fi
/usr/bin/python3 - > "$tmp/torch.sh" 2> "$tmp/py.err" <<'PY'
import inspect
import torch
import torch.nn as nn
import torch.nn.functional as F
d = lambda f: {k: v.default for k, v in inspect.signature(f).parameters.items()}
adam, sgd = d(torch.optim.Adam.__init__), d(torch.optim.SGD.__init__)
bn, ln = d(nn.BatchNorm1d.__init__), d(nn.LayerNorm.__init__)
for name, v in [("adam_lr", adam["lr"]), ("adam_beta1", adam["betas"][0]), ("adam_beta2", adam["betas"][1]),
                ("adam_eps", adam["eps"]), ("adam_decay", adam["weight_decay"]),
                ("sgd_momentum", sgd["momentum"]), ("sgd_decay", sgd["weight_decay"]),
                ("leaky_alpha", d(F.leaky_relu)["negative_slope"]), ("elu_alpha", d(F.elu)["alpha"]),
                ("bn_momentum", bn["momentum"]), ("bn_eps", bn["eps"]), ("ln_eps", ln["eps"])]:
    print(f"{name}={float(v)!r}")
PY
result $? "PyTorch's defaults read: $(tail -3 "$tmp/py.err")"
. "$tmp/torch.sh"

# model FILE OPTIMIZER [op arguments]: the net, with the given text after each op's input
model() {
    cat > "$1" <<LYR
model d;
input x[6];
layer h = dense(x, 5);
layer n = batchnorm(h$3);
layer a = leaky_relu(n$4);
layer e = elu(a$5);
layer q = layernorm(e$6);
output y = dense(q, 3);
loss mse(y);
train { optimizer = $2; batch = 8; epochs = 3; seed = 5; }
LYR
}
awk 'BEGIN { s = 7; for (i = 0; i < 16; i++) { r = ""; for (j = 0; j < 9; j++) {
        s = (s * 1103515245 + 12345) % 2147483648; r = r (j ? "," : "") sprintf("%.4f", s / 2147483648 * 4 - 2) }
     print r } }' > "$tmp/d.csv"
# train NAME OPTIMIZER ...: trains the model, its weights in $tmp/NAME.lyw
train() {
    model "$tmp/$1.lyr" "$2" "$3" "$4" "$5" "$6"
    "$LAYERC" train "$tmp/$1.lyr" "$tmp/d.csv" --save "$tmp/$1.lyw" > "$tmp/$1.out" 2>&1 ||
        { cat "$tmp/$1.out"; return 1; }
}
BN=", momentum=$bn_momentum, eps=$bn_eps" LEAKY=", alpha=$leaky_alpha" ELU=", alpha=$elu_alpha" LN=", eps=$ln_eps"
ADAM="adam(lr=$adam_lr, beta1=$adam_beta1, beta2=$adam_beta2, eps=$adam_eps, weight_decay=$adam_decay)"
SGD="sgd(lr=0.05, momentum=$sgd_momentum, weight_decay=$sgd_decay)"

train implicit "adam()" "" "" "" ""
train explicit "$ADAM" "$BN" "$LEAKY" "$ELU" "$LN"
result $? "the model with PyTorch's defaults written out trains"
cmp -s "$tmp/implicit.lyw" "$tmp/explicit.lyw"
result $? "adam, batchnorm, leaky_relu, elu, layernorm: the defaults are PyTorch's (the same weights, bit for bit)"
train sgd_implicit "sgd(lr=0.05)" "" "" "" ""
train sgd_explicit "$SGD" "" "" "" ""
cmp -s "$tmp/sgd_implicit.lyw" "$tmp/sgd_explicit.lyw"
result $? "sgd: momentum and weight_decay default to PyTorch's"

# each value, changed, shows in the weights
differs() {
    name=$1; shift
    train "$name" "$@" && ! cmp -s "$tmp/$name.lyw" "$tmp/explicit.lyw"
    result $? "a different $name changes the weights (the comparison sees it)"
}
differs adam_lr "adam(lr=0.002, beta1=$adam_beta1, beta2=$adam_beta2, eps=$adam_eps, weight_decay=$adam_decay)" "$BN" "$LEAKY" "$ELU" "$LN"
differs adam_beta1 "adam(lr=$adam_lr, beta1=0.8, beta2=$adam_beta2, eps=$adam_eps, weight_decay=$adam_decay)" "$BN" "$LEAKY" "$ELU" "$LN"
differs adam_beta2 "adam(lr=$adam_lr, beta1=$adam_beta1, beta2=0.99, eps=$adam_eps, weight_decay=$adam_decay)" "$BN" "$LEAKY" "$ELU" "$LN"
differs adam_eps "adam(lr=$adam_lr, beta1=$adam_beta1, beta2=$adam_beta2, eps=1e-3, weight_decay=$adam_decay)" "$BN" "$LEAKY" "$ELU" "$LN"
differs adam_decay "adam(lr=$adam_lr, beta1=$adam_beta1, beta2=$adam_beta2, eps=$adam_eps, weight_decay=0.1)" "$BN" "$LEAKY" "$ELU" "$LN"
differs bn_momentum "$ADAM" ", momentum=0.2, eps=$bn_eps" "$LEAKY" "$ELU" "$LN"
differs bn_eps "$ADAM" ", momentum=$bn_momentum, eps=1e-3" "$LEAKY" "$ELU" "$LN"
differs leaky_alpha "$ADAM" "$BN" ", alpha=0.02" "$ELU" "$LN"
differs elu_alpha "$ADAM" "$BN" "$LEAKY" ", alpha=1.5" "$LN"
differs ln_eps "$ADAM" "$BN" "$LEAKY" "$ELU" ", eps=1e-3"
train sgd_momentum "sgd(lr=0.05, momentum=0.5, weight_decay=$sgd_decay)" "" "" "" "" &&
    ! cmp -s "$tmp/sgd_momentum.lyw" "$tmp/sgd_explicit.lyw"
result $? "a different sgd momentum changes the weights"
train sgd_decay "sgd(lr=0.05, momentum=$sgd_momentum, weight_decay=0.1)" "" "" "" "" &&
    ! cmp -s "$tmp/sgd_decay.lyw" "$tmp/sgd_explicit.lyw"
result $? "a different sgd weight_decay changes the weights"
finish defaults
