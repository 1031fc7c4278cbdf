#!/bin/sh
# The generated C of every sample (training and --inference) builds with
# gcc -std=c99 -Wall -Wextra -pedantic -Werror, with clang and with tcc;
# two different models link into one program.
. "$(dirname "$0")/lib.sh"
compilers="gcc clang tcc"
for m in samples/*.lyr; do
    name=$(basename "$m" .lyr)
    for mode in train inference; do
        flag=""; [ $mode = inference ] && flag=--inference
        "$LAYERC" "$m" $flag -o "$tmp/$name.c" 2>/dev/null
        result $? "layerc $m $flag"
        for cc in $compilers; do
            command -v $cc >/dev/null || { bad "$cc is not installed (sh tests/deps.sh test)"; continue; }
            case $cc in
            tcc) flags="-Wall -Werror" ;;
            *) flags="-std=c99 -Wall -Wextra -pedantic -Werror -O1" ;;
            esac
            $cc $flags -c "$tmp/$name.c" -o "$tmp/$name.o" 2> "$tmp/err"
            result $? "$cc $flags $m $flag: $(head -5 "$tmp/err")"
        done
    done
done
# Every convolution and pooling kernel: the C builds the same way, and each
# layer calls its kernel -- the square forms keep their first calls
# (lc_conv2d_*, lc_maxpool_*), so the C of models that use only them does not
# change; a depthwise layer gets its own kernel; the rest the general ones.
cat > "$tmp/zoo.lyr" <<'EOF'
model zoo;
input x[4, 10, 9];
layer sq = conv2d(x, 4, kernel=3, pad=1);
layer s1 = conv2d(sq, 4, kernel=3, pad=same);
layer dw = conv2d(s1, 8, kernel=3, stride=2, pad=same, groups=4);
layer gr = conv2d(dw, 4, kernel=[1, 2], groups=2, dilation=[1, 2]);
layer mp = maxpool(sq, 2);
layer rp = avgpool(sq, size=[3, 2], stride=[2, 1]);
layer q  = reshape(gr, [4, 15]);
layer c1 = conv1d(q, 4, kernel=3, pad=same, groups=4);
layer p1 = maxpool1d(c1, 2);
layer ga = global_avgpool(mp);
layer gm = global_maxpool(p1);
layer k  = concat(ga, gm, rp);
output y = dense(k, 2);
loss mse(y);
EOF
for mode in train inference; do
    flag=""; [ $mode = inference ] && flag=--inference
    "$LAYERC" "$tmp/zoo.lyr" $flag -o "$tmp/zoo.c" 2> "$tmp/err"
    result $? "layerc zoo.lyr $flag: $(head -3 "$tmp/err")"
    for cc in $compilers; do
        command -v $cc >/dev/null || continue
        case $cc in
        tcc) flags="-Wall -Werror" ;;
        *) flags="-std=c99 -Wall -Wextra -pedantic -Werror -O1" ;;
        esac
        $cc $flags -c "$tmp/zoo.c" -o "$tmp/zoo.o" 2> "$tmp/err"
        result $? "$cc $flags zoo.lyr $flag: $(head -5 "$tmp/err")"
    done
done
"$LAYERC" "$tmp/zoo.lyr" -o "$tmp/zoo.c"
calls() {   # the kernels called in the block of layer $1 (forward and backward)
    awk -v l="layer $1 = " 'index($0, "/* ") && index($0, l) { on = 1; next } /^    \/\* / { on = 0 }
        on && match($0, /lc_[a-z0-9_]+\(/) { print substr($0, RSTART, RLENGTH - 1) }' "$tmp/zoo.c" | sort -u | tr '\n' ' '
}
for want in "sq lc_conv2d_backward_into lc_conv2d_forward" "s1 lc_conv2d_backward_into lc_conv2d_forward" \
            "dw lc_dwconv_backward_into lc_dwconv_forward" "gr lc_conv_backward_into lc_conv_forward" \
            "c1 lc_dwconv_backward_into lc_dwconv_forward" "mp lc_maxpool_backward_into lc_maxpool_forward" \
            "rp lc_avgpool_rect_backward_into lc_avgpool_rect_forward" \
            "p1 lc_maxpool_rect_backward_into lc_maxpool_rect_forward" \
            "ga lc_global_avgpool_backward_into lc_global_avgpool_forward" \
            "gm lc_global_maxpool_backward_into lc_global_maxpool_forward"; do
    layer=${want%% *}
    got=$(calls $layer)
    [ "$got" = "${want#* } " ]
    result $? "zoo.lyr: layer $layer calls ${want#* } (got: $got)"
done
"$LAYERC" samples/shape.lyr -o "$tmp/shape.c" && "$LAYERC" samples/xor.lyr -o "$tmp/xor.c" &&
gcc -std=c99 -Wall -Wextra -pedantic -Werror -I"$tmp" tests/c/two_models.c "$tmp/shape.c" "$tmp/xor.c" -lm -o "$tmp/two" &&
"$tmp/two" > /dev/null
result $? "two models link into one program"
finish "generated C builds"
