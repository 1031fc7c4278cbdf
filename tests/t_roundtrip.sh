#!/bin/sh
# Train through the JIT, save the weights, bake them into C (--weights), and
# the AOT program predicts what `layerc predict` prints (classes exactly,
# values within 1e-5 relative: the JIT's kernels and gcc round alike but
# may contract a*b+c into one FMA and sum in another order; outputs near 0
# are sums of terms near 1, hence the absolute floor of 1e-7).
LAYERC=${LAYERC:-./layerc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
result() { if [ "$1" = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $2"; fi; }
same_numbers() {   # two files of comma-separated numbers agree within 1e-5 relative
    paste -d'|' "$1" "$2" | awk -F'|' '{
        n = split($1, a, ","); m = split($2, b, ",");
        if (n != m) bad = 1;
        for (i = 1; i <= n; i++) {
            d = a[i] - b[i]; if (d < 0) d = -d;
            s = a[i] < 0 ? -a[i] : a[i]; if (s < 1e-2) s = 1e-2;
            if (d > 1e-5 * s) { bad = 1; print "differ: " a[i] " " b[i] > "/dev/stderr" }
        }
     } END { exit bad || NR == 0 }'
}
for case in xor:samples/xor.csv sine:samples/sine.csv; do
    name=${case%%:*} data=${case#*:}
    "$LAYERC" train samples/$name.lyr "$data" --epochs 20 --quiet --save "$tmp/$name.lyw" > /dev/null
    result $? "$name: train and save"
    "$LAYERC" predict samples/$name.lyr "$data" --weights "$tmp/$name.lyw" > "$tmp/$name.jit"
    result $? "$name: layerc predict"
    for mode in train inference; do
        flag=""; [ $mode = inference ] && flag=--inference
        mkdir -p "$tmp/$mode"
        "$LAYERC" samples/$name.lyr --weights "$tmp/$name.lyw" $flag -o "$tmp/$mode/$name.c" &&
        cc -std=c99 -O2 -DMODEL=$name -include "$tmp/$mode/$name.h" tests/c/predict_main.c \
            "$tmp/$mode/$name.c" -lm -o "$tmp/$mode/$name"
        result $? "$name ($mode): build the AOT program with baked weights"
        "$tmp/$mode/$name" "$data" > "$tmp/$name.$mode.aot"
        same_numbers "$tmp/$name.jit" "$tmp/$name.$mode.aot"
        result $? "$name ($mode): AOT predictions equal layerc predict"
    done
done
# untrained weights are not what was saved: the comparison above can fail
"$LAYERC" predict samples/xor.lyr samples/xor.csv > "$tmp/untrained"
! same_numbers "$tmp/untrained" "$tmp/xor.jit" 2>/dev/null
result $? "predictions with and without the trained weights differ"
echo "round trip: $pass passed, $fail failed"
[ $fail -eq 0 ]
