#!/bin/sh
# The MLPerf Tiny samples (samples/resnet8.lyr, dscnn.lyr,
# mobilenet_v1_025.lyr, autoencoder.lyr) on a few Fashion-MNIST images:
#   - each one's C, the training build and the --inference build, compiles
#     with gcc -Wall -Wextra -Werror;
#   - each one trains (256 images, 3 epochs): the training loss of the last
#     epoch is below the first's;
#   - its weights (batchnorm buffers included) round-trip: eval of the saved
#     file gives the trained model's test loss;
#   - its baked --inference C, every batchnorm folded into the conv or dense
#     before it (depthwise convs, strided pad=same convs and the residual
#     adds of ResNet-8 included), predicts what `layerc predict` prints, and
#     holds no batchnorm code.
# `layerc check` on them is tests/t_gradcheck.sh's (every samples/*.lyr);
# the full trainings are benchmarks, in docs/TRAINING.md.
. "$(dirname "$0")/lib.sh"
D=/usr/share/datasets/fashion-mnist
if [ ! -f $D/train-images-idx3-ubyte.gz ]; then
    echo "samples: 0 passed, 1 failed (dataset-fashion-mnist is not installed)"
    exit 1
fi
# subset FILE.gz N OUT: the first N records of an IDX file, with its count rewritten
subset() {
    case "$1" in
    *images*) { printf '\000\000\010\003\000\000\000'; printf "\\$(printf %o "$2")"
                printf '\000\000\000\034\000\000\000\034'
                gzip -dc "$1" | tail -c +17 | head -c $(($2 * 784)); } > "$3" ;;
    *) { printf '\000\000\010\001\000\000\000'; printf "\\$(printf %o "$2")"
         gzip -dc "$1" | tail -c +9 | head -c "$2"; } > "$3" ;;
    esac
}
subset $D/train-images-idx3-ubyte.gz 255 "$tmp/train-images"
subset $D/train-labels-idx1-ubyte.gz 255 "$tmp/train-labels"
subset $D/t10k-images-idx3-ubyte.gz 40 "$tmp/test-images"
subset $D/t10k-labels-idx1-ubyte.gz 40 "$tmp/test-labels"
# the test images as CSV rows (pixels / 255, then the label) for predict_main
od -An -v -tu1 -w784 -j16 "$tmp/test-images" > "$tmp/pixels"
od -An -v -tu1 -w1 -j8 "$tmp/test-labels" | paste -d' ' "$tmp/pixels" - |
    awk '{ for (i = 1; i < NF; i++) printf "%.9g,", $i / 255; print $NF }' > "$tmp/test.csv"
sed 's/,[0-9]*$//' "$tmp/test.csv" > "$tmp/test-inputs.csv"   # the autoencoder's

# close_rows A B [class]: files of comma-separated outputs agree within 1e-4
# relative to the largest of each row (a folded net of 20 layers rounds
# differently from the unfolded one); with "class", the largest output of
# every row (the class) is the same one
close_rows() {
    paste -d'|' "$1" "$2" | awk -F'|' -v class="$3" '{
        n = split($1, a, ","); m = split($2, b, ",");
        if (n != m) bad = 1;
        s = 0; ia = ib = 1;
        for (i = 1; i <= n; i++) {
            v = a[i] < 0 ? -a[i] : a[i]; if (v > s) s = v
            if (a[i] > a[ia]) ia = i; if (b[i] > b[ib]) ib = i
        }
        if (class && ia != ib) { bad = 1; print "row " NR ": class " ia - 1 " vs " ib - 1 > "/dev/stderr" }
        for (i = 1; i <= n; i++) {
            d = a[i] - b[i]; if (d < 0) d = -d;
            if (d > 1e-4 * s) { bad = 1; print "differ: " a[i] " " b[i] " (row scale " s ")" > "/dev/stderr" }
        }
     } END { exit bad || NR == 0 }'
}

CFLAGS="-std=c99 -O1 -Wall -Wextra -pedantic -Werror"
for m in resnet8 dscnn mobilenet_v1_025 autoencoder; do
    lyr=samples/$m.lyr
    if [ $m = autoencoder ]; then truth="--truth input"; labels=""; tlabels=""
        csv=$tmp/test-inputs.csv class=""
    else truth=""; labels="--labels $tmp/train-labels"; tlabels="--test-labels $tmp/test-labels"
        csv=$tmp/test.csv class=class; fi

    # 1. the C compiles, warning-free
    "$LAYERC" "$lyr" -o "$tmp/$m.c" && gcc $CFLAGS -c "$tmp/$m.c" -o "$tmp/$m.o" 2> "$tmp/gcc.out"
    result $? "$m: the training C compiles with $CFLAGS: $(head -5 "$tmp/gcc.out")"
    "$LAYERC" "$lyr" --inference -o "$tmp/${m}_inf.c" &&
        gcc $CFLAGS -c "$tmp/${m}_inf.c" -o "$tmp/${m}_inf.o" 2> "$tmp/gcc.out"
    result $? "$m: the --inference C compiles with $CFLAGS: $(head -5 "$tmp/gcc.out")"

    # 2. it trains: the loss goes down
    # shellcheck disable=SC2086
    "$LAYERC" train "$lyr" "$tmp/train-images" $labels $truth --test "$tmp/test-images" $tlabels \
        --epochs 3 --log "$tmp/$m.csv" --save "$tmp/$m.lyw" --quiet > "$tmp/$m.out" 2>&1
    result $? "$m: trains on 255 images: $(tail -3 "$tmp/$m.out")"
    awk -F, 'NR == 2 { first = $2 } NR > 1 { last = $2 } END { exit !(NR == 4 && last < first) }' "$tmp/$m.csv"
    result $? "$m: the training loss of epoch 3 is below epoch 1's: $(cut -d, -f1-2 "$tmp/$m.csv" | tr '\n' ' ')"

    # 3. the weights round-trip: eval of the saved file is the model in memory
    # shellcheck disable=SC2086
    "$LAYERC" eval "$lyr" "$tmp/test-images" $(echo $tlabels | sed 's/--test-labels/--labels/') $truth \
        --weights "$tmp/$m.lyw" > "$tmp/$m.eval" 2>&1
    tl=$(sed -n 's/.*test loss \([0-9.]*\).*/\1/p' "$tmp/$m.out" | tail -1)
    el=$(sed -n 's/^loss \([0-9.]*\).*/\1/p' "$tmp/$m.eval")
    [ -n "$tl" ] && [ -n "$el" ] && [ "$(printf '%.4f' "$el")" = "$tl" ]
    result $? "$m: eval of the saved weights gives the trained model's test loss: $tl vs $el"

    # 4. the baked --inference C, batchnorms folded, predicts what layerc predict prints
    "$LAYERC" "$lyr" --weights "$tmp/$m.lyw" --inference -o "$tmp/${m}_baked.c" &&
        gcc $CFLAGS -DMODEL=$m -include "$tmp/${m}_baked.h" tests/c/predict_main.c "$tmp/${m}_baked.c" \
            -lm -o "$tmp/${m}_baked" 2> "$tmp/gcc.out"
    result $? "$m: the baked --inference C builds: $(head -5 "$tmp/gcc.out")"
    ! grep -qi 'batchnorm\|gamma\|beta\|\.mean\|\.var' "$tmp/${m}_baked.c" "$tmp/${m}_baked.h"
    result $? "$m: every batchnorm folded, none left in the C: $(grep -i 'batchnorm\|gamma' "$tmp/${m}_baked.c" | head -3)"
    "$LAYERC" predict "$lyr" "$csv" --weights "$tmp/$m.lyw" > "$tmp/$m.jit" 2> "$tmp/$m.err" &&
        "$tmp/${m}_baked" "$csv" > "$tmp/$m.aot" && close_rows "$tmp/$m.jit" "$tmp/$m.aot" $class 2>> "$tmp/$m.err" &&
        [ "$(wc -l < "$tmp/$m.aot")" = 40 ]
    result $? "$m: the baked C predicts what layerc predict prints on 40 images: $(head -3 "$tmp/$m.err")"
done

finish "samples"
