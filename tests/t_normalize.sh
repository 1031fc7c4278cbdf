#!/bin/sh
# normalize(x, mean, std), the constant input transform, beyond the PyTorch
# cases (tests/torch: normalize_*):
#   - its outputs are (x - mean[c]) / std[c], computed by awk from the data;
#   - `--weights W --inference -o m.c` folds it into the dense or unpadded
#     conv that reads it (W' = W / std per input channel, b' = b - W mean /
#     std), or into the conv or dense before it (as batchnorm): no
#     normalize is left in the C, whose predictions are `layerc predict`'s
#     on the unfolded model (1e-5 relative to the row);
#   - one that cannot fold (a padded conv reads zeros where the folded
#     input would be mean; two readers) is computed, with the same numbers;
#   - batchnorm now folds forward into a dense after it too.
. "$(dirname "$0")/lib.sh"

# ---- data: 60 rows of 2x3x3 images (18 values, channel means near 0.5 and
# 2), then 3 truth values (their sums by channel and a product)
awk 'BEGIN { srand(5); for (r = 0; r < 60; r++) { a = 0; b = 0;
        for (i = 0; i < 18; i++) { v = i < 9 ? rand() : 2 + 3 * (rand() - 0.5); if (i < 9) a += v; else b += v;
                                   printf "%.5f,", v }
        printf "%.5f,%.5f,%.5f\n", a / 9, b / 9 - 2, (a / 9 - 0.5) * (b / 9 - 2) } }' > "$tmp/d.csv"

# ---- 1. the numbers
cat > "$tmp/nz.lyr" <<'EOF'
model nz;
input x[2, 3, 3];
output y = normalize(x, mean=[0.5, 2], std=[0.29, 0.85]);
loss mse(y);
EOF
awk -F, '{ for (i = 1; i <= 18; i++) { s = i <= 9 ? 0.29 : 0.85; m = i <= 9 ? 0.5 : 2;
           printf "%s%.9g", (i > 1 ? "," : ""), ($i - m) / s } print "" }' "$tmp/d.csv" > "$tmp/nz.want"
cut -d, -f1-18 "$tmp/d.csv" > "$tmp/in.csv"
"$LAYERC" predict "$tmp/nz.lyr" "$tmp/in.csv" 2> "$tmp/err" > "$tmp/nz.got" &&
same_numbers "$tmp/nz.want" "$tmp/nz.got"
result $? "normalize(x, mean=[0.5, 2], std=[0.29, 0.85]) = (x - mean[c]) / std[c] per channel $(cat "$tmp/err")"
sed 's/mean=\[0.5, 2\], std=\[0.29, 0.85\]/mean=1, std=2/' "$tmp/nz.lyr" > "$tmp/nz1.lyr"
awk -F, '{ for (i = 1; i <= 18; i++) printf "%s%.9g", (i > 1 ? "," : ""), ($i - 1) / 2; print "" }' "$tmp/d.csv" > "$tmp/nz1.want"
"$LAYERC" predict "$tmp/nz1.lyr" "$tmp/in.csv" > "$tmp/nz1.got" &&
same_numbers "$tmp/nz1.want" "$tmp/nz1.got"
result $? "normalize(x, mean=1, std=2): one number for every channel"

# ---- 2. folding into baked inference C
# close_rows A B: comma-separated outputs agree within 1e-5 of the row's largest
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
# model NAME BODY...: a model on the 2x3x3 input with 3 outputs, trained 3 epochs
model() {
    name=$1; shift
    { echo "model $name;"; echo "input x[2, 3, 3];"; for line in "$@"; do echo "$line"; done
      echo "loss mse(o);"; echo "train { optimizer = adam(lr=0.01); batch = 10; epochs = 3; seed = 3; }"; } > "$tmp/$name.lyr"
    "$LAYERC" train "$tmp/$name.lyr" "$tmp/d.csv" --save "$tmp/$name.lyw" --quiet > /dev/null 2> "$tmp/err"
    result $? "$name: train $(cat "$tmp/err")"
}
# fold_check NAME folded|kept KERNEL: the baked C predicts as layerc predict;
# folded: no call of KERNEL is left in it; kept: it is called
fold_check() {
    "$LAYERC" "$tmp/$1.lyr" --weights "$tmp/$1.lyw" --inference -o "$tmp/$1.c" &&
    cc -std=c99 -O2 -Wall -Wextra -pedantic -Werror -DMODEL="$1" -include "$tmp/$1.h" tests/c/predict_main.c \
        "$tmp/$1.c" -lm -o "$tmp/$1"
    result $? "$1: build the baked --inference C"
    "$LAYERC" predict "$tmp/$1.lyr" "$tmp/d.csv" --weights "$tmp/$1.lyw" > "$tmp/$1.jit" &&
    "$tmp/$1" "$tmp/d.csv" > "$tmp/$1.aot" && close_rows "$tmp/$1.jit" "$tmp/$1.aot"
    result $? "$1: the baked C predicts what layerc predict prints for the unfolded model"
    n=$(grep -c "^ *$3(m->" "$tmp/$1.c")
    if [ "$2" = folded ]; then
        [ "$n" = 0 ]
        result $? "$1: folded, no $3 left in the C ($n calls)"
    else
        [ "$n" -ge 1 ]
        result $? "$1: the $3 that cannot fold is computed"
    fi
}
N='layer n = normalize(x, mean=[0.5, 2], std=[0.29, 0.85]);'
model nz_dense "$N" 'layer h = dense(n, 6);' 'layer t = tanh(h);' 'output o = dense(t, 3);'
fold_check nz_dense folded lc_normalize_forward
grep -q '"h.W"' "$tmp/nz_dense.c" && grep -q '"h.b"' "$tmp/nz_dense.c"
result $? "nz_dense: the dense keeps its weights h.W and h.b (folded into)"
model nz_conv "$N" 'layer c = conv2d(n, 3, kernel=2, bias=0);' 'layer r = relu(c);' 'output o = dense(r, 3);'
fold_check nz_conv folded lc_normalize_forward
grep -q '"c.b"' "$tmp/nz_conv.c"
result $? "nz_conv: the bias-free conv got a bias c.b from the fold"
model nz_stride "$N" 'layer c = conv2d(n, 4, kernel=[2, 3], stride=[1, 2], dilation=1);' 'layer r = relu(c);' \
    'output o = dense(r, 3);'
fold_check nz_stride folded lc_normalize_forward
model nz_after 'layer h = dense(x, 5);' 'layer n = normalize(h, mean=0.3, std=[1, 2, 0.5, 4, 0.25]);' \
    'layer t = tanh(n);' 'output o = dense(t, 3);'
fold_check nz_after folded lc_normalize_forward
model nz_pad "$N" 'layer c = conv2d(n, 3, kernel=3, pad=1);' 'layer r = relu(c);' 'output o = dense(r, 3);'
fold_check nz_pad kept lc_normalize_forward
model nz_same "$N" 'layer c = conv2d(n, 3, kernel=2, pad=same);' 'layer r = relu(c);' 'output o = dense(r, 3);'
fold_check nz_same kept lc_normalize_forward
model nz_groups "$N" 'layer c = conv2d(n, 4, kernel=2, groups=2);' 'layer r = relu(c);' 'output o = dense(r, 3);'
fold_check nz_groups kept lc_normalize_forward
model nz_two "$N" 'layer h = dense(n, 4);' 'layer g = dense(n, 4);' 'layer s = add(h, g);' 'output o = dense(s, 3);'
fold_check nz_two kept lc_normalize_forward
model bn_dense 'layer f = flatten(x);' 'layer n = batchnorm(f);' 'layer h = dense(n, 6);' 'layer t = tanh(h);' \
    'output o = dense(t, 3);'
fold_check bn_dense folded lc_batchnorm_forward_eval

finish "normalize"
