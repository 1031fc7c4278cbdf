#!/bin/sh
# Train through the JIT, save the weights, bake them into C (--weights), and
# the AOT program predicts what `layerc predict` prints (classes exactly,
# values within 1e-5 relative: the JIT's kernels and gcc round alike but
# may contract a*b+c into one FMA and sum in another order; outputs near 0
# are sums of terms near 1, hence the absolute floor of 1e-7).
. "$(dirname "$0")/lib.sh"
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
finish "round trip"
