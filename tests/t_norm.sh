#!/bin/sh
# Batchnorm beyond the PyTorch cases (tests/torch): weight files, folding
# into the layer before it for baked inference C, and learning-rate
# schedules against torch.optim.lr_scheduler.
#   - a batchnorm model's weights round-trip: saved after training (the
#     running statistics under NAME.mean and NAME.var, moved by training, in
#     the .lyw and the .npz), loaded, evaluated: the loss of the trained
#     model in memory; with the buffers reset the loss differs;
#   - `--weights W --inference -o m.c` folds every batchnorm that directly
#     follows a conv2d or dense (its only reader) into that layer's weights:
#     no batchnorm code or weight is left in the C, whose predictions are
#     `layerc predict`'s (1e-5 relative); one that cannot fold stays;
#   - NAME_set_epoch gives torch's StepLR / CosineAnnealingLR rate for every
#     epoch, and `layerc train` applies it: the JIT's weights after 4
#     epochs are those of an AOT loop calling NAME_set_epoch (and differ
#     from a run without the schedule);
#   - batchnorm and layernorm give the same bits on 1 and 2 threads.
. "$(dirname "$0")/lib.sh"

# ---- data: 3 classes of 2x4x4 images (32 values) and 120 rows
awk 'BEGIN { srand(11); for (r = 0; r < 120; r++) { s = 0;
        for (i = 0; i < 32; i++) { v = rand() * 2 - 1 + (i % 4) * 0.5; s += v * ((i % 5) - 2); printf "%.4f,", v }
        print (s > 2 ? 2 : s > -2 ? 1 : 0) } }' > "$tmp/img.csv"
cat > "$tmp/bn.lyr" <<'EOF'
model bn;
input x[2, 4, 4];
layer c1 = conv2d(x, 4, kernel=3, pad=1, bias=0);
layer n1 = batchnorm(c1);
layer r1 = relu(n1);
layer h = dense(r1, 8);
layer n2 = batchnorm(h, momentum=0.3);
layer r2 = relu6(n2);
layer z = dense(r2, 3);
output p = softmax(z);
loss cross_entropy(p);
train { optimizer = sgd(lr=0.05, momentum=0.9); batch = 16; epochs = 3; seed = 4; }
EOF

# tensors LYW NPZ: checks that both files hold the same tensors and values,
# and prints "name size [moved]" for each (python3's standard library only)
tensors() {
    python3 - "$@" <<'EOF'
import ast, io, struct, sys, zipfile, zlib
def lyw(path):
    b = open(path, 'rb').read()
    assert b[:4] == b'LYRW' and struct.unpack_from('<I', b, len(b) - 4)[0] == zlib.crc32(b[:-4])
    (count,) = struct.unpack_from('<I', b, 16)
    at, heads = 28, []
    for _ in range(count):
        (n,) = struct.unpack_from('<H', b, at)
        name = b[at + 2:at + 2 + n].decode()
        (rank,) = struct.unpack_from('<I', b, at + 2 + n)
        k = 1
        for d in struct.unpack_from('<%dI' % rank, b, at + 6 + n): k *= d
        heads.append((name, k))
        at += 6 + n + 4 * rank
    out = {}
    for name, k in heads:
        out[name] = struct.unpack_from('<%df' % k, b, at)
        at += 4 * k
    return out
def npz(path):
    out = {}
    with zipfile.ZipFile(path) as z:
        for entry in z.namelist():
            b = z.read(entry)
            assert b[:6] == b'\x93NUMPY'
            (hl,) = struct.unpack_from('<H', b, 8)
            head = ast.literal_eval(b[10:10 + hl].decode())
            assert head['descr'] == '<f4', head
            k = 1
            for d in head['shape']: k *= d
            out[entry[:-4]] = struct.unpack_from('<%df' % k, b, 10 + hl)
    return out
a, b = lyw(sys.argv[1]), npz(sys.argv[2])
assert a == b, 'the .lyw and the .npz differ'
for name, v in a.items():
    print(name, len(v), 'moved' if name.endswith('.mean') and any(x != 0 for x in v) or
          name.endswith('.var') and any(x != 1 for x in v) else '')
EOF
}

# 1. weights round trip
"$LAYERC" train "$tmp/bn.lyr" "$tmp/img.csv" --test "$tmp/img.csv" --save "$tmp/bn.lyw" --quiet > "$tmp/train.out"
result $? "train the batchnorm model: $(cat "$tmp/train.out")"
"$LAYERC" eval "$tmp/bn.lyr" "$tmp/img.csv" --weights "$tmp/bn.lyw" > "$tmp/eval.lyw"
result $? "eval with the saved .lyw"
# the last epoch's test loss (%.4f, the model in memory) and eval's loss (%.6f) agree
tl=$(sed -n 's/.*test loss \([0-9.]*\).*/\1/p' "$tmp/train.out" | tail -1)
el=$(sed -n 's/^loss \([0-9.]*\).*/\1/p' "$tmp/eval.lyw")
[ -n "$tl" ] && [ "$(printf '%.4f' "$el")" = "$tl" ]
result $? "eval of the loaded weights gives the trained model's test loss: $tl vs $el"
"$LAYERC" export "$tmp/bn.lyr" --weights "$tmp/bn.lyw" --npz "$tmp/bn.npz" &&
"$LAYERC" eval "$tmp/bn.lyr" "$tmp/img.csv" --weights "$tmp/bn.npz" > "$tmp/eval.npz" &&
cmp -s "$tmp/eval.lyw" "$tmp/eval.npz"
result $? "eval with the .npz prints what the .lyw gives"
tensors "$tmp/bn.lyw" "$tmp/bn.npz" > "$tmp/names" 2>&1
result $? "the .lyw and .npz hold the same tensors: $(cat "$tmp/names")"
for t in "n1.mean 4 moved" "n1.var 4 moved" "n2.mean 8 moved" "n2.var 8 moved" "n1.gamma 4" "n2.beta 8"; do
    grep -q "^$t" "$tmp/names"
    result $? "weight files hold $t: $(cat "$tmp/names")"
done
# the same weights with the running statistics reset (0 and 1) evaluate differently
python3 - "$tmp/bn.lyw" "$tmp/reset.lyw" <<'EOF'
import struct, sys, zlib
a = open(sys.argv[1], 'rb').read()
(count,) = struct.unpack_from('<I', a, 16)
at, heads = 28, []
for _ in range(count):
    (n,) = struct.unpack_from('<H', a, at)
    name = a[at + 2:at + 2 + n].decode()
    (rank,) = struct.unpack_from('<I', a, at + 2 + n)
    k = 1
    for d in struct.unpack_from('<%dI' % rank, a, at + 6 + n): k *= d
    heads.append((name, k))
    at += 6 + n + 4 * rank
out = bytearray(a[:-4])
for name, k in heads:
    if name.endswith('.mean') or name.endswith('.var'):
        out[at:at + 4 * k] = struct.pack('<%df' % k, *([0.0 if name.endswith('.mean') else 1.0] * k))
    at += 4 * k
out += struct.pack('<I', zlib.crc32(bytes(out)))
open(sys.argv[2], 'wb').write(out)
EOF
"$LAYERC" eval "$tmp/bn.lyr" "$tmp/img.csv" --weights "$tmp/reset.lyw" > "$tmp/eval.reset" &&
! cmp -s "$tmp/eval.lyw" "$tmp/eval.reset"
result $? "with the running statistics reset the loss differs: $(head -1 "$tmp/eval.reset")"

# 2. folding into the layer before for baked inference C
"$LAYERC" predict "$tmp/bn.lyr" "$tmp/img.csv" --weights "$tmp/bn.lyw" > "$tmp/bn.jit"
# close_rows A B: files of comma-separated outputs agree within 1e-5 relative,
# the scale of a value being at least the largest of its row: an output near
# 0 is a sum of terms the size of the others, and carries their rounding
close_rows() {
    paste -d'|' "$1" "$2" | awk -F'|' '{
        n = split($1, a, ","); m = split($2, b, ",");
        if (n != m) bad = 1;
        s = 0;
        for (i = 1; i <= n; i++) { v = a[i] < 0 ? -a[i] : a[i]; if (v > s) s = v }
        for (i = 1; i <= n; i++) {
            d = a[i] - b[i]; if (d < 0) d = -d;
            if (d > 1e-5 * s) { bad = 1; print "differ: " a[i] " " b[i] " (row scale " s ")" > "/dev/stderr" }
        }
     } END { exit bad || NR == 0 }'
}

# fold_check NAME MODEL WEIGHTS DATA EXPECT: EXPECT = folded (no batchnorm left) or kept
fold_check() {
    "$LAYERC" "$2" --weights "$3" --inference -o "$tmp/$1.c" &&
    cc -std=c99 -O2 -Wall -Wextra -pedantic -Werror -DMODEL="$(sed -n 's/^model \(.*\);/\1/p' "$2")" \
        -include "$tmp/$1.h" tests/c/predict_main.c "$tmp/$1.c" -lm -o "$tmp/$1"
    result $? "$1: build the baked --inference C"
    "$LAYERC" predict "$2" "$4" --weights "$3" > "$tmp/$1.jit" && "$tmp/$1" "$4" > "$tmp/$1.aot" &&
    close_rows "$tmp/$1.jit" "$tmp/$1.aot"
    result $? "$1: the baked --inference C predicts what layerc predict prints"
    if [ "$5" = folded ]; then
        ! grep -qi 'batchnorm\|gamma\|beta\|\.mean\|\.var\|_mean\|_var' "$tmp/$1.c" "$tmp/$1.h"
        result $? "$1: no batchnorm left in the C: $(grep -i 'batchnorm\|gamma\|beta\|mean\|var' "$tmp/$1.c" | head -3)"
    else
        grep -q '^    lc_batchnorm_forward_eval(m->' "$tmp/$1.c"
        result $? "$1: the batchnorm that cannot fold is computed"
    fi
}
fold_check fold_cnn "$tmp/bn.lyr" "$tmp/bn.lyw" "$tmp/img.csv" folded
grep -q '"c1.b"' "$tmp/fold_cnn.c" && ! grep -q '"n1\.' "$tmp/fold_cnn.c"
result $? "fold_cnn: the bias-free conv got the folded bias c1.b, n1's weights are gone"
"$LAYERC" "$tmp/bn.lyr" --inference -o "$tmp/plain.c" && grep -q 'lc_batchnorm_forward_eval' "$tmp/plain.c"
result $? "--inference without --weights keeps the batchnorm (nothing to fold)"

# a batchnorm as the output, two in a row, and ones that cannot fold
cat > "$tmp/chain.lyr" <<'EOF'
model chain;
input x[32];
layer h = dense(x, 6);
layer a = batchnorm(h);
layer b = batchnorm(a, eps=0.1);
layer t = tanh(b);
output o = dense(t, 3);
loss mse(o);
train { batch = 8; epochs = 2; }
EOF
cat > "$tmp/outbn.lyr" <<'EOF'
model outbn;
input x[32];
layer h = dense(x, 5, bias=0);
output o = batchnorm(h);
loss mse(o);
train { batch = 8; epochs = 2; }
EOF
cat > "$tmp/keep.lyr" <<'EOF'
model keep;
input x[2, 4, 4];
layer c = conv2d(x, 3, kernel=3);
layer n = batchnorm(c);
layer r = relu(c);
layer s = add(n, r);
layer m = batchnorm(r);
layer k = concat(s, m);
output o = dense(k, 3);
loss mse(o);
train { batch = 8; epochs = 2; }
EOF
awk -F, '{ for (i = 1; i <= 32; i++) printf "%s,", $i; printf "%s,%s,%s\n", $1, -$2, $3 }' "$tmp/img.csv" > "$tmp/reg3.csv"
awk -F, '{ for (i = 1; i <= 32; i++) printf "%s,", $i; printf "%s,%s,%s,%s,%s\n", $1, $2, $3, $4, $5 }' "$tmp/img.csv" > "$tmp/reg5.csv"
for m in chain:reg3:folded outbn:reg5:folded keep:reg3:kept; do
    name=${m%%:*} rest=${m#*:} data=${rest%%:*} want=${rest#*:}
    "$LAYERC" train "$tmp/$name.lyr" "$tmp/$data.csv" --save "$tmp/$name.lyw" --quiet > /dev/null
    result $? "$name: train"
    fold_check "fold_$name" "$tmp/$name.lyr" "$tmp/$name.lyw" "$tmp/$data.csv" "$want"
done
grep -q '"c.b"' "$tmp/fold_keep.c" && [ "$(grep -c '^    lc_batchnorm_forward_eval(m->' "$tmp/fold_keep.c")" = 2 ]
result $? "keep: a conv read by two layers and a batchnorm after relu are not folded"

# 3. learning-rate schedules
cat > "$tmp/sched.lyr" <<'EOF'
model sched;
input x[32];
layer h = dense(x, 5);
output o = dense(h, 3);
loss mse(o);
train { optimizer = sgd(lr=0.2, momentum=0.5); batch = 120; epochs = 4; shuffle = 0; seed = 3; SCHEDULE }
EOF
cat > "$tmp/lr_main.c" <<'EOF'
#include <stdio.h>
#include "sched.h"
int main(void)
{
    static sched_t m;
    sched_init(&m, 1);
    for (int e = 0; e <= 12; e++) {
        sched_set_epoch(&m, e);
        printf("%.17g\n", m.lr);
    }
    return 0;
}
EOF
for s in "step(every=3, gamma=0.5)" "step(every=1, gamma=0.9)" "cosine(epochs=10, min_lr=0)" \
         "cosine(epochs=4, min_lr=0.001)" "cosine(epochs=1)"; do
    sed "s/SCHEDULE/schedule = $s;/" "$tmp/sched.lyr" > "$tmp/s.lyr"
    "$LAYERC" "$tmp/s.lyr" -o "$tmp/sched.c" && cc -std=c99 -Wall -Wextra -pedantic -Werror -I"$tmp" \
        "$tmp/lr_main.c" "$tmp/sched.c" -lm -o "$tmp/lr" && "$tmp/lr" > "$tmp/lr.layerc"
    result $? "$s: build and run NAME_set_epoch"
    python3 - "$s" "$tmp/lr.layerc" > "$tmp/lr.check" 2>&1 <<'EOF'
import math, re, sys
kind, args = re.match(r'(\w+)\((.*)\)', sys.argv[1]).groups()
hp = {k: float(v) for k, v in (a.split('=') for a in args.split(', '))}
got = [float(v) for v in open(sys.argv[2])]
lr = 0.2
try:
    import torch
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr, momentum=0.5)
    if kind == 'step':
        sch = torch.optim.lr_scheduler.StepLR(opt, step_size=int(hp['every']), gamma=hp['gamma'])
    else:
        sch = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=int(hp['epochs']), eta_min=hp.get('min_lr', 0))
    want = []
    for e in range(len(got)):
        want.append(opt.param_groups[0]['lr'])
        opt.step()
        sch.step()
    ref = 'torch'
except ImportError:
    if kind == 'step':
        want = [lr * hp['gamma'] ** (e // int(hp['every'])) for e in range(len(got))]
    else:
        mn = hp.get('min_lr', 0)
        want = [mn + (lr - mn) * (1 + math.cos(math.pi * e / hp['epochs'])) / 2 for e in range(len(got))]
    ref = 'the closed form (python3-torch not installed)'
bad = [(e, a, b) for e, (a, b) in enumerate(zip(got, want)) if abs(a - b) > 1e-12 * lr]
print(f'against {ref}:', 'ok' if not bad and len(want) == 13 else bad)
sys.exit(1 if bad else 0)
EOF
    result $? "$s: the rate of every epoch 0..12 is torch's: $(cat "$tmp/lr.check")"
done

# the training loop applies it: the JIT's weights after 4 epochs (one step
# each: batch = all 120 rows) are those of an AOT loop calling NAME_set_epoch
cat > "$tmp/loop_main.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include "sched.h"
int main(int argc, char **argv)
{
    static sched_t m;
    static float x[120][sched_IN], t[120][sched_OUT];
    FILE *f = fopen(argv[1], "r");
    for (int r = 0; r < 120; r++) {
        for (int i = 0; i < sched_IN; i++) if (fscanf(f, "%f,", &x[r][i]) != 1) return 1;
        for (int i = 0; i < sched_OUT; i++) if (fscanf(f, "%f,", &t[r][i]) != 1) return 1;
    }
    fclose(f);
    sched_init(&m, 3);
    for (int e = 0; e < 4; e++) {
        if (argc > 2) sched_set_epoch(&m, e);
        sched_train_step(&m, &x[0][0], &t[0][0], 120);
    }
    for (int i = 0; i < sched_NPARAMS; i++) printf("%.9g\n", m.params[i]);
    return 0;
}
EOF
sed "s/SCHEDULE/schedule = step(every=1, gamma=0.5);/" "$tmp/sched.lyr" > "$tmp/s.lyr"
"$LAYERC" train "$tmp/s.lyr" "$tmp/reg3.csv" --save "$tmp/s.lyw" > "$tmp/s.out"
result $? "train with a schedule"
grep -q '^training sched on 120 samples: 4 epochs, batch 120, sgd lr 0.2, schedule step(every=1, gamma=0.5)$' "$tmp/s.out"
result $? "train's header line names the schedule: $(head -1 "$tmp/s.out")"
"$LAYERC" "$tmp/s.lyr" -o "$tmp/sched.c" && cc -std=c99 -O2 -I"$tmp" "$tmp/loop_main.c" "$tmp/sched.c" -lm \
    -o "$tmp/loop" && "$tmp/loop" "$tmp/reg3.csv" with > "$tmp/aot.sched" && "$tmp/loop" "$tmp/reg3.csv" > "$tmp/aot.plain"
result $? "the AOT loop"
python3 -c '
import struct, sys
b = open(sys.argv[1], "rb").read()
(count,) = struct.unpack_from("<I", b, 16)
at, total = 28, 0
for _ in range(count):
    (n,) = struct.unpack_from("<H", b, at)
    (rank,) = struct.unpack_from("<I", b, at + 2 + n)
    k = 1
    for d in struct.unpack_from("<%dI" % rank, b, at + 6 + n): k *= d
    total += k
    at += 6 + n + 4 * rank
for v in struct.unpack_from("<%df" % total, b, at): print("%.9g" % v)' "$tmp/s.lyw" > "$tmp/jit.sched"
same_numbers "$tmp/jit.sched" "$tmp/aot.sched"
result $? "layerc train's weights are those of the AOT loop with NAME_set_epoch"
! same_numbers "$tmp/jit.sched" "$tmp/aot.plain" 2>/dev/null
result $? "and differ from the same loop without the schedule"

# 4. the kernels split channels and rows over the threads without changing a
#    bit (64 samples of 8 x 16 x 16: the parallel branches run)
cat > "$tmp/th.lyr" <<'EOF'
model th;
input x[8, 16, 16];
layer n = batchnorm(x);
layer r = relu(n);
layer m = batchnorm(r, momentum=0.5);
layer l = layernorm(m);
output o = dense(l, 3);
loss mse(o);
train { batch = 64; epochs = 2; }
EOF
awk 'BEGIN { srand(5); for (r = 0; r < 128; r++) { for (i = 0; i < 2051; i++) printf "%s%.3f", i ? "," : "", rand() * 2 - 0.5; print "" } }' > "$tmp/th.csv"
"$LAYERC" train "$tmp/th.lyr" "$tmp/th.csv" --threads 1 --quiet --save "$tmp/th1.lyw" > /dev/null &&
"$LAYERC" train "$tmp/th.lyr" "$tmp/th.csv" --threads 2 --quiet --save "$tmp/th2.lyw" > /dev/null &&
cmp -s "$tmp/th1.lyw" "$tmp/th2.lyw"
result $? "batchnorm and layernorm train to the same bits on 1 and 2 threads"

finish "norm"
