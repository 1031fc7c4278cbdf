#!/bin/sh
# train/eval options: --validate, --early-stop, --truth input, --one-hot,
# --optimizer; the
# accuracy each kind of truth gets (argmax for one-hot rows, exact match for
# multi-label bce, none for regressions, the reconstruction error for
# autoencoders); and the messages that name the option a mismatch needs.
# Figures are checked against independent computations (awk on `predict`'s
# outputs, a Python replica of the documented validation split).
. "$(dirname "$0")/lib.sh"
check() { name=$1; shift; if "$@"; then ok; else bad "$name"; fi; }
# runs: out/err/rc of one layerc run into $tmp/out, $tmp/err, $rc
run() { "$LAYERC" "$@" > "$tmp/out" 2> "$tmp/err"; rc=$?; }
has() { grep -q -- "$1" "$2"; }
have_python=
/usr/bin/python3 -c 'pass' 2>/dev/null && have_python=1
[ -n "$have_python" ] || echo "note: /usr/bin/python3 is missing; the replica of the validation split is skipped"

# ---- data and models ----
# 24 IDX images of 2x2 bytes, and labels: the brightest pixel (0-3); the same
# images as CSV (inputs alone; with one-hot rows; with multi-label rows:
# pixel > 0.5).
awk -v dir="$tmp" 'BEGIN {
    s = 7
    printf "\\000\\000\\010\\003\\000\\000\\000\\030\\000\\000\\000\\002\\000\\000\\000\\002" > (dir "/img.fmt")
    printf "\\000\\000\\010\\001\\000\\000\\000\\030" > (dir "/lab.fmt")
    for (i = 0; i < 24; i++) {
        best = 0; bv = -1; row = ""; multi = ""
        for (j = 0; j < 4; j++) {
            s = (s * 1103515245 + 12345) % 2147483648; v = int(s / 2147483648 * 256)
            printf "\\%03o", v > (dir "/img.fmt")
            if (v > bv) { bv = v; best = j }
            row = row (j ? "," : "") sprintf("%.9g", v / 255); multi = multi "," (v > 127 ? 1 : 0)
        }
        printf "\\%03o", best > (dir "/lab.fmt")
        hot = ""; for (j = 0; j < 4; j++) hot = hot "," (j == best ? 1 : 0)
        print row > (dir "/inputs.csv"); print row hot > (dir "/onehot.csv"); print row multi > (dir "/multi.csv")
        print best > (dir "/labels.txt")
    }
}'
printf "$(cat "$tmp/img.fmt")" > "$tmp/img.idx"
printf "$(cat "$tmp/lab.fmt")" > "$tmp/lab.idx"
cat > "$tmp/ae.lyr" <<'EOF'
model ae;
input  x[4];
layer  h = dense(x, 2);
layer  a = tanh(h);
layer  z = dense(a, 4);
output y = sigmoid(z);
loss   bce(y);
train { optimizer = adam(lr=0.05); batch = 4; epochs = 3; seed = 1; }
EOF
sed 's/^model ae;/model cls;/; s/dense(x, 2)/dense(x, 8)/' "$tmp/ae.lyr" > "$tmp/cls.lyr"
cat > "$tmp/ident.lyr" <<'EOF'
model ident;
input  x[1];
output y = identity(x);
loss   mse(y);
train { batch = 8; epochs = 2; seed = 5; }
EOF
seq 0 99 | awk '{ print $1 ",0" }' > "$tmp/rows.csv"
cat > "$tmp/overfit.lyr" <<'EOF'
model overfit;
input  x[4];
layer  h = dense(x, 64);
layer  a = tanh(h);
output y = dense(a, 1);
loss   mse(y);
train { optimizer = adam(lr=0.03); batch = 8; epochs = 60; seed = 2; }
EOF
# pure noise: the validation loss falls, then rises as the net learns the noise
awk 'BEGIN { s = 11; for (i = 0; i < 60; i++) { line = ""
    for (j = 0; j < 5; j++) { s = (s * 1103515245 + 12345) % 2147483648; line = line (j ? "," : "") sprintf("%.4f", s / 2147483648 * 2 - 1) }
    print line } }' > "$tmp/noise.csv"

# ---- --validate ----
run train "$tmp/ident.lyr" "$tmp/rows.csv" --validate 0.13 --log "$tmp/v.csv" -q
check "--validate 0.13 of 100 rows trains on 87 and holds out 13" \
    has "training ident on 87 samples (13 more held out for validation)" "$tmp/out"
check "--validate adds val_loss, val_accuracy to the log after the usual columns" \
    [ "$(head -1 "$tmp/v.csv")" = "epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds,val_loss,val_accuracy" ]
check "--validate: the epoch line shows the validation loss" has "| validation loss " "$tmp/out"
val=$(sed -n 2p "$tmp/v.csv" | cut -d, -f7)
# row i has input i and truth 0: the validation loss is the mean of i^2 / 2
# over the held-out rows, which tells which rows they are
if [ -n "$have_python" ]; then
    want=$(/usr/bin/python3 - <<'EOF'
M = (1 << 64) - 1
def splitmix(s):
    s = (s + 0x9e3779b97f4a7c15) & M
    z = ((s ^ (s >> 30)) * 0xbf58476d1ce4e5b9) & M
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M
    return s, z ^ (z >> 31)
n, k, s = 100, int(0.13 * 100 + 0.5), 5 ^ 0x76616c6964617465
perm = list(range(n))
for i in range(n - 1, 0, -1):
    bound = i + 1
    while True:
        s, r = splitmix(s)
        if r < M - M % bound: break
    j = r % bound
    perm[i], perm[j] = perm[j], perm[i]
rows = perm[:k]
print("%.6f" % (sum(0.5 * i * i for i in rows) / k))
EOF
)
    check "--validate holds out the rows of the documented seeded split (val loss $val, replica $want)" [ "$val" = "$want" ]
fi
run train "$tmp/ident.lyr" "$tmp/rows.csv" --validate 0.13 --log "$tmp/v2.csv" -q
check "--validate: the same seed holds out the same rows" [ "$(sed -n 2p "$tmp/v2.csv" | cut -d, -f7)" = "$val" ]
run train "$tmp/ident.lyr" "$tmp/rows.csv" --validate 0.13 --log "$tmp/v3.csv" --seed 6 -q
check "--validate: another --seed holds out other rows" [ "$(sed -n 2p "$tmp/v3.csv" | cut -d, -f7)" != "$val" ]
for f in 0 1 1.5 -0.2 abc ""; do
    run train "$tmp/ident.lyr" "$tmp/rows.csv" --validate="$f"
    check "--validate '$f' is a usage error" [ $rc = 2 ]
    check "--validate '$f': the message asks for a fraction" has "fraction between 0 and 1" "$tmp/err"
done
run train "$tmp/ident.lyr" "$tmp/rows.csv" --validate 0.001
check "--validate that holds out no row fails (exit 1)" [ $rc = 1 ]
check "--validate that holds out no row says so, naming the data" has "rows.csv: error: --validate 0.001 of 100 samples holds out 0" "$tmp/err"
run eval "$tmp/ident.lyr" "$tmp/rows.csv" --validate 0.1
check "--validate with eval is a usage error" [ $rc = 2 ]

# ---- --early-stop ----
run train "$tmp/overfit.lyr" "$tmp/noise.csv" --early-stop 3
check "--early-stop without --validate is a usage error" [ $rc = 2 ]
check "--early-stop without --validate: the message names --validate" has "give --validate F too" "$tmp/err"
run train "$tmp/overfit.lyr" "$tmp/noise.csv" --validate 0.25 --early-stop 0
check "--early-stop 0 is a usage error" [ $rc = 2 ]
run train "$tmp/overfit.lyr" "$tmp/noise.csv" --validate 0.25 --early-stop 3 --log "$tmp/es.csv" --save "$tmp/es.lyw" -q
check "--early-stop: training on noise stops early (exit 0)" [ $rc = 0 ]
epochs=$(($(wc -l < "$tmp/es.csv") - 1))
best=$(awk -F, 'NR > 1 && (b == "" || $7 < v) { v = $7; b = $1 } END { print b }' "$tmp/es.csv")
check "--early-stop 3: stopped after $epochs of 60 epochs, 3 after the lowest validation loss (epoch $best)" \
    [ "$epochs" -lt 60 ] && [ "$epochs" -eq $((best + 3)) ]
check "--early-stop: the stop is announced with the best epoch" \
    has "early stop: no lower validation loss for 3 epochs; the lowest, .*, was after epoch $best" "$tmp/out"
check "--early-stop: the output says the saved weights are the best epoch's" \
    has "saved the weights of epoch $best (the lowest validation loss" "$tmp/out"
run train "$tmp/overfit.lyr" "$tmp/noise.csv" --validate 0.25 --epochs "$best" --save "$tmp/best.lyw" -q
check "--early-stop: the saved weights are those after epoch $best (a run of $best epochs saves the same file)" \
    cmp -s "$tmp/es.lyw" "$tmp/best.lyw"
run train "$tmp/overfit.lyr" "$tmp/noise.csv" --validate 0.25 --epochs "$((best + 1))" --save "$tmp/next.lyw" -q
check "--early-stop: ... and not those after epoch $((best + 1))" sh -c '! cmp -s "$1" "$2"' sh "$tmp/es.lyw" "$tmp/next.lyw"
run train "$tmp/overfit.lyr" "$tmp/noise.csv" --validate 0.25 --early-stop 3 -q
check "--early-stop without --save names the best epoch" has "the best epoch was $best" "$tmp/out"

# ---- --truth input (autoencoders) ----
run train "$tmp/ae.lyr" "$tmp/img.idx"
check "an autoencoder on IDX images without labels fails (exit 1)" [ $rc = 1 ]
check "an autoencoder on IDX images without labels is told about --truth input" has "give --truth input for an autoencoder" "$tmp/err"
run train "$tmp/ae.lyr" "$tmp/inputs.csv"
check "an autoencoder on CSV rows of inputs alone is told about --truth input" \
    sh -c '[ $1 = 1 ] && grep -q "inputs.csv: error: no truth: .*--truth input" "$2"' sh $rc "$tmp/err"
run train "$tmp/ae.lyr" "$tmp/img.idx" --truth input --log "$tmp/ae.csv" --save "$tmp/ae.lyw" -q
check "--truth input trains an autoencoder on IDX images without labels" [ $rc = 0 ]
check "--truth input: epoch lines show the reconstruction MSE and no accuracy" \
    sh -c 'grep -q "^epoch 3/3  loss [0-9.]*  MSE [0-9.]" "$1" && ! grep -q accuracy "$1"' sh "$tmp/out"
check "--truth input: the log has train_mse and test_mse columns" \
    [ "$(head -1 "$tmp/ae.csv")" = "epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds,train_mse,test_mse" ]
run eval "$tmp/ae.lyr" "$tmp/img.idx" --truth input --weights "$tmp/ae.lyw"
mse=$(sed -n 's/.*reconstruction MSE \([0-9.e+-]*\) per value.*/\1/p' "$tmp/out")
"$LAYERC" predict "$tmp/ae.lyr" "$tmp/img.idx" --weights "$tmp/ae.lyw" > "$tmp/ae.pred"
want=$(paste -d, "$tmp/ae.pred" "$tmp/inputs.csv" | awk -F, '{ for (j = 1; j <= 4; j++) s += ($j - $(j + 4)) ^ 2; n += 4 } END { printf "%.9g", s / n }')
check "eval --truth input: the reconstruction MSE ($mse) is the mean of (output - input)^2 over predict's outputs ($want)" \
    awk -v a="$mse" -v b="$want" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && d <= 1e-5 * b) }'
check "eval --truth input prints no accuracy" sh -c '! grep -q accuracy "$1"' sh "$tmp/out"
run train "$tmp/ae.lyr" "$tmp/inputs.csv" --truth input -q
check "--truth input trains on CSV rows of the inputs alone" [ $rc = 0 ]
run train "$tmp/ae.lyr" "$tmp/multi.csv" --truth input
check "--truth input refuses rows that carry truth values too (exit 1)" \
    sh -c '[ $1 = 1 ] && grep -q "multi.csv: error: with --truth input the rows hold the inputs alone" "$2"' sh $rc "$tmp/err"
run train "$tmp/ae.lyr" "$tmp/img.idx" --truth input --labels "$tmp/lab.idx"
check "--truth input with --labels is a usage error" [ $rc = 2 ]
run train samples/xor.lyr samples/xor.csv --truth input
check "--truth input on a model whose output is not the input's size fails, saying so" \
    sh -c '[ $1 = 1 ] && grep -q "xor.lyr: error: --truth input .* output has 1 value and its input 2" "$2"' sh $rc "$tmp/err"
run train "$tmp/ae.lyr" "$tmp/img.idx" --truth output
check "--truth other than 'input' is a usage error" [ $rc = 2 ]
run predict "$tmp/ae.lyr" "$tmp/img.idx" --truth input
check "--truth input with predict is a usage error" [ $rc = 2 ]

# ---- --one-hot (sigmoid/bce classifiers with IDX labels) ----
run train "$tmp/cls.lyr" "$tmp/img.idx" --labels "$tmp/lab.idx"
check "a bce classifier with IDX labels fails without --one-hot (exit 1)" [ $rc = 1 ]
check "a bce classifier with IDX labels is told about --one-hot" has "lab.idx: error: .*give --one-hot" "$tmp/err"
paste -d, "$tmp/inputs.csv" "$tmp/labels.txt" > "$tmp/classes.csv"
run train "$tmp/cls.lyr" "$tmp/classes.csv"
check "a bce classifier with CSV rows of inputs and a class index is told about --one-hot (exit 1)" \
    sh -c '[ $1 = 1 ] && grep -q "classes.csv:1: error: row has 5 values; .*give --one-hot" "$2"' sh $rc "$tmp/err"
run train "$tmp/cls.lyr" "$tmp/classes.csv" --one-hot -q --epochs 1
check "... and trains with --one-hot" [ $rc = 0 ]
run predict "$tmp/cls.lyr" "$tmp/classes.csv"
check "predict, which has no --one-hot, does not suggest it" sh -c '[ $1 = 1 ] && ! grep -q one-hot "$2"' sh $rc "$tmp/err"
sed 's/output y = sigmoid(z);/output y = softmax(z);/; s/loss   bce(y);/loss   cross_entropy(y);/' "$tmp/cls.lyr" > "$tmp/ce4.lyr"
run train "$tmp/ce4.lyr" "$tmp/inputs.csv"
check "a softmax classifier on CSV rows of inputs alone is told it needs the class of each sample" \
    sh -c '[ $1 = 1 ] && grep -q "inputs.csv: error: no truth: .*a classifier needs the class of each: --labels FILE for IDX images, or the class index after the inputs of each CSV row" "$2"' sh $rc "$tmp/err"
# 10 epochs: not yet perfect, so that argmax and thresholded accuracies differ
run train "$tmp/cls.lyr" "$tmp/img.idx" --labels "$tmp/lab.idx" --one-hot --epochs 10 --save "$tmp/cls.lyw" -q
check "--one-hot trains a bce classifier on IDX labels, with an accuracy" \
    sh -c '[ $1 = 0 ] && grep -q "^epoch 10/10  loss [0-9.]*  accuracy [0-9.]*%" "$2"' sh $rc "$tmp/out"
run eval "$tmp/cls.lyr" "$tmp/img.idx" --labels "$tmp/lab.idx" --one-hot --weights "$tmp/cls.lyw"
acc=$(sed -n 's/.*accuracy \([0-9.]*\)%.*/\1/p' "$tmp/out")
"$LAYERC" predict "$tmp/cls.lyr" "$tmp/img.idx" --weights "$tmp/cls.lyw" > "$tmp/cls.pred"
argmax_acc() {   # outputs (comma-separated), class indices: argmax accuracy in percent
    paste -d, "$1" "$2" | awk -F, '{ b = 1; for (j = 2; j < NF; j++) if ($j > $b) b = j; c += (b - 1 == $NF); n++ }
                                   END { printf "%.2f", 100 * c / n }'
}
want=$(argmax_acc "$tmp/cls.pred" "$tmp/labels.txt")
check "eval --one-hot: the accuracy ($acc%) is argmax(output) == label over predict's outputs ($want%)" [ "$acc" = "$want" ]
check "eval --one-hot prints the confusion matrix" has "confusion matrix" "$tmp/out"
run train "$tmp/cls.lyr" "$tmp/img.idx" --labels "$tmp/lab.idx" --one-hot --truth input
check "--one-hot with --truth input is a usage error" [ $rc = 2 ]
run predict "$tmp/cls.lyr" "$tmp/img.idx" --one-hot
check "--one-hot with predict is a usage error" [ $rc = 2 ]
run train samples/xor.lyr samples/xor.csv --one-hot
check "--one-hot on a model with one output fails, saying so" \
    sh -c '[ $1 = 1 ] && grep -q "one-hot rows as wide as the output, which has a single value" "$2"' sh $rc "$tmp/err"

# ---- what the accuracy means ----
run eval "$tmp/cls.lyr" "$tmp/onehot.csv" --weights "$tmp/cls.lyw"
acc=$(sed -n 's/.*accuracy \([0-9.]*\)%.*/\1/p' "$tmp/out")
thresholded=$(paste -d, "$tmp/cls.pred" "$tmp/onehot.csv" | awk -F, '{ all = 1; for (j = 1; j <= 4; j++) all = all && (($j > 0.5) == ($(j + 8) > 0.5)); c += all; n++ }
                                                              END { printf "%.2f", 100 * c / n }')
check "bce on one-hot CSV rows: eval's accuracy ($acc%) is the argmax accuracy ($want%), not the thresholded one ($thresholded%)" \
    sh -c '[ "$1" = "$2" ] && [ "$1" != "$3" ] && ! grep -q exact-match "$4"' sh "$acc" "$want" "$thresholded" "$tmp/out"
run eval "$tmp/cls.lyr" "$tmp/multi.csv" --weights "$tmp/cls.lyw"
acc=$(sed -n 's/.*exact-match accuracy \([0-9.]*\)%.*/\1/p' "$tmp/out")
want=$(paste -d, "$tmp/cls.pred" "$tmp/multi.csv" | awk -F, '{ all = 1; for (j = 1; j <= 4; j++) all = all && (($j > 0.5) == ($(j + 8) > 0.5)); c += all; n++ }
                                                       END { printf "%.2f", 100 * c / n }')
check "bce on multi-label rows: 'exact-match accuracy' ($acc%) is every output on the right side of 0.5 ($want%)" \
    [ -n "$acc" ] && [ "$acc" = "$want" ]
run train "$tmp/cls.lyr" "$tmp/multi.csv" -q --epochs 1
check "bce on multi-label rows: the epoch line says exact-match accuracy" has "exact-match accuracy" "$tmp/out"
run train samples/sine.lyr samples/sine.csv --epochs 2 -q
check "a regression (mse) prints no accuracy when training" sh -c '! grep -q accuracy "$1"' sh "$tmp/out"
run eval samples/sine.lyr samples/sine.csv
check "a regression (mse) prints the loss and no accuracy in eval" \
    sh -c 'grep -q "^loss [0-9.]*$" "$1" && ! grep -q accuracy "$1"' sh "$tmp/out"
run eval samples/xor.lyr samples/xor.csv
check "bce with one output: plain 'accuracy'" sh -c 'grep -q "  accuracy " "$1" && ! grep -q exact-match "$1"' sh "$tmp/out"

# ---- --optimizer: the train block's optimizer, replaced from the command line ----
sed 's/optimizer = adam(lr=0.05)/optimizer = rmsprop(lr=0.01, momentum=0.9, centered=1)/' "$tmp/ae.lyr" > "$tmp/ae_rms.lyr"
sed 's/optimizer = adam(lr=0.05)/optimizer = adadelta(lr=0.5, weight_decay=0.01)/' "$tmp/ae.lyr" > "$tmp/ae_delta.lyr"
"$LAYERC" train "$tmp/ae_rms.lyr" "$tmp/inputs.csv" --truth input -q --save "$tmp/rms_block.lyw" > /dev/null 2>&1
run train "$tmp/ae.lyr" "$tmp/inputs.csv" --truth input -q --optimizer "rmsprop(lr=0.01, momentum=0.9, centered=1)" \
    --save "$tmp/rms_opt.lyw"
check "--optimizer rmsprop(...) trains as the same optimizer in the train block" \
    sh -c '[ $1 = 0 ] && cmp -s "$2" "$3" && grep -q "rmsprop lr 0.01" "$4"' sh $rc "$tmp/rms_block.lyw" "$tmp/rms_opt.lyw" "$tmp/out"
"$LAYERC" train "$tmp/ae.lyr" "$tmp/inputs.csv" --truth input -q --save "$tmp/adam.lyw" > /dev/null 2>&1
check "--optimizer changes the weights trained (rmsprop is not the block's adam)" \
    sh -c '! cmp -s "$1" "$2"' sh "$tmp/adam.lyw" "$tmp/rms_opt.lyw"
"$LAYERC" train "$tmp/ae_delta.lyr" "$tmp/inputs.csv" --truth input -q --save "$tmp/delta_block.lyw" > /dev/null 2>&1
run train "$tmp/ae.lyr" "$tmp/inputs.csv" --truth input -q --optimizer=adadelta\(weight_decay=0.01\) --lr 0.5 \
    --save "$tmp/delta_opt.lyw"
check "--optimizer adadelta(weight_decay=0.01) --lr 0.5 is the train block's adadelta(lr=0.5, weight_decay=0.01)" \
    sh -c '[ $1 = 0 ] && cmp -s "$2" "$3"' sh $rc "$tmp/delta_block.lyw" "$tmp/delta_opt.lyw"
for bad in "rmsprop(lr=0.01" "rmsprop(beta=1)" "adagrad" "rmsprop(centered=2)" "adadelta(rho=x)" "sgd(0.1, 0.9)"; do
    run train "$tmp/ae.lyr" "$tmp/inputs.csv" --truth input -q --optimizer "$bad"
    check "--optimizer '$bad' is a usage error that says what is wrong" \
        sh -c '[ $1 = 2 ] && grep -q "error: --optimizer: [a-z]" "$2"' sh $rc "$tmp/err"
done

finish "train options"
