#!/bin/sh
# bench/run.sh (`make bench`): layerc against PyTorch on this machine, side
# by side, and the compiler's own speed.  Writes docs/PERFORMANCE.md and
# bench/last.tsv, after comparing with the bench/last.tsv of the previous
# run (commit it, and a regression shows in the next run).
#
#   sh bench/run.sh                    all of it (~3-5 minutes on 2 cores)
#   REPS=1 sh bench/run.sh             one round instead of 5 (a quick look)
#   THREADS=1 sh bench/run.sh          layerc and PyTorch on one thread
#
# Training: the Fashion-MNIST MLP and CNN of samples/, batch 64, SGD with
# momentum 0.9, on the real data (/usr/share/datasets/fashion-mnist), in
# samples per second; each round runs every contender once, one after the
# other (so that a busy machine slows them alike), and the table gives the
# median of the rounds:
#   - layerc AOT: `layerc --threads T m.lyr -o m.c` built with gcc -O3
#     -march=native -pthread, driven by bench/train_aot.c (copy a shuffled
#     batch, m_train_step) -- and the same with one thread;
#   - layerc JIT: `layerc train --threads T`, the second epoch's samples/s;
#   - PyTorch: bench/torch_ref.py, the same model, data, loop and T threads.
# Inference: one sample through the MLP (latency, microseconds).
# Kernels: bench/gemm.c, GFLOPS on the MLP's products against OpenBLAS
# (when libopenblas-dev is installed), one thread each.
# Compiler: `layerc m.lyr -o m.c` on generated chains of 100, 1,000 and
# 10,000 layers; the JIT's start (parse, check, emit, tcc) for fashion_mlp.
set -u
cd "$(dirname "$0")/.." || exit 1
LAYERC=${LAYERC:-./layerc}
B=${BENCH_DIR:-build/bench}
REPS=${REPS:-5}
CORES=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
T=${THREADS:-$CORES}
PY=/usr/bin/python3
D=/usr/share/datasets/fashion-mnist
MLP_STEPS=${MLP_STEPS:-600}
CNN_STEPS=${CNN_STEPS:-300}
mkdir -p "$B" "$B/res"
rm -f "$B"/res/*
say() { echo "bench: $*" >&2; }
fail() { echo "bench: error: $*" >&2; exit 1; }

[ -x "$LAYERC" ] || fail "$LAYERC is missing (make first)"
command -v gcc >/dev/null 2>&1 || fail "gcc is needed for the AOT builds"

# ---- what the comparison needs: PyTorch, the data set (installed with a message) ----
TORCH=1
sh tests/deps.sh torch || TORCH=0
$PY -c 'import torch' >/dev/null 2>&1 || { TORCH=0; say "PyTorch unavailable: its columns stay empty"; }
sh tests/deps.sh demo || true
if [ -f $D/train-images-idx3-ubyte.gz ]; then
    IMG=$D/train-images-idx3-ubyte.gz LAB=$D/train-labels-idx1-ubyte.gz DATA="Fashion-MNIST (60,000 training images)"
else
    IMG=- LAB=- DATA="random data of Fashion-MNIST's shape (the data set is not installed; no JIT rows)"
    say "no Fashion-MNIST: random data for AOT and PyTorch, no JIT figures"
fi
BLAS=0
if [ -f /usr/include/x86_64-linux-gnu/cblas.h ] || [ -f /usr/include/cblas.h ]; then BLAS=1; fi

# ---- builds ----
say "building the AOT drivers, the kernel benchmark, the JIT start-up timer"
for M in fashion_mlp fashion_cnn; do
    if [ "$T" -gt 1 ]; then "$LAYERC" --threads "$T" samples/$M.lyr -o "$B/$M.c" || fail "layerc $M"
    else "$LAYERC" samples/$M.lyr -o "$B/$M.c" || fail "layerc $M"; fi
    "$LAYERC" samples/$M.lyr -o "$B/${M}_1.c" || fail "layerc $M"
    gcc -O3 -march=native -pthread -DMODEL=$M -DHEADER="\"$M.h\"" -I"$B" bench/train_aot.c \
        "$B/$M.c" -lz -lm -o "$B/aot_$M" || fail "building the AOT driver for $M"
    gcc -O3 -march=native -DMODEL=$M -DHEADER="\"${M}_1.h\"" -I"$B" bench/train_aot.c \
        "$B/${M}_1.c" -lz -lm -o "$B/aot1_$M" || fail "building the 1-thread AOT driver for $M"
done
GEMM_FLAGS="-std=c11 -O3 -march=native -ffp-contract=fast -Iruntime"
if [ $BLAS = 1 ] && gcc $GEMM_FLAGS -DWITH_OPENBLAS -I/usr/include/x86_64-linux-gnu/openblas-pthread \
        bench/gemm.c runtime/kernels.c -lopenblas -lm -o "$B/gemm" 2>/dev/null; then :
else
    BLAS=0
    say "OpenBLAS not found (libopenblas-dev): no OpenBLAS column"
    gcc $GEMM_FLAGS bench/gemm.c runtime/kernels.c -lm -o "$B/gemm" || fail "building bench/gemm.c"
fi
BUILD_DIR=${BUILD:-build}
cc -std=c11 -O2 -D_DEFAULT_SOURCE -Icompiler -Iruntime -I"$BUILD_DIR" bench/jit_start.c \
    "$BUILD_DIR/liblayerc.a" -ltcc -lz -lm -ldl -lpthread -o "$B/jit_start" || fail "building bench/jit_start.c"
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

# ---- measurements ----
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)
rec() { echo "$2" >> "$B/res/$1"; }                       # rec KEY VALUE
field() { awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }'; }
now_us() { echo $(($(date +%s%N) / 1000)); }
for r in $(seq 1 "$REPS"); do
    say "round $r of $REPS (load average $(cut -d' ' -f1 /proc/loadavg 2>/dev/null))"
    for M in mlp cnn; do
        eval steps=\$$(echo $M | tr a-z A-Z)_STEPS
        rec aot_$M "$("$B/aot_fashion_$M" train $IMG $LAB $steps 1 | field samples_per_s)"
        rec aot1_$M "$("$B/aot1_fashion_$M" train $IMG $LAB $steps 1 | field samples_per_s)"
        if [ "$IMG" != - ]; then
            v=$("$LAYERC" train samples/fashion_$M.lyr $IMG --labels $LAB --epochs 2 --quiet --threads "$T" |
                sed -n 's|^epoch 2/2.* \([0-9.]*\) samples/s$|\1|p')
            rec jit_$M "$v"
        fi
        if [ $TORCH = 1 ]; then
            a=$($PY bench/torch_ref.py train $M $IMG $LAB $steps 1 "$T" | field samples_per_s)
            rec torchT_$M "$a"
            b=$a
            [ "$T" -gt 1 ] && b=$($PY bench/torch_ref.py train $M $IMG $LAB $steps 1 1 | field samples_per_s)
            rec torch1_$M "$b"
            # the reference: PyTorch's better figure of the round (T threads, or one
            # when other jobs make its T threads wait for one another)
            rec torch_$M "$(awk -v a="$a" -v b="$b" 'BEGIN { print (a + 0 > b + 0) ? a : b }')"
        fi
    done
    rec lat_aot "$("$B/aot_fashion_mlp" latency 20000 | field median)"
    rec lat_aot1 "$("$B/aot1_fashion_mlp" latency 20000 | field median)"
    if [ $TORCH = 1 ]; then
        rec lat_torch "$($PY bench/torch_ref.py latency mlp 5000 "$T" | field median)"
        rec lat_torch1 "$($PY bench/torch_ref.py latency mlp 5000 1 | field median)"
    fi
    for N in 100 1000 10000; do
        t0=$(now_us); "$LAYERC" "$B/deep$N.lyr" -o "$B/deep$N.c" || fail "layerc deep$N.lyr"; t1=$(now_us)
        rec compile_$N "$(awk -v a=$t0 -v b=$t1 'BEGIN { printf "%.4f", (b - a) / 1e6 }')"
    done
done
say "JIT start-up, kernels (one thread, medians inside)"
"$B/jit_start" samples/fashion_mlp.lyr 21 > "$B/res/jit_start.txt" || fail "jit_start"
"$B/gemm" > "$B/res/gemm.txt" || fail "gemm"
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)

# ---- results: medians, ratios, the previous run ----
med() { [ -s "$B/res/$1" ] && grep -v '^$' "$B/res/$1" | sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
TSV=$B/res/now.tsv
: > "$TSV"
put() { [ -n "$2" ] && printf '%s\t%s\n' "$1" "$2" >> "$TSV"; }   # put KEY VALUE
for k in aot_mlp aot1_mlp jit_mlp torch_mlp torchT_mlp torch1_mlp aot_cnn aot1_cnn jit_cnn torch_cnn \
         torchT_cnn torch1_cnn lat_aot lat_aot1 \
         lat_torch lat_torch1 compile_100 compile_1000 compile_10000; do
    put $k "$(med $k)"
done
set -- $(cat "$B/res/jit_start.txt")
put jit_front_emit_tcc "$(awk -v f="$2" -v e="$4" -v t="$6" 'BEGIN { printf "%.3f", f + e + t }')"
put jit_open_total "${10}"
# gemm: "product  BxCxOC  layerc  naive  [OpenBLAS  ratio%]" rows
awk -v blas=$BLAS '/^(forward|backward)/ {
        n++; printf "gemm%d_layerc\t%s\n", n, $(NF - (blas ? 3 : 1))
        if (blas) printf "gemm%d_blas\t%s\n", n, $(NF - 1) }' "$B/res/gemm.txt" >> "$TSV"
STATE=$("$LAYERC" summary samples/fashion_mlp.lyr 2>/dev/null | grep -i "inference" | head -1)

v() { awk -F'\t' -v k="$1" '$1 == k { print $2; exit }' "${2:-$TSV}"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }
meets() { awk -v r="$1" -v g="$2" 'BEGIN { if (r == "-") print "-"; else print (r + 0 >= g + 0 ? "yes" : "**no**") }'; }
LAST=bench/last.tsv
change() {   # change KEY [lower-is-better]: vs the previous run, in percent
    old=$(v "$1" "$LAST" 2>/dev/null) new=$(v "$1")
    awk -v o="$old" -v n="$new" -v low="${2:-0}" 'BEGIN {
        if (o == "" || n == "" || o + 0 == 0) { print "-"; exit }
        d = (n - o) / o * 100; if (low) d = -d
        printf "%+.0f%%%s", d, d < -10 ? " (worse)" : "" }'
}

GIT=$(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD -- runtime compiler 2>/dev/null || echo "+changes")
CPU=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)
VEC=$(grep -qw avx512f /proc/cpuinfo && echo AVX-512 || (grep -qw avx2 /proc/cpuinfo && echo AVX2 || echo SSE))
GCCV=$(gcc -dumpfullversion 2>/dev/null)
TV=$([ $TORCH = 1 ] && $PY -c 'import torch; print(torch.__version__)' 2>/dev/null)

# ratios: the median over the rounds of each round's ratio (both figures taken
# minutes apart, so a round that another job slowed counts once, not twice)
rr() {   # rr A B [invert]: median of A_r / B_r (or B_r / A_r)
    [ -s "$B/res/$1" ] && [ -s "$B/res/$2" ] || { echo "-"; return; }
    paste "$B/res/$1" "$B/res/$2" | awk -v inv="${3:-0}" '$1 > 0 && $2 > 0 { print inv ? $2 / $1 : $1 / $2 }' |
        sort -g | awk '{ v[NR] = $1 } END { if (NR) printf "%.2f", v[int((NR + 1) / 2)]; else print "-" }'
}
R_MLP=$(rr aot_mlp torchT_mlp) R_CNN=$(rr aot_cnn torchT_cnn)
B_MLP=$(rr aot_mlp torch_mlp) B_CNN=$(rr aot_cnn torch_cnn)
J_MLP=$(rr jit_mlp aot_mlp) J_CNN=$(rr jit_cnn aot_cnn)
put ratio_mlp "$R_MLP"; put ratio_cnn "$R_CNN"; put ratio_best_mlp "$B_MLP"; put ratio_best_cnn "$B_CNN"
put ratio_jit_mlp "$J_MLP"; put ratio_jit_cnn "$J_CNN"
TL=$(awk -v a="$(v lat_torch)" -v b="$(v lat_torch1)" 'BEGIN { if (a == "") print b; else if (b == "" || a + 0 < b + 0) print a; else print b }')
# latency: PyTorch's better thread count of each round over layerc's
paste "$B/res/lat_torch" "$B/res/lat_torch1" 2>/dev/null | awk '{ print ($1 + 0 < $2 + 0) ? $1 : $2 }' > "$B/res/lat_torchbest"
R_LAT=$(rr lat_aot lat_torchbest 1)
put ratio_lat "$R_LAT"
C100=$(v compile_100) C1K=$(v compile_1000) C10K=$(v compile_10000)
GROW=$(ratio "$C10K" "$C1K")
JS=$(v jit_front_emit_tcc)
GEMM_MIN=$(awk -F'\t' '/^gemm[0-9]+_layerc/ { sub("gemm", "", $1); sub("_layerc", "", $1); l[$1] = $2 }
                       /^gemm[0-9]+_blas/ { sub("gemm", "", $1); sub("_blas", "", $1); b[$1] = $2 }
                       END { m = ""; for (i in b) if (b[i] > 0) { r = l[i] / b[i]; if (m == "" || r < m) m = r }
                             if (m != "") printf "%.2f", m }' "$TSV")
GEMM_ALL=$(awk -F'\t' 'BEGIN { split("25690112 25690112 25690112 4194304 4194304 4194304 163840 163840 163840", f, " ") }
                       /^gemm[0-9]+_layerc/ { sub("gemm", "", $1); sub("_layerc", "", $1); l[$1] = $2 }
                       /^gemm[0-9]+_blas/ { sub("gemm", "", $1); sub("_blas", "", $1); b[$1] = $2 }
                       END { for (i in b) if (b[i] > 0 && l[i] > 0) { tl += f[i] / l[i]; tb += f[i] / b[i] }
                             if (tl > 0) printf "%.2f", tb / tl }' "$TSV")

{
echo "# Performance"
echo
echo "Written by \`make bench\` (bench/run.sh); do not edit by hand.  $(date -u '+%Y-%m-%d %H:%M UTC'), layerc $GIT."
echo
echo "Machine: $CPU, $CORES cores ($VEC), gcc $GCCV, PyTorch ${TV:-not installed}; layerc and PyTorch"
echo "on $T thread(s).  Load average at the start: $LOAD0; at the end: $LOAD1 (other jobs on the"
echo "machine slow every contender; each round runs them one after the other).  Data: $DATA."
echo "PyTorch runs on $T threads as in the issue; its better figure of each round on $T threads or on"
echo "one is given too (on this machine PyTorch trains the MLP ~4x faster on one thread than on two:"
echo "the goals' ratios against that figure are the stricter ones).  Figures: medians of $REPS rounds;"
echo "ratios: the median of the $REPS rounds' ratios.  To reproduce: \`make bench\` (or \`REPS=1 sh bench/run.sh\` for a quick look)."
echo
echo "| measure | layerc | reference | ratio | goal | met | vs previous run |"
echo "|---|---:|---:|---:|---|---|---|"
echo "| MLP training, AOT, samples/s | $(v aot_mlp) | PyTorch ($T threads) $(v torchT_mlp) | $R_MLP | >= 3x PyTorch | $(meets "$R_MLP" 3) | $(change aot_mlp) |"
echo "| the same, against PyTorch's best (1 or $T threads) | | $(v torch_mlp) | $B_MLP | >= 3x | $(meets "$B_MLP" 3) | |"
echo "| CNN training, AOT, samples/s | $(v aot_cnn) | PyTorch ($T threads) $(v torchT_cnn) | $R_CNN | >= 2x PyTorch | $(meets "$R_CNN" 2) | $(change aot_cnn) |"
echo "| the same, against PyTorch's best (1 or $T threads) | | $(v torch_cnn) | $B_CNN | >= 2x | $(meets "$B_CNN" 2) | |"
echo "| MLP training, JIT, samples/s | $(v jit_mlp) | AOT $(v aot_mlp) | $J_MLP | >= 0.8x AOT | $(meets "$J_MLP" 0.8) | $(change jit_mlp) |"
echo "| CNN training, JIT, samples/s | $(v jit_cnn) | AOT $(v aot_cnn) | $J_CNN | >= 0.8x AOT | $(meets "$J_CNN" 0.8) | $(change jit_cnn) |"
echo "| MLP inference, batch 1, latency, us | $(v lat_aot) | PyTorch $TL | $R_LAT | >= 10x faster | $(meets "$R_LAT" 10) | $(change lat_aot 1) |"
echo "| matrix products on the MLP's shapes, GFLOPS vs OpenBLAS sgemm (all 9, weighted by flops) | | | $GEMM_ALL | >= 0.5 | $(meets "$GEMM_ALL" 0.5) | |"
echo "| the same, the worst of the 9 products | | | $GEMM_MIN | >= 0.5 | $(meets "$GEMM_MIN" 0.5) | |"
echo "| compile time, 100 / 1,000 / 10,000 layers, s | $C100 / $C1K / $C10K | | 10,000 / 1,000: $GROW | linear (~10); 1,000 < 0.5 s | $(awk -v g="$GROW" -v c="$C1K" 'BEGIN { print (g != "-" && g + 0 <= 15 && c + 0 < 0.5) ? "yes" : "**no**" }') | $(change compile_10000 1) |"
echo "| JIT start-up (parse, check, emit, tcc), fashion_mlp, ms | $JS | | | < 50 ms | $(awk -v j="$JS" 'BEGIN { print (j != "" && j + 0 < 50) ? "yes" : "**no**" }') | $(change jit_front_emit_tcc 1) |"
echo
echo "Also measured (information):"
echo
echo "| measure | value | vs previous run |"
echo "|---|---:|---|"
echo "| MLP training, AOT, 1 thread, samples/s | $(v aot1_mlp) | $(change aot1_mlp) |"
echo "| CNN training, AOT, 1 thread, samples/s | $(v aot1_cnn) | $(change aot1_cnn) |"
echo "| MLP inference, batch 1, AOT, 1 thread, us | $(v lat_aot1) | $(change lat_aot1 1) |"
echo "| PyTorch MLP training, $T threads / 1 thread, samples/s | $(v torchT_mlp) / $(v torch1_mlp) | |"
echo "| PyTorch CNN training, $T threads / 1 thread, samples/s | $(v torchT_cnn) / $(v torch1_cnn) | |"
echo "| PyTorch MLP inference, batch 1, $T threads / 1 thread, us | $(v lat_torch) / $(v lat_torch1) | |"
echo "| JIT: run_model_open (emit, tcc, symbols, state, initialisation) + front end, ms | $(v jit_open_total) | |"
echo "| inference state of fashion_mlp (\`layerc summary\`) | ${STATE:-see layerc summary} | |"
echo
echo "Kernels, one thread (bench/gemm.c):"
echo
echo '```'
cat "$B/res/gemm.txt"
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
    for k in aot_mlp aot_cnn jit_mlp jit_cnn aot1_mlp aot1_cnn; do
        case "$(change $k)" in *worse*) say "REGRESSION: $k $(change $k) (was $(v $k "$LAST"), now $(v $k))" ;; esac
    done
    for k in lat_aot compile_10000 jit_front_emit_tcc; do
        case "$(change $k 1)" in *worse*) say "REGRESSION: $k $(change $k 1) (was $(v $k "$LAST"), now $(v $k))" ;; esac
    done
fi
cp "$TSV" "$LAST"
say "wrote docs/PERFORMANCE.md and bench/last.tsv"
sed -n '/^| measure | layerc/,/^$/p' docs/PERFORMANCE.md
