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
# The C compiles as C++ too (a C++ firmware project may build it as such):
# the header's extern "C", and nothing C-only in the kernels.
cxx=$(command -v g++ || true)
[ -n "$cxx" ] || bad "g++ is not installed (sh tests/deps.sh test)"
for m in samples/fashion_cnn.lyr samples/dscnn.lyr samples/fashion_mlp.lyr; do
    name=$(basename "$m" .lyr)
    "$LAYERC" "$m" -o "$tmp/cxx_$name.c" 2>/dev/null
    $cxx -x c++ -Wall -Wextra -Werror -c "$tmp/cxx_$name.c" -o "$tmp/cxx_$name.o" 2> "$tmp/err"
    result $? "$cxx -x c++ $m: $(head -5 "$tmp/err")"
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

# --fuse-update: the step of each weight in the backward pass, no grads[];
# trained from the same weights on the same batches as the plain build, the
# weights agree after every step (sgd with momentum, adam, rmsprop centered
# with momentum and adadelta, with layer decays, a frozen weight between
# trainable ones, conv and dense)
cat > "$tmp/decays.lyr" <<'EOF'
model dm;
input x[1, 6, 6];
frozen weight F[3, 4];
layer c = conv2d(x, 3, kernel=3, decay=0.1);
layer r = relu(c);
layer h = dense(r, 4, decay=0.05);
layer t = tanh(h);
layer g = linear(t, F);
layer z = dense(g, 3);
output p = softmax(z);
loss cross_entropy(p);
train { optimizer = sgd(lr=0.1, momentum=0.9, weight_decay=0.01); batch = 5; }
EOF
sed 's/sgd(lr=0.1, momentum=0.9, weight_decay=0.01)/adam(lr=0.01, weight_decay=0.01)/' "$tmp/decays.lyr" > "$tmp/decays_adam.lyr"
sed 's/sgd(lr=0.1, momentum=0.9, weight_decay=0.01)/rmsprop(lr=0.01, momentum=0.9, centered=1, weight_decay=0.01)/' \
    "$tmp/decays.lyr" > "$tmp/decays_rmsprop.lyr"
sed 's/sgd(lr=0.1, momentum=0.9, weight_decay=0.01)/adadelta(weight_decay=0.01)/' "$tmp/decays.lyr" > "$tmp/decays_adadelta.lyr"
fused() {   # fused MODEL ONE_HOT [LAYERC FLAGS]
    m=$1 onehot=$2; shift 2
    d="$tmp/fused"; rm -rf "$d"; mkdir -p "$d"
    "$LAYERC" "$m" "$@" --prefix p -o "$d/p.c" -H "$d/p.h" &&
    "$LAYERC" "$m" "$@" --prefix f --fuse-update -o "$d/f.c" -H "$d/f.h" &&
    ! grep -q 'float grads\[' "$d/f.h" &&
    cc -std=c99 -Wall -Wextra -pedantic -Werror -DP_ONE_HOT=$onehot -I"$d" tests/c/fused_check.c \
        "$d/p.c" "$d/f.c" -lm -o "$d/check" && "$d/check" > "$d/out"
    result $? "--fuse-update $m $*: the weights of the plain build: $(cat "$d/out" 2>/dev/null)"
}
fused samples/xor.lyr 0
fused samples/sine.lyr 0
fused samples/fashion_cnn.lyr 1
fused "$tmp/decays.lyr" 1
fused "$tmp/decays_adam.lyr" 1
fused "$tmp/decays_rmsprop.lyr" 1
fused "$tmp/decays_adadelta.lyr" 1
fused samples/fashion_mlp.lyr 1 --target mcu
# --target mcu: the small-core kernels (gemm_mcu.c, conv_mcu.c: the direct
# convolution, every geometry, depthwise too) give the host's outputs and
# gradients, with no scratch
cat > "$tmp/convs.lyr" <<'EOF'
model convs;
input x[3, 11, 9];
layer a = conv2d(x, 4, kernel=[3, 2], stride=[2, 1], pad=[1, 0], dilation=[1, 2]);
layer b = conv2d(a, 6, kernel=3, pad=same, groups=2, stride=2);
layer w = conv2d(b, 12, kernel=3, pad=1, groups=6);
layer c = relu(w);
layer d = conv2d(c, 5, kernel=1);
layer e = reshape(d, [5, 12]);
layer g = conv1d(e, 3, kernel=3, stride=2, pad=1, dilation=2);
layer f = flatten(g);
layer z = dense(f, 4);
output p = softmax(z);
loss cross_entropy(p);
train { optimizer = sgd(lr=0.1, momentum=0.9); batch = 3; }
EOF
cat > "$tmp/norms.lyr" <<'EOF'
model norms;
input x[3, 6, 6];
layer a = conv2d(x, 4, kernel=3, pad=1);
layer b = batchnorm(a);
layer r = relu(b);
layer f = flatten(r);
layer h = dense(f, 8);
layer n = layernorm(h);
layer z = dense(n, 3);
output p = softmax(z);
loss cross_entropy(p);
train { optimizer = sgd(lr=0.1); batch = 4; }
EOF
for m in samples/fashion_cnn.lyr "$tmp/convs.lyr" "$tmp/norms.lyr" samples/fashion_mlp.lyr; do
    d="$tmp/target"; rm -rf "$d"; mkdir -p "$d"
    "$LAYERC" "$m" --prefix h -o "$d/h.c" -H "$d/h.h" &&
    "$LAYERC" "$m" --prefix s --target mcu -o "$d/s.c" -H "$d/s.h" &&
    ! grep -q 'work\[' "$d/s.h" &&
    cc -std=c99 -Wall -Wextra -pedantic -Werror -I"$d" tests/c/target_check.c "$d/h.c" "$d/s.c" \
        -lm -o "$d/check" && "$d/check" > "$d/out"
    result $? "--target mcu $m: no scratch, the host's outputs and gradients: $(cat "$d/out" 2>/dev/null)"
done
# firmware builds (--target mcu): the whole C, kernels included, is free of
# the warnings firmware projects turn on, on a 64-bit host as on the M4
# (tests/t_mcu.sh), training and inference
for m in samples/*.lyr "$tmp/convs.lyr" "$tmp/norms.lyr"; do
    for flag in "" --inference; do
        "$LAYERC" "$m" $flag --target mcu -o "$tmp/fw.c" 2> "$tmp/err"
        for cc in gcc clang; do
            command -v $cc >/dev/null || continue
            $cc -std=c99 -O2 -Wall -Wextra -pedantic -Wdouble-promotion -Wshadow -Wsign-conversion -Werror \
                -c "$tmp/fw.c" -o "$tmp/fw.o" 2>> "$tmp/err"
            result $? "$cc -Wdouble-promotion -Wshadow -Wsign-conversion -Werror: $m $flag --target mcu: $(grep -m3 'error' "$tmp/err")"
        done
    done
done
# layerc summary states the RAM (sizeof NAME_t), the flash (the baked
# weights' static const arrays) and the scratch of a build, given the
# compile's options: checked against the compiled C and its object file's
# sections (gcc -fdata-sections gives each array its own .rodata.NAME)
awk 'BEGIN { srand(3); for (r = 0; r < 8; r++) { s = ""; for (i = 0; i < 784; i++) s = s sprintf("%.3f,", rand()); print s (r % 10) } }' > "$tmp/tiny.csv"
"$LAYERC" train samples/fashion_cnn.lyr "$tmp/tiny.csv" --epochs 1 --quiet --save "$tmp/cnn.lyw" > /dev/null
result $? "fashion_cnn: weights to bake (one epoch on 8 random images)"
summary_is_exact() {   # summary_is_exact MODEL [LAYERC FLAGS]
    m=$1; shift
    d="$tmp/summary"; rm -rf "$d"; mkdir -p "$d"
    "$LAYERC" summary "$m" "$@" --prefix q > "$d/summary" &&
    "$LAYERC" "$m" "$@" --prefix q -o "$d/q.c" &&
    gcc -std=c99 -Os -ffunction-sections -fdata-sections -c "$d/q.c" -o "$d/q.o" &&
    work=$(grep -c '[^g]work\[' "$d/q.h" || :) gwork=$(grep -c 'gwork\[' "$d/q.h" || :) &&
    printf '#include <stdio.h>\n#include "q.h"\nstatic q_t m;\nint main(void) { printf("%%lu %%lu\\n", (unsigned long)sizeof m,\n    (unsigned long)(0%s%s)); return 0; }\n' \
        "$([ "$work" = 0 ] || echo ' + sizeof m.work')" "$([ "$gwork" = 0 ] || echo ' + sizeof m.gwork')" > "$d/sizes.c" &&
    gcc -std=c99 -I"$d" "$d/sizes.c" -o "$d/sizes" && "$d/sizes" > "$d/sizes.out" || return 1
    ram=$(awk '$1 == "RAM" { print $2 }' "$d/summary") flash=$(awk '$1 == "flash" { print $2 }' "$d/summary")
    scratch=$(awk '$1 == "scratch" { print $2 }' "$d/summary")
    const=$(size -A "$d/q.o" | awk '$1 ~ /^\.rodata\..*_values$/ { t += $2 } END { print t + 0 }')
    defined=$(sed -n 's/^#define q_STATE_BYTES \([0-9]*\).*/\1/p' "$d/q.h")
    echo "summary: RAM $ram, flash $flash, scratch $scratch; C: sizeof $(cut -d' ' -f1 "$d/sizes.out")," \
         "STATE_BYTES $defined, .rodata.*_values $const, scratch $(cut -d' ' -f2 "$d/sizes.out")"
    [ -n "$ram" ] && [ "$ram $scratch" = "$(cat "$d/sizes.out")" ] && [ "$ram" = "$defined" ] && [ "$flash" = "$const" ]
}
for build in "samples/fashion_cnn.lyr --inference --target mcu --weights $tmp/cnn.lyw" \
             "samples/fashion_cnn.lyr --inference --weights $tmp/cnn.lyw --batch 3" \
             "samples/fashion_cnn_finetune.lyr --batch 1 --target mcu --fuse-update --weights $tmp/cnn.lyw" \
             "samples/fashion_cnn_finetune.lyr --weights $tmp/cnn.lyw" \
             "samples/fashion_cnn.lyr --threads 2" "samples/fashion_mlp.lyr --batch 7 --fuse-update"; do
    out=$(summary_is_exact $build)
    result $? "layerc summary $build: RAM, flash and scratch are the C's: $out"
done
printf 'model s;\ninput x[4];\nweight W[4, 4];\nlayer a = linear(x, W);\noutput y = linear(a, W);\nloss mse(y);\n' > "$tmp/shared.lyr"
"$LAYERC" "$tmp/shared.lyr" --fuse-update -o "$tmp/shared.c" 2> "$tmp/err"
[ $? -eq 1 ] && grep -q "W is read by 2 layers" "$tmp/err" && [ ! -e "$tmp/shared.c" ]
result $? "--fuse-update refuses a weight that two layers read: $(cat "$tmp/err")"
finish "generated C builds"
