#!/bin/sh
# Nothing the user had is lost (docs/ROBUSTNESS.md, "Outputs, pipes, write
# errors, divergence"):
#   - an output that is an input, or another output, is refused (exit 2) and
#     the input is byte for byte what it was; outputs are checked for
#     writability before any training;
#   - devices and FIFOs are written in place (a /dev/null stays a device), a
#     symbolic link is followed and its target replaced;
#   - data, weights and models come through pipes, process substitution and
#     FIFOs, read once (every row arrives);
#   - a failed write to standard output or a file is exit 1, naming it;
#   - divergence stops training (exit 1, epoch, step, layer) and saves no
#     NaN over good weights; non-finite weights and initializers are refused;
#   - SIGINT and SIGTERM leave no temporary file and no half-saved weights;
#   - a mistyped command gets a suggestion.
. "$(dirname "$0")/lib.sh"
X=samples/xor.lyr
F=samples/fashion_mlp.lyr
D=/usr/share/datasets/fashion-mnist

# expect STATUS PATTERN WHAT -- COMMAND...: the exit status, and stderr matching PATTERN
expect() {
    want=$1 pattern=$2 what=$3; shift 4
    "$@" > "$tmp/out" 2> "$tmp/err"
    status=$?
    if [ $status = "$want" ] && grep -qE -- "$pattern" "$tmp/err" && ! sanitizer_report "$tmp/err"; then
        ok
    else
        bad "$what: exit $status (want $want), stderr: $(head -3 "$tmp/err")"
    fi
}
# unchanged FILE COPY WHAT: FILE is byte for byte COPY
unchanged() { cmp -s "$1" "$2" && ok || bad "$3: $1 was changed"; }

cp $X "$tmp/m.lyr"
cp samples/xor.csv "$tmp/d.csv"
"$LAYERC" train $X samples/xor.csv --epochs 3 --quiet --save "$tmp/w.lyw" > /dev/null || bad "xor: training"
"$LAYERC" export $X --weights "$tmp/w.lyw" --npz "$tmp/w.npz" || bad "xor: export"
for f in m.lyr d.csv w.lyw w.npz; do cp "$tmp/$f" "$tmp/$f.orig"; done
M=$tmp/m.lyr DATA=$tmp/d.csv W=$tmp/w.lyw

# ---- 1. an output never replaces an input, nor another output
expect 2 "would overwrite the model file" "-o onto the model" -- "$LAYERC" "$M" -o "$M"
expect 2 "would overwrite the model file" "-H onto the model" -- "$LAYERC" "$M" -o "$tmp/a.c" -H "$M"
expect 2 "-o .*a\.c and -H .*a\.c are the same file" "-o a.c -H a.c" -- "$LAYERC" "$M" -o "$tmp/a.c" -H "$tmp/a.c"
[ ! -e "$tmp/a.c" ] && ok || bad "-o a.c -H a.c: a.c was written"
expect 2 "-o .* would overwrite the model file" "graph -o onto the model" -- "$LAYERC" graph "$M" -o "$M"
expect 2 "--save .* would overwrite the model file" "--save onto the model" -- \
    "$LAYERC" train "$M" "$DATA" --epochs 1 --quiet --save "$M"
expect 2 "--save .* would overwrite the data file" "--save onto the data" -- \
    "$LAYERC" train "$M" "$DATA" --epochs 1 --quiet --save "$DATA"
expect 2 "--log .* would overwrite the data file" "--log onto the data" -- \
    "$LAYERC" train "$M" "$DATA" --epochs 1 --quiet --log "$DATA"
expect 2 "--log .* would overwrite the model file" "--log onto the model" -- \
    "$LAYERC" train "$M" "$DATA" --epochs 1 --quiet --log "$M"
cp "$DATA" "$tmp/t.csv"
expect 2 "--log .* would overwrite the test data" "--log onto the test data" -- \
    "$LAYERC" train "$M" "$DATA" --epochs 1 --quiet --test "$tmp/t.csv" --log "$tmp/t.csv"
unchanged "$tmp/t.csv" "$DATA" "--log onto the test data"
expect 2 "--save .* would overwrite the weights" "--save onto --weights" -- \
    "$LAYERC" train "$M" "$DATA" --epochs 1 --quiet --weights "$W" --save "$W"
expect 2 "--save .* and --log .* are the same file" "--save and --log one file" -- \
    "$LAYERC" train "$M" "$DATA" --epochs 1 --quiet --save "$tmp/new.out" --log "$tmp/new.out"
[ ! -e "$tmp/new.out" ] && ok || bad "--save X --log X: X was written"
expect 2 "--npz .* would overwrite the model file" "export --npz onto the model" -- \
    "$LAYERC" export "$M" --weights "$W" --npz "$M"
expect 2 "--npz .* would overwrite the weights" "export --npz onto --weights" -- \
    "$LAYERC" export "$M" --weights "$tmp/w.npz" --npz "$tmp/w.npz"
ln -s m.lyr "$tmp/alias.lyr"
expect 2 "would overwrite the model file" "-o through a symlink onto the model" -- "$LAYERC" "$M" -o "$tmp/alias.lyr"
mkdir "$tmp/sub"
expect 2 "would overwrite the data file" "--save by another path to the data" -- \
    "$LAYERC" train "$M" "$DATA" --epochs 1 --quiet --save "$tmp/sub/../d.csv"
# labels of IDX data (a small set cut from Fashion-MNIST)
if [ -f $D/t10k-labels-idx1-ubyte.gz ]; then
    gzip -dc $D/t10k-labels-idx1-ubyte.gz | head -c 108 > "$tmp/lab"
    { printf '\000\000\010\003\000\000\000\144\000\000\000\034\000\000\000\034'
      gzip -dc $D/t10k-images-idx3-ubyte.gz | tail -c +17 | head -c 78400; } > "$tmp/img"
    printf '\000\000\000\144' | dd of="$tmp/lab" bs=1 seek=4 conv=notrunc 2> /dev/null
    cp "$tmp/lab" "$tmp/lab.orig"
    expect 2 "--save .* would overwrite the labels file" "--save onto the labels" -- \
        "$LAYERC" train $F "$tmp/img" --labels "$tmp/lab" --epochs 1 --quiet --save "$tmp/lab"
    unchanged "$tmp/lab" "$tmp/lab.orig" "--save onto the labels"
    # --test IDX without its labels names the right option
    expect 1 "give the labels file too \(--test-labels\)" "--test IDX without --test-labels" -- \
        "$LAYERC" train $F "$tmp/img" --labels "$tmp/lab" --test "$tmp/img" --epochs 1 --quiet
else
    bad "Fashion-MNIST is not installed (dataset-fashion-mnist): IDX cases not checked"
fi
for f in m.lyr d.csv w.lyw w.npz; do unchanged "$tmp/$f" "$tmp/$f.orig" "after the refusals"; done

# ---- 2. outputs that cannot be written fail before the work, not after it
expect 1 "no/such/dir/w.lyw: error: cannot write in" "--save into a missing directory" -- \
    "$LAYERC" train "$M" "$DATA" --epochs 100000 --save "$tmp/no/such/dir/w.lyw"
grep -q '^epoch' "$tmp/out" && bad "--save into a missing directory: it trained first" || ok
expect 1 "no/dir/log.csv: error: cannot write in" "--log into a missing directory" -- \
    "$LAYERC" train "$M" "$DATA" --epochs 100000 --log "$tmp/no/dir/log.csv"
grep -q '^epoch' "$tmp/out" && bad "--log into a missing directory: it trained first" || ok
expect 1 "is a directory" "--save onto a directory" -- "$LAYERC" train "$M" "$DATA" --epochs 1 --save "$tmp/sub"
expect 2 "--save-every goes with --save" "--save-every without --save" -- \
    "$LAYERC" train "$M" "$DATA" --epochs 1 --save-every 1

# ---- 3. devices and FIFOs are written in place; symbolic links are followed
NULL=$(device null) FULL=$(device full)
for cmd in "$M -o $NULL" "train $M $DATA --epochs 2 --quiet --save $NULL --log $NULL" \
           "graph $M -o $NULL" "export $M --weights $W --npz $NULL"; do
    # shellcheck disable=SC2086
    "$LAYERC" $cmd > /dev/null 2> "$tmp/err"
    result $? "layerc $cmd: $(head -2 "$tmp/err")"
    [ -c "$NULL" ] && ok || bad "layerc $cmd: $NULL is no longer a character device"
done
[ ! -e "$NULL.h" ] && ok || { bad "-o $NULL wrote $NULL.h"; rm -f "$NULL.h"; }
mkfifo "$tmp/fifo"
timeout 40 cat "$tmp/fifo" > "$tmp/from_fifo" &
reader=$!
timeout 30 "$LAYERC" "$M" -o "$tmp/fifo" 2> "$tmp/err"
result $? "-o a FIFO: $(head -2 "$tmp/err")"
wait $reader
[ -p "$tmp/fifo" ] && grep -q 'xor_forward' "$tmp/from_fifo" && grep -q '#define xor_IN' "$tmp/from_fifo"
result $? "-o a FIFO: the FIFO stays, its reader gets header and source as one stream"
gcc -std=c99 -c -x c "$tmp/from_fifo" -o "$tmp/fifo.o" 2> "$tmp/err"
result $? "-o a FIFO: the stream is a C file that builds: $(head -2 "$tmp/err")"
echo "old" > "$tmp/target.c"
ln -s target.c "$tmp/link.c"
"$LAYERC" "$M" -o "$tmp/link.c" -H "$tmp/link.h" 2> "$tmp/err"
result $? "-o a symlink: $(head -2 "$tmp/err")"
[ -L "$tmp/link.c" ] && grep -q xor_forward "$tmp/target.c"
result $? "-o a symlink: the link stays, its target is replaced"
ln -s w.lyw "$tmp/wlink.lyw"
"$LAYERC" train "$M" "$DATA" --epochs 7 --quiet --save "$tmp/wlink.lyw" > /dev/null 2> "$tmp/err"
result $? "--save a symlink: $(head -2 "$tmp/err")"
[ -L "$tmp/wlink.lyw" ] && ! cmp -s "$tmp/w.lyw" "$tmp/w.lyw.orig" &&
    "$LAYERC" predict "$M" "$DATA" --weights "$tmp/w.lyw" > /dev/null
result $? "--save a symlink: the link stays, the file it names holds the new weights"
cp "$tmp/w.lyw.orig" "$tmp/w.lyw"

# ---- 4. pipes, process substitution, FIFOs: read once, all of it
awk 'BEGIN { srand(3); for (r = 0; r < 100000; r++) printf "%.5f,%.5f,%d\n", rand(), rand(), r % 2 }' > "$tmp/big.csv"
cat "$tmp/big.csv" | "$LAYERC" eval "$M" /dev/stdin > "$tmp/out" 2> "$tmp/err"
grep -q "of 100000)" "$tmp/out"
result $? "eval from a pipe (/dev/stdin) reads all 100,000 rows: $(cat "$tmp/out" "$tmp/err" | head -2)"
n=$(bash -c '"$0" predict "$1" <(cat "$2") | wc -l' "$LAYERC" "$M" "$tmp/big.csv" 2> "$tmp/err")
[ "$n" = 100000 ]
result $? "predict <(cat d.csv) prints 100,000 lines, not $n: $(head -2 "$tmp/err")"
gzip -c "$tmp/big.csv" | "$LAYERC" eval "$M" /dev/stdin > "$tmp/out" 2> "$tmp/err"
grep -q "of 100000)" "$tmp/out"
result $? "eval of a gzip stream reads all rows: $(cat "$tmp/out" "$tmp/err" | head -2)"
n=$(cat "$tmp/big.csv" | "$LAYERC" predict "$M" /dev/stdin --weights /dev/fd/3 3< "$tmp/w.lyw" | wc -l)
[ "$n" = 100000 ] && ok || bad "predict: data and weights both from descriptors: $n lines"
for w in w.lyw w.npz; do
    bash -c '"$0" predict "$1" "$2" --weights <(cat "$3")' "$LAYERC" "$M" "$DATA" "$tmp/$w" > "$tmp/p1" 2> "$tmp/err" &&
    "$LAYERC" predict "$M" "$DATA" --weights "$tmp/$w" > "$tmp/p2" && cmp -s "$tmp/p1" "$tmp/p2"
    result $? "--weights <(cat $w) gives what the file gives: $(head -2 "$tmp/err")"
done
if [ -f $D/t10k-images-idx3-ubyte.gz ]; then
    n=$(bash -c '"$0" predict "$1" <(gzip -dc "$2")' "$LAYERC" $F $D/t10k-images-idx3-ubyte.gz | wc -l)
    [ "$n" = 10000 ] && ok || bad "predict <(gzip -dc images.gz): $n lines, not 10000"
    n=$(cat $D/t10k-images-idx3-ubyte.gz | "$LAYERC" predict $F /dev/stdin | wc -l)
    [ "$n" = 10000 ] && ok || bad "predict of a piped images.gz: $n lines, not 10000"
    bash -c '"$0" eval "$1" <(gzip -dc "$2") --labels <(cat "$3")' "$LAYERC" $F $D/t10k-images-idx3-ubyte.gz \
        $D/t10k-labels-idx1-ubyte.gz > "$tmp/out" 2> "$tmp/err"
    grep -q "of 10000)" "$tmp/out"
    result $? "eval: IDX images and labels both from pipes: $(cat "$tmp/out" "$tmp/err" | head -2)"
fi
mkfifo "$tmp/data.fifo"
timeout 40 sh -c 'cat "$0" > "$1"' "$tmp/big.csv" "$tmp/data.fifo" &
timeout 30 "$LAYERC" eval "$M" "$tmp/data.fifo" > "$tmp/out" 2> "$tmp/err"
status=$?
[ $status = 0 ] && grep -q "of 100000)" "$tmp/out"
result $? "eval of a FIFO: no second open (status $status, 124 = hang): $(cat "$tmp/out" "$tmp/err" | head -2)"
cat "$M" | "$LAYERC" summary /dev/stdin > "$tmp/out" 2> "$tmp/err" && grep -q "^model xor" "$tmp/out"
result $? "the model from a pipe: $(head -2 "$tmp/err")"

# ---- 5. a failed write is exit 1, naming the file
for cmd in "predict $M $DATA" "eval $M $DATA" "summary $M" "check $M" "train $M $DATA --epochs 2 --quiet" \
           "$M -o -" "graph $M -o -" "--help" "--version"; do
    # shellcheck disable=SC2086
    "$LAYERC" $cmd > /dev/full 2> "$tmp/err"
    status=$?
    [ $status = 1 ] && grep -q "/dev/full: cannot write the output: No space left on device" "$tmp/err"
    result $? "layerc $cmd > /dev/full: exit $status, $(head -2 "$tmp/err")"
done
for cmd in "$M -o $FULL" "train $M $DATA --epochs 2 --quiet --save $FULL" \
           "train $M $DATA --epochs 2 --quiet --log $FULL" "graph $M -o $FULL" \
           "export $M --weights $W --npz $FULL"; do
    # shellcheck disable=SC2086
    expect 1 "$FULL: error: .*No space left on device" "layerc $cmd" -- "$LAYERC" $cmd
    [ -c "$FULL" ] && ok || bad "layerc $cmd: $FULL is no longer a character device"
done
# predict into a pipe that fills: stops at the first failed write, not after every row
bash -c 'trap "" PIPE; "$0" predict "$1" "$2" | head -c 100 > /dev/null; echo "${PIPESTATUS[0]}"' \
    "$LAYERC" "$M" "$tmp/big.csv" > "$tmp/status" 2> "$tmp/err"
[ "$(cat "$tmp/status")" = 1 ] && grep -q "cannot write the output: Broken pipe" "$tmp/err"
result $? "predict into a closed pipe (SIGPIPE ignored): exit $(cat "$tmp/status"), $(head -2 "$tmp/err")"

# ---- 6. divergence: exit 1, where and why, and no NaN saved over good weights
# 256 random images with pixels in [0, 4): at --lr 100 the MLP's outputs overflow in epoch 2
awk 'BEGIN { srand(1); for (r = 0; r < 256; r++) { for (i = 0; i < 784; i++) printf "%.3f,", 4 * rand(); print int(rand() * 10) } }' > "$tmp/f.csv"
"$LAYERC" train $F "$tmp/f.csv" --epochs 1 --quiet --save "$tmp/good.lyw" > /dev/null
cp "$tmp/good.lyw" "$tmp/fw.lyw"
expect 1 "training diverged at epoch [0-9]+, step [0-9]+ of 4: the loss is nan; the output of layer '[a-z0-9]+' is the first that is not finite" \
    "--lr 100 diverges" -- "$LAYERC" train $F "$tmp/f.csv" --epochs 20 --lr 100 --quiet --save "$tmp/fw.lyw"
grep -q "nothing was saved" "$tmp/err" && ok || bad "--lr 100: the message does not say what became of the save"
unchanged "$tmp/fw.lyw" "$tmp/good.lyw" "--lr 100 --save"
expect 1 "the loss is nan.*fw2.lyw keeps the weights saved after epoch 1" "--lr 100 --save-every 1" -- \
    "$LAYERC" train $F "$tmp/f.csv" --epochs 20 --lr 100 --quiet --save-every 1 --save "$tmp/fw2.lyw"
"$LAYERC" eval $F "$tmp/f.csv" --weights "$tmp/fw2.lyw" > /dev/null 2> "$tmp/err"
result $? "--save-every 1: the checkpoint before the divergence loads (finite): $(head -2 "$tmp/err")"
cat > "$tmp/reg.lyr" <<'EOF'
model reg;
input x[4];
layer h = dense(x, 8);
layer a = tanh(h);
output y = dense(a, 1);
loss mse(y);
train { optimizer = sgd(lr=0.01); batch = 8; epochs = 5; seed = 1; }
EOF
awk 'BEGIN { srand(2); for (r = 0; r < 64; r++) { s = 0; for (i = 0; i < 4; i++) { v = rand() * 2 - 1; s += v; printf "%.4f,", v } print s } }' > "$tmp/reg.csv"
expect 1 "training diverged at epoch 2, step 1 of 8: the loss is inf, though every layer's output is finite" \
    "an mse that overflows" -- "$LAYERC" train "$tmp/reg.lyr" "$tmp/reg.csv" --lr 100 --epochs 50 --quiet

# non-finite weights files and initializers are refused by name
/usr/bin/python3 - "$tmp/w.lyw" "$tmp/nan.lyw" <<'EOF'
import struct, sys, zlib
b = bytearray(open(sys.argv[1], 'rb').read())
at = len(b) - 4 - 4 * 33            # xor: 33 values; the first is h.W[0, 0]
b[at + 4 * 3:at + 4 * 4] = struct.pack('<f', float('nan'))
b[-4:] = struct.pack('<I', zlib.crc32(bytes(b[:-4])))
open(sys.argv[2], 'wb').write(bytes(b))
EOF
expect 1 "nan.lyw: error: tensor 'h.W' holds nan at index 3" "a .lyw holding NaN" -- \
    "$LAYERC" predict "$M" "$DATA" --weights "$tmp/nan.lyw"
if /usr/bin/python3 -c 'import numpy' 2> /dev/null; then
    /usr/bin/python3 - "$tmp/w.npz" "$tmp/big.npz" "$tmp/inf.npz" <<'EOF'
import sys, numpy as np
w = dict(np.load(sys.argv[1]))
big = {k: v.astype(np.float64) for k, v in w.items()}
big['z.W'][0, 1] = 1e39             # fine as float64, inf as float
np.savez(sys.argv[2], **big)
w['h.b'][2] = -np.inf
np.savez(sys.argv[3], **w)
EOF
    expect 1 "big.npz: error: array 'z.W' holds inf at index 1 \(of 8\) as a float" "a float64 .npz beyond the float range" -- \
        "$LAYERC" predict "$M" "$DATA" --weights "$tmp/big.npz"
    expect 1 "inf.npz: error: array 'h.b' holds -inf at index 2" "a .npz holding -inf" -- \
        "$LAYERC" predict "$M" "$DATA" --weights "$tmp/inf.npz"
else
    bad "numpy is not installed for /usr/bin/python3: .npz cases not checked"
fi
for init in "constant(1e39)" "[[1, -4e38]]" "uniform(0, 1e39)" "normal(0, 1e38)"; do
    printf 'model i;\ninput x[2];\nweight w[1, 2] = %s;\noutput y = linear(x, w);\nloss mse(y);\n' "$init" > "$tmp/i.lyr"
    expect 1 "i.lyr:3:[0-9]+: error: .*(out of the float range|float range)" "initializer $init" -- \
        "$LAYERC" "$tmp/i.lyr" -o "$tmp/i.c"
done
[ ! -e "$tmp/i.c" ] && ok || bad "an out-of-range initializer: C was written"
# the gradient check cannot agree on a model whose loss is infinite
cat > "$tmp/blowup.lyr" <<'EOF'
model blowup;
input x[1];
weight w[1, 1] = constant(1e30);
layer h = linear(x, w);
layer a = mul(h, h);
layer b = mul(a, a);
layer c = mul(b, b);
layer d = mul(c, c);
output y = identity(d);
loss mse(y);
EOF
"$LAYERC" check "$tmp/blowup.lyr" > "$tmp/out" 2>&1
status=$?
[ $status = 1 ] && grep -q "the loss is infinite" "$tmp/out" && grep -q FAILED "$tmp/out"
result $? "check on a model whose loss is infinite fails: exit $status, $(head -3 "$tmp/out")"

# ---- 7. SIGINT and SIGTERM: no temporary file, the weights whole
"$LAYERC" train $F "$tmp/f.csv" --epochs 1 --quiet --save "$tmp/sig.lyw" > /dev/null
cp "$tmp/sig.lyw" "$tmp/sig.orig"
i=0
for sig in INT TERM INT TERM INT TERM INT TERM INT TERM INT TERM; do
    i=$((i + 1))
    # a background job of a script ignores SIGINT: env gives it the default back
    env --default-signal=INT,TERM "$LAYERC" train $F "$tmp/f.csv" --epochs 100000 --save-every 1 --quiet \
        --save "$tmp/sig.lyw" --log "$tmp/sig.csv" > /dev/null 2>&1 &
    pid=$!
    sleep "0.$((i * 37 % 10))$((i % 10))"
    kill -$sig $pid 2> /dev/null
    wait $pid 2> /dev/null
    status=$?
    case $sig in INT) want=130 ;; TERM) want=143 ;; esac
    [ $status = $want ] && ok || bad "SIG$sig $i: exit status $status, not $want"
    left=$(find "$tmp" -name '*.tmp.*' | head -3)
    [ -z "$left" ] && ok || { bad "SIG$sig $i: temporary files left: $left"; rm -f $left; }
    "$LAYERC" eval $F "$tmp/f.csv" --weights "$tmp/sig.lyw" > /dev/null 2> "$tmp/err"
    result $? "SIG$sig $i: the weights do not load: $(head -2 "$tmp/err")"
done
# without --save-every nothing is saved before the end: the old file stays
for sig in INT TERM; do
    cp "$tmp/sig.orig" "$tmp/keep.lyw"
    env --default-signal=INT,TERM "$LAYERC" train $F "$tmp/f.csv" --epochs 100000 --quiet \
        --save "$tmp/keep.lyw" > /dev/null 2>&1 &
    pid=$!
    sleep 0.5
    kill -$sig $pid
    wait $pid 2> /dev/null
    unchanged "$tmp/keep.lyw" "$tmp/sig.orig" "SIG$sig during training without --save-every"
done

# ---- 8. smaller things
expect 2 "unknown command 'trian'; did you mean 'train'\?" "layerc trian" -- "$LAYERC" trian "$M" "$DATA"
expect 2 "unknown command 'evl'; did you mean 'eval'\?" "layerc evl" -- "$LAYERC" evl "$M" "$DATA"
expect 1 "cannot open" "a missing model file is no command" -- "$LAYERC" missing.lyr -o "$tmp/x.c"
printf ',,\n0,1,1\n' > "$tmp/commas.csv"
expect 1 "commas.csv:1: error: value 1 is empty" "a first line ',,' is a row, not a header" -- \
    "$LAYERC" eval "$M" "$tmp/commas.csv"

finish "robustness"
