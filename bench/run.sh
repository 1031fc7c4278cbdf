#!/bin/sh
# bench/run.sh (`make bench`): layerc against PyTorch at its best on this
# machine, side by side, and the compiler's own speed.  Writes
# docs/PERFORMANCE.md and bench/last.tsv, after comparing with the
# bench/last.tsv of the previous run (commit it, and a regression shows in
# the next run).
#
#   sh bench/run.sh                      all of it (~10 minutes on 2 cores)
#   REPS=1 sh bench/run.sh               one round instead of 3 (a quick look)
#   MODELS="bench/zoo/lenet.lyr" sh bench/run.sh   some models only
#   THREADS=4 sh bench/run.sh            1 and 4 threads instead of 1 and 2
#
# The models: samples/fashion_mlp.lyr, samples/fashion_cnn.lyr and every
# bench/zoo/*.lyr.  Each holds its PyTorch twin in "# torch:" lines
# (bench/torch_ref.py reads them; the twin must have the model's number of
# trainable parameters), and "# bench: truth=input" when the target is the
# input.  A model layerc cannot compile yet (an op still missing) is listed
# as waiting, with layerc's message.  A new model is one more file there.
#
# Each is trained on Fashion-MNIST (/usr/share/datasets/fashion-mnist) in
# samples per second, by each contender on 1 and on T threads; a round runs
# every contender once, one after the other (a busy machine slows them
# alike), and the tables give the medians of the rounds:
#   - layerc AOT: `layerc [--threads T] m.lyr -o m.c` built with gcc -O3
#     -march=native (and 512-bit vectors where the CPU has AVX-512: gcc's
#     tuning for it prefers 256) driven by bench/train_aot.c (copy a
#     shuffled batch, m_train_step), for a fixed amount of work (~75 GFLOP);
#   - layerc JIT: `layerc train --threads N`, 2 epochs of the 10,000 test
#     images, the second epoch's samples/s (`--truth input` for a
#     truth=input model);
#   - PyTorch: bench/torch_ref.py, the same model, data, batch, optimizer and
#     loop, on OpenBLAS (libopenblas0-pthread, installed when missing) with
#     OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset and OMP_NUM_THREADS =
#     OPENBLAS_NUM_THREADS = the thread count (its best on this machine).
# Ratios: the median over the rounds of each round's ratio (serial: 1
# thread each; best vs best: the better of 1 and T threads of each).
# Also: one core's large-sgemm peak (OpenBLAS, 2048^3, bench/gemm.c) and
# the GFLOPS each training step reaches (layerc summary's FLOPs a sample);
# batch-1 inference of the MLP, float and int8 (bench/int8_latency.c);
# bench/gemm.c's products; bench/elementwise.c
# (the elementwise kernels against the emitter's loops under tcc and gcc);
# compile time on chains of 100 to 10,000 layers; the JIT's start-up.
set -u
cd "$(dirname "$0")/.." || exit 1
LAYERC=${LAYERC:-./layerc}
B=${BENCH_DIR:-build/bench}
REPS=${REPS:-3}
T=${THREADS:-2}
PY=/usr/bin/python3
D=/usr/share/datasets/fashion-mnist
MODELS=${MODELS:-"samples/fashion_mlp.lyr samples/fashion_cnn.lyr $(ls bench/zoo/*.lyr)"}
WORK=${WORK:-75e9}   # flops a layerc AOT or PyTorch run trains for
mkdir -p "$B" "$B/res"
rm -f "$B"/res/*
say() { echo "bench: $*" >&2; }
fail() { echo "bench: error: $*" >&2; exit 1; }

[ -x "$LAYERC" ] || fail "$LAYERC is missing (make first)"
command -v gcc >/dev/null 2>&1 || fail "gcc is needed for the AOT builds"

# ---- what the comparison needs (installed with a message when missing) ----
TORCH=1
sh tests/deps.sh torch || TORCH=0
sh tests/deps.sh bench || say "libopenblas0-pthread could not be installed: PyTorch may run on the reference BLAS"
$PY -c 'import torch' >/dev/null 2>&1 || { TORCH=0; say "PyTorch unavailable: its columns stay empty"; }
sh tests/deps.sh demo || true
if [ -f $D/train-images-idx3-ubyte.gz ]; then
    IMG=$D/train-images-idx3-ubyte.gz LAB=$D/train-labels-idx1-ubyte.gz
    TIMG=$D/t10k-images-idx3-ubyte.gz TLAB=$D/t10k-labels-idx1-ubyte.gz
    DATA="Fashion-MNIST (60,000 training images; the JIT: the 10,000 test images)"
else
    IMG=- LAB=- TIMG= TLAB=
    DATA="random data of Fashion-MNIST's shape (the data set is not installed; no JIT figures)"
    say "no Fashion-MNIST: random data for AOT and PyTorch, no JIT figures"
fi
torch_env() {   # torch_env THREADS: PyTorch's environment for that many threads
    echo "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=$1 OPENBLAS_NUM_THREADS=$1"
}
BLASINFO=$([ $TORCH = 1 ] && $(torch_env 1) $PY bench/torch_ref.py blas 2>&1 | tail -1)
[ $TORCH = 1 ] && say "$BLASINFO"

# ---- builds ----
AOTFLAGS="-O3 -march=native"
grep -qw avx512f /proc/cpuinfo 2>/dev/null && AOTFLAGS="$AOTFLAGS -mprefer-vector-width=512"
BUILD_DIR=${BUILD:-build}
LIBS="$BUILD_DIR/liblayerc.a -ltcc -lprotobuf-c -lz -lm -ldl -lpthread"
say "building the kernel benchmarks and the JIT start-up timer"
cc -std=c11 -O3 -march=native -D_DEFAULT_SOURCE -Iruntime -I"$BUILD_DIR" bench/gemm.c $LIBS -o "$B/gemm" ||
    fail "building bench/gemm.c"
gcc -std=c11 -O2 -c bench/elementwise_loops.c -o "$B/elementwise_loops.o" &&
    cc -std=c11 -O2 -D_DEFAULT_SOURCE -Iruntime -I"$BUILD_DIR" bench/elementwise.c "$B/elementwise_loops.o" \
        $LIBS -o "$B/elementwise" || fail "building bench/elementwise.c"
cc -std=c11 -O2 -D_DEFAULT_SOURCE -Icompiler -Iruntime -I"$BUILD_DIR" bench/jit_start.c $LIBS \
    -o "$B/jit_start" || fail "building bench/jit_start.c"
for N in 100 1000 10000; do
    awk -v n=$N 'BEGIN { print "# a chain of " n " layers (bench/run.sh)"; print "model deep;"; print "input x[16];"
        prev = "x"
        for (i = 1; i < n; i++) {
            if (i % 2) printf "layer l%d = dense(%s, 16);\n", i, prev
            else printf "layer l%d = relu(%s);\n", i, prev
            prev = "l" i
        }
        printf "output y = dense(%s, 4);\nloss mse(y);\n", prev }' > "$B/deep$N.lyr"
done

# the models: KEY NAME MODEL_NAME STEPS BATCH FLOPS TRUTH GOAL (in $B/models), or why not
: > "$B/models"
: > "$B/waiting"
for lyr in $MODELS; do
    key=$(basename "$lyr" .lyr)
    name=$(sed -n 's/^model  *\([A-Za-z_][A-Za-z0-9_]*\) *;.*/\1/p' "$lyr" | head -1)
    if ! "$LAYERC" summary "$lyr" > "$B/$key.summary" 2> "$B/$key.err"; then
        echo "$key|$(head -1 "$B/$key.err" | sed 's/|/\//g')" >> "$B/waiting"
        continue
    fi
    flops=$(awk '/^per sample:/ { print $3 + $6 }' "$B/$key.summary")
    params=$(sed -n 's/^[0-9]* parameters (\([0-9]*\) trainable.*/\1/p' "$B/$key.summary")
    batch=$(sed -n 's/^model .*(batch \([0-9]*\),.*/\1/p' "$B/$key.summary")
    truth=labels
    grep -q '^# bench:.*truth=input' "$lyr" && truth=input
    goal=2   # products-bound: 2x PyTorch; with sigmoid or tanh (issue 20): 1x
    grep -qE '= *(sigmoid|tanh)\(' "$lyr" && goal=1
    if [ $TORCH = 1 ]; then
        twin=$($PY bench/torch_ref.py twin "$lyr" 2>&1 | sed -n 's/^parameters //p')
        [ "$twin" = "$params" ] || fail "$lyr: the PyTorch twin has ${twin:-no} parameters, the model $params"
    fi
    steps=$(awk -v w="$WORK" -v f="$flops" -v b="$batch" 'BEGIN { s = int(w / (f * b)); print (s < 20 ? 20 : (s > 2000 ? 2000 : s)) }')
    "$LAYERC" "$lyr" -o "$B/${key}_1.c" && "$LAYERC" --threads "$T" "$lyr" -o "$B/${key}_T.c" ||
        fail "layerc $lyr -o"
    gcc $AOTFLAGS -DMODEL=$name -DHEADER="\"${key}_1.h\"" -I"$B" bench/train_aot.c "$B/${key}_1.c" -lz -lm \
        -o "$B/aot1_$key" &&
    gcc $AOTFLAGS -pthread -DMODEL=$name -DHEADER="\"${key}_T.h\"" -I"$B" bench/train_aot.c "$B/${key}_T.c" \
        -lz -lm -o "$B/aotT_$key" || fail "building the AOT drivers of $lyr"
    echo "$key $name $steps $batch $flops $truth $goal $lyr" >> "$B/models"
done
[ -s "$B/models" ] || fail "no model to run"
# the int8 MLP for batch-1 latency: weights from one epoch on the test images,
# calibrated on them (the figure is a speed: any trained weights serve)
INT8=0
if grep -q '^fashion_mlp ' "$B/models" && [ -n "$TIMG" ]; then
    "$LAYERC" train samples/fashion_mlp.lyr "$TIMG" --labels "$TLAB" --epochs 1 --threads 1 --quiet \
        --save "$B/mlp_int8.lyw" < /dev/null > /dev/null &&
    "$LAYERC" samples/fashion_mlp.lyr --weights "$B/mlp_int8.lyw" --quantize int8 --calibrate "$TIMG" \
        -o "$B/fashion_mlp_int8.c" &&
    gcc $AOTFLAGS -DMODEL=fashion_mlp -DHEADER='"fashion_mlp_int8.h"' -I"$B" bench/int8_latency.c \
        "$B/fashion_mlp_int8.c" -o "$B/int8_fashion_mlp" && INT8=1
    [ $INT8 = 1 ] || say "the int8 MLP did not build: no int8 latency"
fi
say "models: $(cut -d' ' -f1 "$B/models" | tr '\n' ' ')"

# ---- measurements ----
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)
rec() { echo "$2" >> "$B/res/$1"; }                       # rec KEY VALUE
field() { awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }'; }
now_us() { echo $(($(date +%s%N) / 1000)); }
jit() {   # jit LYR THREADS TRUTH: the second epoch's samples/s of `layerc train`
    if [ "$3" = input ]; then set -- "$1" "$2" --truth input; else set -- "$1" "$2" --labels "$TLAB"; fi
    "$LAYERC" train "$1" "$TIMG" $3 $4 --epochs 2 --quiet --threads "$2" < /dev/null |
        sed -n 's|^epoch 2/2.* \([0-9.]*\) samples/s$|\1|p'
}
for r in $(seq 1 "$REPS"); do
    say "round $r of $REPS (load average $(cut -d' ' -f1 /proc/loadavg 2>/dev/null))"
    while read -r key name steps batch flops truth goal lyr; do
        lab=$LAB
        [ $truth = input ] && lab=input
        rec aot1_$key "$("$B/aot1_$key" train $IMG $lab $steps 1 < /dev/null | field samples_per_s)"
        rec aotT_$key "$("$B/aotT_$key" train $IMG $lab $steps 1 < /dev/null | field samples_per_s)"
        if [ -n "$TIMG" ]; then
            rec jit1_$key "$(jit "$lyr" 1 $truth)"
            rec jitT_$key "$(jit "$lyr" "$T" $truth)"
        fi
        if [ $TORCH = 1 ]; then
            for t in 1 $T; do
                v=$($(torch_env $t) $PY bench/torch_ref.py train "$lyr" $IMG $LAB $steps 1 $t < /dev/null |
                    field samples_per_s)
                [ $t = 1 ] && rec torch1_$key "$v" || rec torchT_$key "$v"
            done
        fi
    done < "$B/models"
    if grep -q '^fashion_mlp ' "$B/models"; then
        rec lat_aot1 "$("$B/aot1_fashion_mlp" latency 20000 | field median)"
        [ $INT8 = 1 ] && rec lat_int8 "$("$B/int8_fashion_mlp" 20000 | field median)"
        [ $TORCH = 1 ] && rec lat_torch1 "$($(torch_env 1) $PY bench/torch_ref.py latency samples/fashion_mlp.lyr 5000 1 | field median)"
    fi
    for N in 100 1000 10000; do
        t0=$(now_us); "$LAYERC" "$B/deep$N.lyr" -o "$B/deep$N.c" || fail "layerc deep$N.lyr"; t1=$(now_us)
        rec compile_$N "$(awk -v a=$t0 -v b=$t1 'BEGIN { printf "%.4f", (b - a) / 1e6 }')"
    done
done
say "kernels (one thread), JIT start-up"
"$B/gemm" > "$B/res/gemm.txt" || fail "bench/gemm.c"
"$B/elementwise" bench/elementwise_loops.c > "$B/res/elementwise.txt" || fail "bench/elementwise.c"
"$B/jit_start" samples/fashion_mlp.lyr 21 > "$B/res/jit_start.txt" || fail "jit_start"
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)

# ---- results: medians, ratios, the previous run ----
med() { [ -s "$B/res/$1" ] && grep -v '^$' "$B/res/$1" | sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
TSV=$B/res/now.tsv
: > "$TSV"
put() { [ -n "$2" ] && printf '%s\t%s\n' "$1" "$2" >> "$TSV"; }   # put KEY VALUE
v() { awk -F'\t' -v k="$1" '$1 == k { print $2; exit }' "${2:-$TSV}"; }
vv() { r=$(v "$1"); echo "${r:--}"; }   # the value, or "-"
# the median over the rounds of A_r / B_r, or of best(A, A2)_r / best(B, B2)_r
rr() {   # rr A B [A2 B2]
    for f in "$@"; do [ -s "$B/res/$f" ] || { echo "-"; return; }; done
    if [ $# = 2 ]; then paste "$B/res/$1" "$B/res/$2"
    else paste "$B/res/$1" "$B/res/$3" "$B/res/$2" "$B/res/$4" |
         awk '{ a = $1 > $2 ? $1 : $2; b = $3 > $4 ? $3 : $4; print a, b }'; fi |
        awk '$1 > 0 && $2 > 0 { print $1 / $2 }' | sort -g |
        awk '{ v[NR] = $1 } END { if (NR) printf "%.2f", v[int((NR + 1) / 2)]; else print "-" }'
}
fmt() { awk -v x="$1" 'BEGIN { if (x == "") print "-"; else printf "%.0f", x }'; }
meets() { awk -v r="$1" -v g="$2" 'BEGIN { if (r == "-" || r == "") print "-"; else print (r + 0 >= g + 0 ? "yes" : "**no**") }'; }
LAST=bench/last.tsv
change() {   # change KEY [lower-is-better]: vs the previous run, in percent
    old=$(v "$1" "$LAST" 2>/dev/null) new=$(v "$1")
    awk -v o="$old" -v n="$new" -v low="${2:-0}" 'BEGIN {
        if (o == "" || n == "" || o + 0 == 0) { print "-"; exit }
        d = (n - o) / o * 100; if (low) d = -d
        printf "%+.0f%%%s", d, d < -10 ? " (worse)" : "" }'
}
while read -r key name steps batch flops truth goal lyr; do
    for c in aot1 aotT jit1 jitT torch1 torchT; do put ${c}_$key "$(med ${c}_$key)"; done
    put serial_$key "$(rr aot1_$key torch1_$key)"
    put best_$key "$(rr aot1_$key torch1_$key aotT_$key torchT_$key)"
    put scale_$key "$(rr aotT_$key aot1_$key)"
    put jitaot_$key "$(rr jit1_$key aot1_$key)"
    put jitaotT_$key "$(rr jitT_$key aotT_$key)"
done < "$B/models"
for k in lat_aot1 lat_int8 lat_torch1 compile_100 compile_1000 compile_10000; do put $k "$(med $k)"; done
set -- $(cat "$B/res/jit_start.txt")
put jit_front_emit_tcc "$(awk -v f="$2" -v e="$4" -v t="$6" 'BEGIN { printf "%.3f", f + e + t }')"
PEAK=$(sed -n 's/^OpenBLAS sgemm .*: \([0-9.]*\) GFLOPS.*/\1/p' "$B/res/gemm.txt")
put sgemm_peak "$PEAK"
gf() { awk -v s="$1" -v f="$2" 'BEGIN { if (s == "") print ""; else printf "%.1f", s * f / 1e9 }'; }   # GFLOPS
pct() { awk -v g="$1" -v p="$2" 'BEGIN { if (g == "" || p == "" || p + 0 == 0) print "-"; else printf "%.0f%%", 100 * g / p }'; }

GIT=$(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD -- runtime compiler 2>/dev/null || echo "+changes")
CPU=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)
CORES=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
VEC=$(grep -qw avx512f /proc/cpuinfo && echo AVX-512 || (grep -qw avx2 /proc/cpuinfo && echo AVX2 || echo SSE))
GCCV=$(gcc -dumpfullversion 2>/dev/null)
KSET=$("$LAYERC" --version | sed -n 2p)
m() { awk -v k="$1" '$1 == k' "$B/models"; }   # the models line of KEY
MLP_F=$(m fashion_mlp | cut -d' ' -f5) CNN_F=$(m fashion_cnn | cut -d' ' -f5)
MLP_G=$(gf "$(v aot1_fashion_mlp)" "$MLP_F")
MLP_P=$(awk -v g="$MLP_G" -v p="$PEAK" 'BEGIN { if (g == "" || p == "") print "-"; else printf "%.2f", g / p }')
S_MLP=$(v scale_fashion_mlp) S_CNN=$(v scale_fashion_cnn)
S_MIN=$(awk -v a="${S_MLP:--}" -v b="${S_CNN:--}" 'BEGIN { if (a == "-" || b == "-") print "-"; else print (a < b ? a : b) }')
J_MIN=$(for k in jitaot_fashion_mlp jitaot_fashion_cnn jitaotT_fashion_mlp jitaotT_fashion_cnn; do v $k; done |
        sort -g | head -1)
LAT_R=$(awk -v a="$(v lat_aot1)" -v b="$(v lat_torch1)" 'BEGIN { if (a == "" || b == "") print "-"; else printf "%.2f", b / a }')
LAT8_R=$(awk -v a="$(v lat_int8)" -v b="$(v lat_torch1)" 'BEGIN { if (a == "" || b == "") print "-"; else printf "%.2f", b / a }')
C1K=$(v compile_1000) C10K=$(v compile_10000)
GROW=$(awk -v a="$C10K" -v b="$C1K" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.1f", a / b }')
# "waiting for ops: KEY, KEY" for those of the models named that layerc cannot compile yet
waiting_for() {
    r=$(for k in $1; do awk -F'|' -v k="$k" '$1 == k { print k }' "$B/waiting"; done | tr '\n' ' ' | sed 's/ $//; s/ /, /g')
    [ -n "$r" ] && echo "not measured: layerc cannot compile $r yet (below)"
}

{
echo "# Performance"
echo
echo "Written by \`make bench\` (bench/run.sh); do not edit by hand.  $(date -u '+%Y-%m-%d %H:%M UTC'), layerc $GIT."
echo
echo "Machine: $CPU, $CORES cores ($VEC), Linux $(uname -r), gcc $GCCV.  layerc's $KSET."
echo "${BLASINFO:-PyTorch not installed}."
echo "Load average at the start: $LOAD0; at the end: $LOAD1 (other jobs on the machine slow every"
echo "contender; each round runs them one after the other).  Data: $DATA.  Figures: medians of $REPS"
echo "rounds; ratios: the median of the rounds' ratios.  To reproduce: \`make bench\` (\`REPS=1 sh bench/run.sh\` for a quick look)."
echo
echo "## The goals of issue 16"
echo
echo "| goal | measured | met |"
echo "|---|---|---|"
echo "| MLP training step, 1 thread, >= 85% of one core's large-sgemm GFLOPS | ${MLP_G:--} GFLOPS of ${PEAK:-?} (OpenBLAS sgemm 2048^3, this run): $(pct "$MLP_G" "$PEAK") | $(meets "$MLP_P" 0.85) |"
echo "| 2 threads vs 1, MLP and CNN (AOT), >= 1.8x | MLP ${S_MLP:--}x, CNN ${S_CNN:--}x | $(meets "$S_MIN" 1.8) |"
echo "| CNN, best vs best, >= 3x PyTorch | $(vv best_fashion_cnn)x | $(meets "$(vv best_fashion_cnn)" 3) |"
rs=$(waiting_for "resnet8 ds_cnn")
if [ -n "$rs" ]; then echo "| ResNet-8 and DS-CNN, best vs best, >= 2x PyTorch | $rs | - |"
else
    rmin=$(printf '%s\n%s\n' "$(v best_resnet8)" "$(v best_ds_cnn)" | sort -g | head -1)
    echo "| ResNet-8 and DS-CNN, best vs best, >= 2x PyTorch | ResNet-8 $(vv best_resnet8)x, DS-CNN $(vv best_ds_cnn)x | $(meets "${rmin:--}" 2) |"
fi
echo "| MLP batch-1 inference, int8, >= 10x faster than PyTorch float | int8 $(vv lat_int8) us vs PyTorch $(vv lat_torch1) us: ${LAT8_R}x (layerc float: $(vv lat_aot1) us, ${LAT_R}x) | $(meets "$LAT8_R" 10) |"
echo "| JIT vs AOT, MLP and CNN, 1 and $T threads, >= 0.9x | the lowest: ${J_MIN:--}x (table below) | $(meets "${J_MIN:--}" 0.9) |"
echo
echo "## The zoo: training, samples/s"
echo
echo "Batch and optimizer of each model's train block.  serial: layerc AOT on 1 thread over PyTorch on 1;"
echo "best: the better of 1 and $T threads of each; GFLOPS: layerc AOT's on 1 thread (FLOPs of \`layerc summary\`),"
echo "and their share of one core's sgemm peak (${PEAK:-?} GFLOPS).  Goal (issue 20): at least PyTorch's speed in"
echo "both ratios, 2x for the models without sigmoid or tanh (products-bound)."
echo
echo "| model | MFLOP a sample | AOT 1 | AOT $T | JIT 1 | JIT $T | PyTorch 1 | PyTorch $T | serial | best | GFLOPS | goal | met | AOT 1 vs previous run |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|"
while read -r key name steps batch flops truth goal lyr; do
    s=$(v serial_$key) b=$(v best_$key)
    lo=$(awk -v a="${s:--}" -v b="${b:--}" 'BEGIN { if (a == "-" || b == "-") print "-"; else print (a < b ? a : b) }')
    g=$(gf "$(v aot1_$key)" "$flops")
    echo "| [$key]($lyr) | $(awk -v f="$flops" 'BEGIN { printf "%.2f", f / 1e6 }') | $(fmt "$(v aot1_$key)") | $(fmt "$(v aotT_$key)") | $(fmt "$(v jit1_$key)") | $(fmt "$(v jitT_$key)") | $(fmt "$(v torch1_$key)") | $(fmt "$(v torchT_$key)") | ${s:--} | ${b:--} | ${g:--} ($(pct "$g" "$PEAK")) | >= ${goal}x | $(meets "$lo" "$goal") | $(change aot1_$key) |"
done < "$B/models"
if [ -s "$B/waiting" ]; then
    echo
    echo "Waiting for ops layerc does not have yet (each file is ready; the bench runs it once layerc compiles it):"
    echo
    while IFS='|' read -r key why; do echo "- [$key](bench/zoo/$key.lyr): $why"; done < "$B/waiting"
fi
echo
echo "JIT / AOT (same thread count): $(while read -r key rest; do printf '%s %s / %s; ' "$key" "$(v jitaot_$key)" "$(v jitaotT_$key)"; done < "$B/models" | sed 's/; $//')."
echo "The JIT and the AOT C call the same compiled kernels (products, convolutions, the elementwise"
echo "ops below); what tcc compiles itself is the glue between them."
echo
echo "## Also measured"
echo
echo "| measure | value | vs previous run |"
echo "|---|---:|---|"
echo "| MLP inference, batch 1, AOT, 1 thread, us | $(v lat_aot1) | $(change lat_aot1 1) |"
echo "| MLP inference, batch 1, int8 AOT, 1 thread, us | $(vv lat_int8) | $(change lat_int8 1) |"
echo "| PyTorch MLP inference, batch 1, 1 thread, us | $(v lat_torch1) | |"
echo "| compile time, 100 / 1,000 / 10,000 layers, s | $(v compile_100) / $C1K / $C10K (10,000 / 1,000: $GROW) | $(change compile_10000 1) |"
echo "| JIT start-up (parse, check, emit, tcc), fashion_mlp, ms | $(v jit_front_emit_tcc) | $(change jit_front_emit_tcc 1) |"
echo
echo "Matrix products and convolutions, one thread (bench/gemm.c):"
echo
echo '```'
cat "$B/res/gemm.txt"
echo '```'
echo
echo "Elementwise kernels (runtime/kernels/: vmath, activation, loss, elementwise) against the loops the"
echo "emitter writes today, compiled by tcc (what the JIT runs) and by gcc -O2 (bench/elementwise.c):"
echo
echo '```'
cat "$B/res/elementwise.txt"
echo '```'
echo
echo "Every round's figures are in $B/res/ after a run; bench/last.tsv keeps this run's medians"
echo "for the next one to compare with.  How layerc gets these numbers, and what limits"
echo "them, is in the notes below."
if [ -f bench/NOTES.md ]; then echo; cat bench/NOTES.md; fi
} > docs/PERFORMANCE.md.tmp
mv docs/PERFORMANCE.md.tmp docs/PERFORMANCE.md

# regressions against the previous run, then this run becomes the previous one
if [ -f "$LAST" ]; then
    for k in $(awk '{ print "aot1_" $1, "aotT_" $1, "jit1_" $1 }' "$B/models"); do
        case "$(change $k)" in *worse*) say "REGRESSION: $k $(change $k) (was $(v $k "$LAST"), now $(v $k))" ;; esac
    done
    for k in lat_aot1 lat_int8 compile_10000 jit_front_emit_tcc; do
        case "$(change $k 1)" in *worse*) say "REGRESSION: $k $(change $k 1) (was $(v $k "$LAST"), now $(v $k))" ;; esac
    done
fi
cp "$TSV" "$LAST"
say "wrote docs/PERFORMANCE.md and bench/last.tsv"
sed -n '/^## The goals/,/^## Also/p' docs/PERFORMANCE.md
