#!/bin/sh
# Threads (--threads N, runtime/threads.c): the same numbers on 1, 2 and 3
# threads.  Matrix products, pooling, relu, the optimizer steps and the
# convolutions' outputs and input gradients are the same bits on any number
# of threads; the convolutions' weight gradients are added up per group of
# samples, so they (and what training makes of them) agree within float
# rounding: 1e-5 relative to the largest value of each tensor.
#   - the kernels of liblayerc.a on fixed inputs, and the pool itself
#     (every task once; nested and concurrent callers);
#   - `layerc train --threads 1 / 2 / 3` (the JIT) on three models: the
#     saved weights;
#   - C written by `layerc --threads 3 -o` against C written without it:
#     built with -std=c99 -pedantic -Werror -pthread, trained a few steps;
#     without --threads the C needs no thread library; under ThreadSanitizer
#     when the compiler has it; with tcc (no threads there, same numbers).
. "$(dirname "$0")/lib.sh"
CC=${CC:-cc}
summary() { finish threads; }

# liblayerc.a built with the sanitizers (make test-asan): the helper too
san=""
if nm "$BUILD/liblayerc.a" 2>/dev/null | grep -q __asan_init; then
    san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
fi
$CC -std=c11 -O2 -g $san -D_DEFAULT_SOURCE -Icompiler -Iruntime -I"$BUILD" -o "$tmp/check" \
    tests/c/threads_check.c "$BUILD/liblayerc.a" -ltcc -lz -lm -ldl -lpthread 2> "$tmp/cc.err"
result $? "builds tests/c/threads_check.c: $(head -5 "$tmp/cc.err")"
[ -x "$tmp/check" ] || summary

# ---- the kernels and the pool ----
for T in 1 2 3; do
    "$tmp/check" kernels $T "$tmp/exact$T" "$tmp/near$T" > "$tmp/k$T.out" 2>&1
    result $? "the kernels on $T threads: $(grep -v '^ok' "$tmp/k$T.out" | head -5)"
done
for T in 2 3; do
    "$tmp/check" blocks "$tmp/exact1" "$tmp/exact$T" 0 > "$tmp/c.out" 2>&1
    result $? "products, pooling, relu, updates, conv outputs and input gradients on $T threads = on 1: $(cat "$tmp/c.out")"
    "$tmp/check" blocks "$tmp/near1" "$tmp/near$T" 1e-5 > "$tmp/c.out" 2>&1
    result $? "conv weight gradients on $T threads within 1e-5 of 1 thread: $(cat "$tmp/c.out")"
done
for T in 2 4; do
    "$tmp/check" pool $T > "$tmp/p.out" 2>&1
    result $? "the pool with $T threads: $(grep -v '^ok' "$tmp/p.out" | head -5)"
done

# ---- models ----
cat > "$tmp/mix.lyr" <<'EOF'
# Every kernel that splits its work over the threads, and gradients that
# two blocks add to.
model mix;
input  x[2, 12, 12];
layer  c1 = conv2d(x, 6, kernel=3, pad=1);
layer  a1 = relu(c1);
layer  p1 = maxpool(a1, size=3, stride=2);
layer  c2 = conv2d(x, 6, kernel=4, stride=2, bias=0);
layer  t2 = tanh(c2);
layer  s  = add(p1, t2);
layer  c3 = conv2d(s, 8, kernel=2);
layer  q3 = avgpool(c3, 2);
layer  m2 = maxpool(s, size=2, stride=1);
layer  f  = flatten(q3);
layer  fm = flatten(m2);
layer  d  = dropout(f, 0.25);
layer  h  = dense(d, 16);
layer  g  = leaky_relu(h, alpha=0.1);
layer  k  = concat(g, f, fm);
layer  z  = dense(k, 4);
output p  = softmax(z);
loss   cross_entropy(p);
train { optimizer = adam(lr=0.01); batch = 32; epochs = 1; seed = 3; }
EOF
cp samples/fashion_mlp.lyr samples/fashion_cnn.lyr "$tmp/"
# data: N rows of random inputs in [0, 1) and a class 0..K-1 (awk's rand: the
# same rows for every run of the test)
rows() { awk -v n=$1 -v nin=$2 -v k=$3 'BEGIN { srand(7); for (r = 0; r < n; r++) {
         for (i = 0; i < nin; i++) printf "%.4f,", rand(); printf "%d\n", int(rand() * k) } }'; }
rows 640 784 10 > "$tmp/fashion.csv"
rows 320 288 4 > "$tmp/mix.csv"

# ---- the JIT: layerc train --threads T ----
for model in fashion_mlp fashion_cnn mix; do
    data=$tmp/fashion.csv
    [ $model = mix ] && data=$tmp/mix.csv
    for T in 1 2 3; do
        "$LAYERC" train "$tmp/$model.lyr" "$data" --epochs 2 --threads $T --quiet \
            --save "$tmp/$model.$T.lyw" > "$tmp/train.out" 2>&1
        result $? "layerc train $model --threads $T: $(tail -3 "$tmp/train.out")"
    done
    tol=1e-5
    [ $model = fashion_mlp ] && tol=0   # no convolution: the same bits
    for T in 2 3; do
        "$tmp/check" lyw "$tmp/$model.1.lyw" "$tmp/$model.$T.lyw" $tol > "$tmp/c.out" 2>&1
        result $? "$model trained on $T threads = on 1 (tolerance $tol): $(cat "$tmp/c.out")"
    done
done

# ---- written C: layerc --threads 3 -o ----
for model in fashion_mlp fashion_cnn mix; do
    mkdir -p "$tmp/t1" "$tmp/t3"
    "$LAYERC" "$tmp/$model.lyr" -o "$tmp/t1/$model.c" && "$LAYERC" --threads 3 "$tmp/$model.lyr" -o "$tmp/t3/$model.c"
    result $? "layerc [--threads 3] $model.lyr -o"
    ! grep -q pthread "$tmp/t1/$model.c" "$tmp/t1/$model.h"
    result $? "$model without --threads: no pthread in the C"
    ok=0
    gcc -std=c99 -Wall -Wextra -pedantic -Werror -O2 -DMODEL=$model -DHEADER="\"$model.h\"" -I"$tmp/t1" \
        tests/c/threads_aot.c "$tmp/t1/$model.c" -lm -o "$tmp/t1/$model" 2> "$tmp/cc.err" &&
    gcc -std=c99 -Wall -Wextra -pedantic -Werror -O2 -pthread -DMODEL=$model -DHEADER="\"$model.h\"" \
        -I"$tmp/t3" tests/c/threads_aot.c "$tmp/t3/$model.c" -lm -o "$tmp/t3/$model" 2>> "$tmp/cc.err" || ok=1
    result $ok "$model: the C builds warning-free (-std=c99 -pedantic, -pthread for 3 threads): $(head -5 "$tmp/cc.err")"
    [ $ok = 0 ] || continue
    "$tmp/t1/$model" 6 "$tmp/t1/$model.out" && "$tmp/t3/$model" 6 "$tmp/t3/$model.out"
    result $? "$model: the written C trains"
    tol=1e-5
    [ $model = fashion_mlp ] && tol=0
    "$tmp/check" blocks "$tmp/t1/$model.out" "$tmp/t3/$model.out" $tol > "$tmp/c.out" 2>&1
    result $? "$model: written C on 3 threads = without threads (tolerance $tol): $(cat "$tmp/c.out")"
    # ThreadSanitizer, when this compiler has it: no data race in the pool or the kernels
    if echo 'int main(void){return 0;}' | gcc -x c -fsanitize=thread - -o "$tmp/tsan" 2>/dev/null && "$tmp/tsan"; then
        gcc -std=c99 -O1 -g -fsanitize=thread -pthread -DMODEL=$model -DHEADER="\"$model.h\"" -I"$tmp/t3" \
            tests/c/threads_aot.c "$tmp/t3/$model.c" -lm -o "$tmp/t3/$model.tsan" 2> "$tmp/cc.err" &&
        TSAN_OPTIONS="halt_on_error=1 exitcode=66" "$tmp/t3/$model.tsan" 3 "$tmp/t3/$model.tsan.out" \
            > "$tmp/tsan.out" 2>&1
        result $? "$model on 3 threads under ThreadSanitizer: $(grep -m1 -A3 WARNING "$tmp/tsan.out" || head -5 "$tmp/cc.err")"
    fi
done

# tcc has no __atomic builtins: the --threads C still builds, and runs its
# tasks in line (the same decomposition, so the numbers of 3 threads)
if command -v tcc >/dev/null 2>&1; then
    tcc -DMODEL=mix -DHEADER='"mix.h"' -I"$tmp/t3" tests/c/threads_aot.c "$tmp/t3/mix.c" -lm \
        -o "$tmp/t3/mix.tcc" 2> "$tmp/cc.err" &&
    tcc -DMODEL=mix -DHEADER='"mix.h"' -I"$tmp/t1" tests/c/threads_aot.c "$tmp/t1/mix.c" -lm \
        -o "$tmp/t1/mix.tcc" 2>> "$tmp/cc.err" &&
    "$tmp/t3/mix.tcc" 6 "$tmp/t3/mix.tcc.out" && "$tmp/t1/mix.tcc" 6 "$tmp/t1/mix.tcc.out" &&
    "$tmp/check" blocks "$tmp/t1/mix.tcc.out" "$tmp/t3/mix.tcc.out" 1e-5 > "$tmp/c.out" 2>&1
    result $? "mix: C written with --threads 3 builds with tcc, runs in line, = without: $(head -3 "$tmp/cc.err") $(cat "$tmp/c.out")"
else
    bad "tcc is not installed (apt-get install tcc)"
fi

# ---- the option ----
for bad in 0 65 x; do
    "$LAYERC" train "$tmp/mix.lyr" "$tmp/mix.csv" --threads $bad > /dev/null 2> "$tmp/err"
    [ $? = 2 ] && grep -q "threads" "$tmp/err"
    result $? "--threads $bad is a usage error (status 2, a message)"
done
summary
