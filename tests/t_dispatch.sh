#!/bin/sh
# Runtime dispatch (runtime/dispatch.c): layerc carries its kernels built
# for the x86-64 baseline, AVX2 + FMA and AVX-512 and runs the best set the
# CPU has, so one binary runs on any x86-64.
#   - `layerc --version` names the set, and it is the one /proc/cpuinfo
#     calls for; LAYERC_KERNELS picks another or fails with a message;
#   - every kernel of kernels.h is dispatched (kernels_list.h, made from it) and
#     defined in layerc; the baseline set has no AVX instruction; the unit
#     tests of the kernels pass on every set, and the float exp, log, tanh
#     and erf stay within their bound built with each set's flags and tcc;
#   - the same small training run (products, convolutions, both poolings,
#     relu, tanh, sigmoid, softmax, Adam; 1 and 2 threads) under
#     qemu-x86_64 -cpu Nehalem (no AVX: the baseline set) and -cpu Haswell
#     (AVX2) gives the weights of the same set run natively, bit for bit
#     (the same instructions, and qemu's SSE/AVX arithmetic is IEEE); and
#     the sets agree with each other within 1e-5 relative to each tensor's
#     largest value: only rounding differs (the baseline has no FMA, so it
#     rounds a * b + c twice; the AVX sets contract it into one fma), which
#     two epochs grow to < 1e-6 (measured; 1e-5 leaves 10x).
. "$(dirname "$0")/lib.sh"
CC=${CC:-cc}
summary() { finish dispatch; }
x86=0
case "$(uname -m)" in x86_64 | amd64) x86=1 ;; esac

# ---- the set in use ----
line=$("$LAYERC" --version | sed -n 2p)
set_now=$(echo "$line" | sed -n 's/^kernels: \([a-z0-9]*\) .*/\1/p')
if [ $x86 = 1 ]; then
    want=baseline
    flags=$(grep -m1 '^flags' /proc/cpuinfo)
    has() { for f in "$@"; do echo "$flags" | grep -qw "$f" || return 1; done; }
    has avx2 fma && want=avx2
    has avx2 fma avx512f avx512bw avx512dq avx512vl && want=avx512
    [ -n "${LAYERC_KERNELS:-}" ] && want=$LAYERC_KERNELS
    [ "$set_now" = "$want" ]
    result $? "layerc --version says kernels $want for this CPU: '$line'"
    sets="baseline avx2 avx512"
else
    [ "$set_now" = portable ] || [ "$set_now" = native ]
    result $? "layerc --version names the one kernel set of this machine: '$line'"
    sets=$set_now
fi
for k in $sets; do
    [ "$(LAYERC_KERNELS=$k "$LAYERC" --version | sed -n 2p)" = "kernels: $k (set by LAYERC_KERNELS; built: $(echo $sets | sed 's/ /, /g'))" ]
    result $? "LAYERC_KERNELS=$k chooses $k"
done
LAYERC_KERNELS=sse9 "$LAYERC" --version > "$tmp/out" 2> "$tmp/err"
[ $? = 1 ] && [ ! -s "$tmp/out" ] && grep -q "^layerc: error: LAYERC_KERNELS=sse9: no such kernel set" "$tmp/err"
result $? "LAYERC_KERNELS=sse9: exit 1 and a message: $(cat "$tmp/err")"

# ---- every kernel dispatched ----
tr '\n' ' ' < runtime/kernels.h | grep -oE '(void|double|float|lc_real) lc_[a-z0-9_]*\(' |
    sed 's/^[a-z_]* //; s/($//' | sort -u > "$tmp/declared"
[ "$(wc -l < "$tmp/declared")" -ge 16 ]
result $? "kernels.h declares the kernels ($(wc -l < "$tmp/declared") found)"
while read -r k; do
    grep -qE "[VR]\(([a-z_]+, )?$k, \(" "$BUILD/kernels_list.h" && nm "$LAYERC" | grep -q " T $k\$"
    result $? "$k is in kernels_list.h and defined in layerc"
done < "$tmp/declared"
if [ $x86 = 1 ] && command -v objdump >/dev/null 2>&1 && [ -f "$BUILD/runtime/kernels_baseline.o" ]; then
    n=$(objdump -d "$BUILD/runtime/kernels_baseline.o" | grep -c '%[yz]mm')
    [ "$n" = 0 ]
    result $? "the baseline kernels use no ymm/zmm register ($n instructions do)"
    n=$(objdump -d "$BUILD/runtime/kernels_avx512.o" | grep -c '%zmm')
    [ "$n" -gt 0 ]
    result $? "the AVX-512 kernels use zmm registers ($n instructions)"
fi
# the written C takes its instruction set from the user's compiler flags
"$LAYERC" samples/fashion_cnn.lyr -o "$tmp/cnn.c" && ! grep -q 'lc_kernels_\|__builtin_cpu\|LC_ISA\|target(' "$tmp/cnn.c"
result $? "generated C has no dispatch of its own"

# ---- the same numbers everywhere ----
cat > "$tmp/mix.lyr" <<'EOF'
# Every kind of kernel: products, convolutions, pooling, relu, the optimizer.
model mix;
input  x[2, 10, 10];
layer  c1 = conv2d(x, 6, kernel=3, pad=1);
layer  a1 = relu(c1);
layer  p1 = maxpool(a1, 2);
layer  c2 = conv2d(p1, 8, kernel=3, stride=2);
layer  t2 = tanh(c2);
layer  q2 = avgpool(t2, 2);
layer  f  = flatten(q2);
layer  h  = dense(f, 24);
layer  s  = sigmoid(h);
layer  z  = dense(s, 5);
output p  = softmax(z);
loss   cross_entropy(p);
train { optimizer = adam(lr=0.01); batch = 16; epochs = 2; seed = 5; }
EOF
awk 'BEGIN { srand(7); for (r = 0; r < 256; r++) {
     for (i = 0; i < 200; i++) printf "%.4f,", rand(); printf "%d\n", int(rand() * 5) } }' > "$tmp/mix.csv"
san=""
if nm "$BUILD/liblayerc.a" 2>/dev/null | grep -q __asan_init; then
    san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
fi
$CC -std=c11 -O2 -g $san -D_DEFAULT_SOURCE -Icompiler -Iruntime -I"$BUILD" -o "$tmp/check" \
    tests/c/threads_check.c "$BUILD/liblayerc.a" -ltcc -lz -lm -ldl -lpthread 2> "$tmp/cc.err"
result $? "builds tests/c/threads_check.c: $(head -5 "$tmp/cc.err")"
[ -x "$tmp/check" ] || summary
train() {   # train OUT.lyw THREADS [command before layerc ...]
    out=$1 T=$2
    shift 2
    "$@" "$LAYERC" train "$tmp/mix.lyr" "$tmp/mix.csv" --quiet --threads "$T" --save "$out" \
        > "$tmp/train.out" 2>&1
    result $? "$* layerc train --threads $T: $(grep -v '^qemu-x86_64: warning' "$tmp/train.out" | tail -3)"
}
for k in $sets; do
    for T in 1 2; do train "$tmp/native_$k.$T.lyw" $T env LAYERC_KERNELS=$k; done
done
for k in ${sets#* }; do
    for T in 1 2; do
        "$tmp/check" lyw "$tmp/native_${sets%% *}.$T.lyw" "$tmp/native_$k.$T.lyw" 1e-5 > "$tmp/c.out" 2>&1
        result $? "kernels $k = ${sets%% *} within 1e-5 ($T threads): $(cat "$tmp/c.out")"
    done
done
# the unit tests of the kernels pass on every set
for k in $sets; do
    for u in test_kernels test_activation; do
        [ -x "$BUILD/tests/$u" ] || continue
        LAYERC_KERNELS=$k "$BUILD/tests/$u" > "$tmp/unit.out" 2>&1
        result $? "tests/unit/$u.c on kernels $k: $(grep -m3 FAIL "$tmp/unit.out")"
    done
done
# the float exp, log, tanh, erf within their bound with each set's flags
# (a * b + c contracted into an fma or not), and with tcc
vm_flags="-O3 -ffp-contract=fast|baseline"
if [ $x86 = 1 ]; then
    case " $(LAYERC_KERNELS= "$LAYERC" --version | sed -n 2p) " in
    *" avx512 ("*) vm_flags="$vm_flags;-O3 -ffp-contract=fast -mavx2 -mfma|avx2;-O3 -ffp-contract=fast -mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx2 -mfma -mprefer-vector-width=512|avx512" ;;
    *" avx2 ("*) vm_flags="$vm_flags;-O3 -ffp-contract=fast -mavx2 -mfma|avx2" ;;
    esac
fi
IFS=';'
for f in $vm_flags; do
    IFS=' '
    $CC -std=c11 ${f%|*} -Itests/unit -o "$tmp/vmath" tests/unit/test_vmath.c -lm 2> "$tmp/cc.err" &&
        "$tmp/vmath" > "$tmp/vm.out" 2>&1
    result $? "tests/unit/test_vmath.c built for ${f#*|} ($CC ${f%|*}): $(grep -m3 'FAIL\|>' "$tmp/vm.out") $(head -3 "$tmp/cc.err")"
    IFS=';'
done
IFS=' '
if command -v tcc >/dev/null 2>&1; then
    tcc -Itests/unit -o "$tmp/vmath_tcc" tests/unit/test_vmath.c -lm 2> "$tmp/cc.err" && "$tmp/vmath_tcc" > "$tmp/vm.out" 2>&1
    result $? "tests/unit/test_vmath.c built with tcc: $(grep -m3 'FAIL\|>' "$tmp/vm.out") $(head -3 "$tmp/cc.err")"
fi

if [ $x86 = 1 ] && [ -z "$san" ]; then   # (qemu does not run ASan's shadow memory)
    sh tests/deps.sh qemu || true
    if ! command -v qemu-x86_64 >/dev/null 2>&1; then
        bad "qemu-x86_64 (Debian's qemu-user) is needed to run layerc on CPUs without AVX"
        summary
    fi
    for cpu in Nehalem:baseline Haswell:avx2; do
        model=${cpu%%:*} k=${cpu#*:}
        q="qemu-x86_64 -cpu $model"
        v=$($q "$LAYERC" --version 2>/dev/null | sed -n 2p)
        [ "$v" = "kernels: $k (the best this CPU runs of baseline, avx2, avx512)" ]
        result $? "under $q layerc chooses $k: '$v'"
        LAYERC_KERNELS=avx512 $q "$LAYERC" --version > "$tmp/out" 2> "$tmp/err"
        [ $? = 1 ] && grep -q "^layerc: error: LAYERC_KERNELS=avx512: this CPU lacks AVX-512" "$tmp/err"
        result $? "LAYERC_KERNELS=avx512 under $q: exit 1 and a message: $(grep -v warning "$tmp/err")"
        for T in 1 2; do
            train "$tmp/qemu_$k.$T.lyw" $T $q
            "$tmp/check" lyw "$tmp/native_$k.$T.lyw" "$tmp/qemu_$k.$T.lyw" 0 > "$tmp/c.out" 2>&1
            result $? "$q ($k, $T threads) = $k natively: $(cat "$tmp/c.out")"
        done
    done
fi
summary
