#!/bin/sh
# The elementwise kernels (activations, softmax, losses; runtime/kernels/)
# against PyTorch in float32, forward and autograd gradient, at their kinks
# too (tests/c/act_dump.c, tests/torch/activations.py), with Debian's
# python3-torch (make test installs it: tests/deps.sh); fails without it.
. "$(dirname "$0")/lib.sh"
CC=${CC:-cc}
if ! /usr/bin/python3 -c 'import torch' >/dev/null 2>&1; then
    echo "FAIL python3-torch is not installed (apt-get install python3-torch, or sh tests/deps.sh test)"
    echo "act_torch: 0 passed, 1 failed"
    exit 1
fi
san=""
if nm "$BUILD/liblayerc.a" 2>/dev/null | grep -q __asan_init; then
    san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
fi
$CC -std=c11 -O2 $san -D_DEFAULT_SOURCE -Iruntime -I"$BUILD" -o "$tmp/dump" tests/c/act_dump.c \
    "$BUILD/liblayerc.a" -ltcc -lz -lm -ldl -lpthread 2> "$tmp/cc.err"
result $? "builds tests/c/act_dump.c: $(head -5 "$tmp/cc.err")"
[ -x "$tmp/dump" ] || finish act_torch
sets=auto
case "$(uname -m)" in x86_64 | amd64) sets="baseline avx2 avx512" ;; esac
for k in $sets; do
    LAYERC_KERNELS=$k "$tmp/dump" > "$tmp/dump.$k" 2> "$tmp/err" || continue   # (a set this CPU lacks)
    /usr/bin/python3 tests/torch/activations.py < "$tmp/dump.$k" > "$tmp/py.out" 2>&1
    while read -r status what; do
        case $status in
        ok) ok ;;
        *) bad "kernels $k: $what" ;;
        esac
    done < "$tmp/py.out"
    [ -s "$tmp/py.out" ] || bad "kernels $k: tests/torch/activations.py printed nothing"
done
finish act_torch
