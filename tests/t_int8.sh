#!/bin/sh
# --quantize int8 (SPEC section 3, "int8"): the integer-only C of seven small
# models (dense + relu/relu6 + softmax; convolutions with padding, stride,
# pad=same, dilation and pools; grouped and depthwise convolutions, global
# average pooling, sigmoid; add, concat, tanh; batchnorm folded into conv2d
# and dense; leaky_relu, hardswish, elu, silu, gelu, clip through tables;
# conv1d, the 1-D pools, global max pooling) and the samples ResNet-8 and
# DS-CNN on Fashion-MNIST images, each trained briefly, must give the int8
# outputs of tests/int8/ref.py, an independent NumPy model of the TFLite
# int8 arithmetic, bit for bit, on inputs partly outside the calibration
# range (so the clamps work), on the host and on QEMU (the CNN as Cortex-M4F
# and M0+ code, ResNet-8 and DS-CNN on the Cortex-M4F).  The source holds
# no floating point, the Cortex-M0+ object of the CNN calls no soft-float
# helper, a model with an op that has no int8 form is refused by name and
# line, the C is clean under UBSan and ASan, and `layerc eval --quantize int8`
# reports the accuracy of the same code.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3

# data NAME IN KIND ROWS SEED [SCALE]: random rows, inputs then truth (KIND:
# "cN" a class index of N, "bN" N values 0 or 1, "vN" N values in (-1, 1));
# SCALE widens the inputs
data() {
    $PY - "$@" <<'EOF'
import sys
import numpy as np
name, n_in, kind, rows, seed = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
scale = float(sys.argv[6]) if len(sys.argv) > 6 else 1.0
r = np.random.default_rng(seed)
# rows of their own spread and offset, so that pooled means differ too
x = (r.normal(0, 1, (rows, n_in)) * r.uniform(0.2, 2, (rows, 1)) + r.normal(0, 0.7, (rows, 1))) * scale
if kind[0] == "c":
    k = int(kind[1:])
    t = (np.abs(x[:, :k]).argmax(axis=1))[:, None]
    fmt = ["%.6g"] * n_in + ["%d"]
else:
    k = int(kind[1:])
    t = (x[:, :k] > 0).astype(float) if kind[0] == "b" else np.tanh(x[:, :k])
    fmt = ["%.6g"] * (n_in + k)
np.savetxt(name, np.hstack([x, t]), fmt=fmt, delimiter=",")
EOF
}

# one MODEL IN KIND: train, export, quantise, and compare with the reference
one() {
    m=$1 d=$tmp/$1
    mkdir -p "$d"
    data "$d/train.csv" "$2" "$3" 96 1 && data "$d/test.csv" "$2" "$3" 40 2 1.5 || { bad "$m: data"; return; }
    $LAYERC train "tests/int8/$m.lyr" "$d/train.csv" --save "$d/w.lyw" -q > "$d/train.out" 2>&1 &&
    $LAYERC export "tests/int8/$m.lyr" --weights "$d/w.lyw" --npz "$d/w.npz"
    result $? "$m: trains and exports: $(tail -2 "$d/train.out")"
    $LAYERC "tests/int8/$m.lyr" --weights "$d/w.lyw" --quantize int8 --calibrate "$d/train.csv" -o "$d/$m.c" \
        2> "$d/err"
    result $? "$m: --quantize int8 writes C: $(cat "$d/err")"
    name=$(sed -n 's/^model \([a-z0-9_]*\);/\1/p' "tests/int8/$m.lyr")
    ! grep -wqE 'float|double' "$d/$m.c"
    result $? "$m: the source has no float or double: $(grep -wnE 'float|double' "$d/$m.c" | head -3)"
    cc -std=c99 -O1 -Wall -Wextra -Werror -pedantic -I"$d" -DMODEL="$name" -DMODEL_H="\"$m.h\"" \
        -o "$d/run" tests/int8/driver.c "$d/$m.c" 2> "$d/cc.err"
    result $? "$m: the int8 C builds warning-free: $(head -5 "$d/cc.err")"
    $PY tests/int8/ref.py "tests/int8/$m.lyr" "$d/w.npz" "$d/$m.c" "$d/test.csv" "$d/qx.csv" "$d/ref.csv" 2> "$d/ref.err"
    result $? "$m: the NumPy reference runs: $(tail -3 "$d/ref.err")"
    "$d/run" < "$d/qx.csv" > "$d/c.csv"
    [ "$(wc -l < "$d/c.csv")" -eq 40 ] && cmp -s "$d/c.csv" "$d/ref.csv"
    result $? "$m: the C's int8 outputs are the reference's, bit for bit: $(diff "$d/c.csv" "$d/ref.csv" | head -4)"
    # the same under UBSan and ASan: no undefined behaviour in the integer arithmetic
    cc -std=c99 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -I"$d" -DMODEL="$name" \
        -DMODEL_H="\"$m.h\"" -o "$d/run-san" tests/int8/driver.c "$d/$m.c" 2> "$d/san.err" &&
    "$d/run-san" < "$d/qx.csv" > "$d/san.csv" 2> "$d/san.err" && cmp -s "$d/san.csv" "$d/c.csv"
    result $? "$m: the int8 C is clean under UBSan and ASan: $(head -3 "$d/san.err")"
    # the outputs are not constant, and the inputs go past the calibration range
    [ "$(tr ',' '\n' < "$d/c.csv" | sort -u | wc -l)" -gt 8 ] && grep -qE '(^|,)(127|-128)(,|$)' "$d/qx.csv"
    result $? "$m: outputs of many values, inputs clamped at the ends of int8"
}

one mlp 12 c5
one cnn 288 c4
one dw 400 b3
one addcat 10 v3
one bn 192 c4
one act 8 v3
one seq 60 c4

# the Fashion MLP and CNN samples (two epochs each), and the MLPerf Tiny
# samples on Fashion-MNIST (residual adds of differently
# quantised branches, strided pad=same and 1x1 shortcut convs, batchnorm
# folded into every conv, depthwise convs, a [10, 4] kernel, dropout as the
# identity, global average pooling): trained on 512 images (ResNet-8 one
# epoch, DS-CNN three: after one its outputs are all near 1/10),
# calibrated on them; 12 test images and 4 stretched past [0, 1] (so the
# input clamps work); the C's int8 outputs are ref.py's, bit for bit, on the
# host and on QEMU's Cortex-M4F
F=/usr/share/datasets/fashion-mnist
if [ -f $F/train-images-idx3-ubyte.gz ]; then
    subset $F/train-images-idx3-ubyte.gz 512 "$tmp/f-ti" && subset $F/train-labels-idx1-ubyte.gz 512 "$tmp/f-tl" &&
    subset $F/t10k-images-idx3-ubyte.gz 16 "$tmp/f-xi" && subset $F/t10k-labels-idx1-ubyte.gz 16 "$tmp/f-xl"
    od -An -v -tu1 -w784 -j16 "$tmp/f-xi" > "$tmp/f-px"
    od -An -v -tu1 -w1 -j8 "$tmp/f-xl" | paste -d' ' "$tmp/f-px" - |
        awk '{ k = NR > 12 ? 1.5 : 1; for (i = 1; i < NF; i++) printf "%.9g,", k * $i / 255 - (k - 1) / 3; print $NF }' \
        > "$tmp/f-test.csv"
    for m in fashion_mlp:2 fashion_cnn:2 resnet8:1 dscnn:3; do
        e=${m#*:} m=${m%:*}; d=$tmp/$m
        mkdir -p "$d/mcu"
        $LAYERC train "samples/$m.lyr" "$tmp/f-ti" --labels "$tmp/f-tl" --epochs $e --threads 1 --save "$d/w.lyw" -q \
            > "$d/train.out" 2>&1 &&
        $LAYERC export "samples/$m.lyr" --weights "$d/w.lyw" --npz "$d/w.npz" &&
        $LAYERC "samples/$m.lyr" --weights "$d/w.lyw" --quantize int8 --calibrate "$tmp/f-ti" -o "$d/mcu/model.c" \
            2> "$d/err"
        result $? "$m: trains, exports and quantises: $(tail -2 "$d/train.out"; cat "$d/err")"
        cc -std=c99 -O1 -Wall -Wextra -Werror -pedantic -I"$d/mcu" -DMODEL=$m -DMODEL_H='"model.h"' \
            -o "$d/run" tests/int8/driver.c "$d/mcu/model.c" 2> "$d/cc.err"
        result $? "$m: the int8 C builds warning-free: $(head -5 "$d/cc.err")"
        $PY tests/int8/ref.py "samples/$m.lyr" "$d/w.npz" "$d/mcu/model.c" "$tmp/f-test.csv" "$d/qx.csv" "$d/ref.csv" \
            2> "$d/ref.err"
        result $? "$m: the NumPy reference runs: $(tail -3 "$d/ref.err")"
        "$d/run" < "$d/qx.csv" > "$d/c.csv"
        [ "$(wc -l < "$d/c.csv")" -eq 16 ] && cmp -s "$d/c.csv" "$d/ref.csv"
        result $? "$m: the C's int8 outputs are the reference's, bit for bit: $(diff "$d/c.csv" "$d/ref.csv" | head -4)"
        [ "$(tr ',' '\n' < "$d/c.csv" | sort -u | wc -l)" -gt 8 ] && grep -qE '(^|,)-128(,|$)' "$d/qx.csv" &&
            grep -qE '(^|,)127(,|$)' "$d/qx.csv"
        result $? "$m: outputs of many values, inputs clamped at both ends of int8"
        cc -std=c99 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -I"$d/mcu" -DMODEL=$m \
            -DMODEL_H='"model.h"' -o "$d/run-san" tests/int8/driver.c "$d/mcu/model.c" 2> "$d/san.err" &&
        "$d/run-san" < "$d/qx.csv" > "$d/san.csv" 2> "$d/san.err" && cmp -s "$d/san.csv" "$d/c.csv"
        result $? "$m: the int8 C is clean under UBSan and ASan: $(head -3 "$d/san.err")"
        # on QEMU, 3 of the images (4 ResNet-8 inferences are about 5e8 instructions)
        head -3 "$d/qx.csv" | awk -F, 'BEGIN { print "#include <stdint.h>" } { rows[NR] = $0; n = NF }
            END { print "#define inputs_N " NR; print "static const int8_t inputs_x[" NR "][" n "] = {";
                  for (i = 1; i <= NR; i++) print "    { " rows[i] " },"; print "};" }' > "$d/mcu/inputs.h"
        MCU_CPU=m4f sh tests/mcu/build.sh "$d/m4f.elf" tests/int8/mcu.c "$d/mcu" "$d/mcu" &&
        MCU_CPU=m4f sh tests/mcu/run.sh "$d/m4f.elf" > "$d/m4f.out"
        st=$?
        awk '$1 == "out" { s = $3; for (i = 4; i <= NF; i++) s = s "," $i; print s }' "$d/m4f.out" > "$d/m4f.csv"
        [ $st -eq 0 ] && grep -q '^end$' "$d/m4f.out" && head -3 "$d/c.csv" | cmp -s "$d/m4f.csv" -
        result $? "$m on QEMU (m4f, 128 KB RAM, 1 MB flash): the host's int8 outputs, bit for bit (status $st): $(tail -2 "$d/m4f.out"; grep -i error "$d/m4f.log" 2>/dev/null | head -3)"
    done
else
    bad "dataset-fashion-mnist is not installed"
fi

# the same code through the JIT: eval's int8 accuracy is the AOT outputs'
d=$tmp/mlp
$LAYERC eval tests/int8/mlp.lyr "$d/test.csv" --weights "$d/w.lyw" --quantize int8 --calibrate "$d/train.csv" \
    > "$d/eval.out" 2>&1
result $? "eval --quantize int8 runs: $(tail -3 "$d/eval.out")"
right=$(cut -d, -f13 "$d/test.csv" | paste -d, "$d/c.csv" - |
        awk -F, '{ b = 1; for (i = 2; i <= 5; i++) if ($i + 0 > $b + 0) b = i; if (b - 1 == $6) n++ } END { print n + 0 }')
grep -q "^int8 (calibrated on .*): accuracy .* ($right of 40), float " "$d/eval.out"
result $? "eval --quantize int8: $right of 40 right, as the AOT outputs: $(grep '^int8' "$d/eval.out")"

# --qat: the int8 rounding in the training forward pass, at the outputs the
# int8 build quantises (the input, the relus folded into their layers, the
# last dense; not the softmax); training differs from plain training
for m in mlp bn; do
    d=$tmp/$m
    $LAYERC train "tests/int8/$m.lyr" "$d/train.csv" --weights "$d/w.lyw" --qat --epochs 2 --save "$d/qat.lyw" \
        > "$d/qat.out" 2>&1 &&
    $LAYERC train "tests/int8/$m.lyr" "$d/train.csv" --weights "$d/w.lyw" --epochs 2 --save "$d/plain.lyw" \
        > "$d/plain.out" 2>&1
    result $? "$m: train --qat runs: $(tail -2 "$d/qat.out")"
    grep -q '^quantisation-aware: the int8 rounding of 4 layer outputs' "$d/qat.out"
    result $? "$m: --qat rounds the 4 outputs the int8 build quantises: $(grep quantisation "$d/qat.out")"
    a=$(grep '^epoch 2/2' "$d/qat.out" | awk '{ print $4 }') b=$(grep '^epoch 2/2' "$d/plain.out" | awk '{ print $4 }')
    [ -n "$a" ] && [ -n "$b" ] && [ "$a" != "$b" ]
    result $? "$m: --qat changes the training loss ($a with it, $b without)"
done
$LAYERC train tests/int8/mlp.lyr "$tmp/mlp/train.csv" --qat 2> "$tmp/mlp/qat.err"
[ $? -eq 2 ] && grep -q 'give its weights' "$tmp/mlp/qat.err"
result $? "--qat without --weights is a usage error: $(cat "$tmp/mlp/qat.err")"

# the CNN for a Cortex-M0+: no soft-float helper
if command -v arm-none-eabi-gcc > /dev/null; then
    arm-none-eabi-gcc -std=c99 -mcpu=cortex-m0plus -mthumb -O2 -Wall -Wextra -Werror -c -I"$tmp/cnn" \
        -o "$tmp/cnn/m0.o" "$tmp/cnn/cnn.c" 2> "$tmp/cnn/arm.err" &&
    arm-none-eabi-nm "$tmp/cnn/m0.o" > "$tmp/cnn/m0.nm" &&
    grep -q ' T i8cnn_forward$' "$tmp/cnn/m0.nm" && ! grep -qE '__aeabi_[fd]|__aeabi_.*2f|__aeabi_.*2d' "$tmp/cnn/m0.nm"
    result $? "cnn: the Cortex-M0+ object defines i8cnn_forward and calls no soft-float helper: $(cat "$tmp/cnn/arm.err"; grep __aeabi "$tmp/cnn/m0.nm" | tr '\n' ' ')"
else
    bad "arm-none-eabi-gcc is missing (Debian: gcc-arm-none-eabi)"
fi

# the CNN on QEMU (tests/mcu): Cortex-M4F and ARMv6-M code give the host's outputs
d=$tmp/cnn
mkdir -p "$d/mcu"
$LAYERC tests/int8/cnn.lyr --weights "$d/w.lyw" --quantize int8 --calibrate "$d/train.csv" -o "$d/mcu/model.c"
awk -F, 'BEGIN { print "#include <stdint.h>" } { rows[NR] = $0; n = NF }
         END { print "#define inputs_N " NR; print "static const int8_t inputs_x[" NR "][" n "] = {";
               for (i = 1; i <= NR; i++) print "    { " rows[i] " },"; print "};" }' "$d/qx.csv" > "$d/mcu/inputs.h"
for cpu in m4f m0plus; do
    MCU_CPU=$cpu sh tests/mcu/build.sh "$d/$cpu.elf" tests/int8/mcu.c "$d/mcu" "$d/mcu" &&
    MCU_CPU=$cpu sh tests/mcu/run.sh "$d/$cpu.elf" > "$d/$cpu.out"
    st=$?
    awk '$1 == "out" { s = $3; for (i = 4; i <= NF; i++) s = s "," $i; print s }' "$d/$cpu.out" > "$d/$cpu.csv"
    [ $st -eq 0 ] && grep -q '^end$' "$d/$cpu.out" && cmp -s "$d/$cpu.csv" "$d/c.csv"
    result $? "cnn on QEMU ($cpu): the host's int8 outputs, bit for bit (status $st): $(tail -2 "$d/$cpu.out"; cat "$d/$cpu.log" 2>/dev/null | grep -i 'error' | head -3)"
done
arm-none-eabi-nm "$d/m0plus.elf" 2> /dev/null | grep -qE '__aeabi_[fd]|__aeabi_.*2[fd]$'
[ $? -eq 1 ]
result $? "cnn: the linked ARMv6-M program has no soft-float helper: $(arm-none-eabi-nm "$d/m0plus.elf" 2>&1 | grep -E '__aeabi_[fd]' | head -3 | tr '\n' ' ')"

# refused: an op with no int8 form, by layer and line; nothing written
d=$tmp/bad
mkdir -p "$d"
data "$d/t.csv" 4 v2 32 1
$LAYERC train tests/int8/unsupported.lyr "$d/t.csv" --epochs 1 --save "$d/w.lyw" -q > /dev/null 2>&1
$LAYERC tests/int8/unsupported.lyr --weights "$d/w.lyw" --quantize int8 --calibrate "$d/t.csv" -o "$d/m.c" 2> "$d/err"
[ $? -eq 1 ] && [ ! -e "$d/m.c" ] && [ ! -e "$d/m.h" ] &&
    grep -q "unsupported.lyr:5: error: layer 'g': layernorm has no int8 form" "$d/err"
result $? "an op without an int8 form is refused by layer and line, nothing written: $(cat "$d/err")"
printf '1,2,3\n' > "$d/narrow.csv"
$LAYERC tests/int8/mlp.lyr --weights "$tmp/mlp/w.lyw" --quantize int8 --calibrate "$d/narrow.csv" -o "$d/m3.c" 2> "$d/err3"
[ $? -eq 1 ] && [ ! -e "$d/m3.c" ] && grep -q 'narrow.csv:1: error: row has 3 values' "$d/err3"
result $? "calibration data of the wrong width is refused by file and line, nothing written: $(cat "$d/err3")"
$LAYERC tests/int8/mlp.lyr --quantize int8 -o "$d/m2.c" 2> "$d/err2"
[ $? -eq 2 ] && grep -q 'needs the trained weights' "$d/err2" && [ ! -e "$d/m2.c" ]
result $? "--quantize int8 without --weights and --calibrate is a usage error: $(cat "$d/err2")"

finish "int8"
