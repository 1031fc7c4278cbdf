#!/bin/sh
# ONNX in and out (compiler/onnx/, SPEC sections 2 and 4):
#  - the ONNX backend test data (libonnx-testdata): every case layerc takes
#    runs through the JIT and matches ONNX's expected output (conformance.py);
#  - graphs written for the importer's fusions and folding, against NumPy;
#  - PyTorch models exported by torch.onnx.export, against PyTorch;
#  - a PyTorch-trained CNN imported, fine-tuned by `layerc train`, baked into
#    C: the C program predicts what `layerc predict` does;
#  - the samples exported (onnx.checker, and a NumPy evaluation equal to
#    `layerc predict`) and imported back: the same C as the original .lyr;
#  - broken files: a message naming the file (and node), exit 1, nothing written;
#  - the fuzz target's seeds and regressions replayed.
# Needs python3-onnx and python3-numpy (python3-torch for the PyTorch part),
# libonnx-testdata and dataset-fashion-mnist.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
T=tests/onnx
if ! $PY -c 'import onnx, numpy' >/dev/null 2>&1; then
    bad "python3-onnx and python3-numpy are not installed (apt-get install python3-onnx python3-numpy)"
    finish "onnx"
fi

# ---- the ONNX backend test data
DATA=/usr/share/libonnx-testdata/data
if [ -d $DATA/node ]; then
    $PY $T/conformance.py "$LAYERC" "$tmp/conf" > "$tmp/conf.out" 2>&1
    grep -E '^(ONNX test data|skipped|FAIL|ref_eval)' "$tmp/conf.out"
    res=$(grep '^RESULT ' "$tmp/conf.out")
    if [ -z "$res" ]; then
        bad "conformance.py did not finish: $(tail -3 "$tmp/conf.out")"
    else
        eval "$(echo "$res" | sed 's/^RESULT //')"
        pass=$((pass + passed + ref_passed)) fail=$((fail + failed + ref_failed))
        # a translator that starts refusing what it took must not go unnoticed
        [ "$applicable" -ge 112 ]
        result $? "ONNX test data: $applicable applicable cases, fewer than the 112 the README counts"
    fi
else
    bad "libonnx-testdata is not installed (apt-get install libonnx-testdata)"
fi

# ---- the importer's fusions and folding, against ref_eval.py
$PY $T/onnx_tool.py handmade "$tmp/hand"
for f in "$tmp"/hand/*.onnx; do
    n=$(basename "$f" .onnx)
    "$LAYERC" import "$f" -o "$tmp/hand/$n.lyr" &&
    "$LAYERC" predict "$tmp/hand/$n.lyr" "$tmp/hand/$n.x.csv" --weights "$tmp/hand/$n.lyw" > "$tmp/hand/$n.out" &&
    $PY $T/onnx_tool.py close "$tmp/hand/$n.out" "$tmp/hand/$n.y.csv"
    result $? "handmade $n: imported, its outputs equal NumPy's"
done
grep -q '^output y = conv2d(x, 3, kernel=3, pad=1);' "$tmp/hand/conv_add.lyr" &&
    ! grep -q 'add(' "$tmp/hand/conv_add.lyr" && grep -q '^output y = dense(x, 4);' "$tmp/hand/matmul_add.lyr"
result $? "Conv + Add and MatMul + Add become one layer with its bias"
grep -q '^output y = dense(v, 2, bias=0);' "$tmp/hand/view_fold.lyr" && grep -q 'reshape(x, \[6\])' "$tmp/hand/view_fold.lyr"
result $? "x.view(N, -1): Shape/Gather/Unsqueeze/Concat folded into one reshape"
grep -q '^output y = gelu(x);' "$tmp/hand/gelu_torch.lyr" && grep -q '^output y = gelu(x);' "$tmp/hand/gelu_op.lyr" && [ "$(grep -c '= ' "$tmp/hand/gelu_torch.lyr")" = 1 ] &&
    grep -q '^output y = avgpool(x_[0-9a-z]*, \[1, 2\]);' "$tmp/hand/unsqueeze_pool.lyr"
result $? "torch's five GELU nodes become one gelu layer; Unsqueeze and Squeeze make no layers of their own"
grep -q '= reshape(x, \[2, 12\]);' "$tmp/hand/layernorm_2axes.lyr" && grep -q '^output y = layernorm(' "$tmp/hand/layernorm_2axes.lyr"
result $? "LayerNormalization over the last two axes: a reshape, then layernorm over the last"

# ---- PyTorch models
have_torch=0
$PY -c 'import torch' >/dev/null 2>&1 && have_torch=1
if [ $have_torch = 1 ]; then
    $PY $T/torch_models.py export "$tmp/torch" > "$tmp/torch.log" 2>&1 || { bad "torch export: $(tail -3 "$tmp/torch.log")"; }
    for n in fashion_mlp fashion_cnn branches resnet8 dscnn resnet8_bn dscnn_bn; do
        if "$LAYERC" import "$tmp/torch/$n.onnx" -o "$tmp/torch/$n.lyr" 2> "$tmp/torch/$n.err"; then
            "$LAYERC" predict "$tmp/torch/$n.lyr" "$tmp/torch/$n.x.csv" --weights "$tmp/torch/$n.lyw" > "$tmp/torch/$n.out" &&
            $PY $T/onnx_tool.py close "$tmp/torch/$n.out" "$tmp/torch/$n.torch.csv"
            result $? "PyTorch $n: imported, layerc predict equals PyTorch"
        else
            bad "PyTorch $n: import failed: $(cat "$tmp/torch/$n.err")"
        fi
    done
    # torch folds each BatchNorm into its Conv unless told to keep them (the _bn files)
    [ "$(grep -c '= batchnorm(' "$tmp/torch/resnet8_bn.lyr")" = 7 ] &&
        [ "$(grep -c '= batchnorm(' "$tmp/torch/dscnn_bn.lyr")" = 9 ] &&
        [ "$(grep -c ', groups=64);' "$tmp/torch/dscnn_bn.lyr")" = 4 ] &&
        grep -q 'kernel=\[10, 4\], stride=2, pad=\[5, 1\]' "$tmp/torch/dscnn_bn.lyr" &&
        [ "$(grep -c '= add(' "$tmp/torch/resnet8_bn.lyr")" = 3 ] &&
        [ "$(grep -c 'kernel=1, stride=2' "$tmp/torch/resnet8_bn.lyr")" = 2 ] &&
        grep -q '= global_avgpool(' "$tmp/torch/resnet8_bn.lyr" && grep -q '= global_avgpool(' "$tmp/torch/dscnn_bn.lyr" &&
        ! grep -q batchnorm "$tmp/torch/resnet8.lyr"
    result $? "PyTorch ResNet-8 and DS-CNN import as batchnorm, depthwise conv2d (groups=64), add and global_avgpool layers"
    grep -q '= gelu(' "$tmp/torch/branches.lyr" && grep -q '= silu(' "$tmp/torch/branches.lyr" &&
        grep -q '= normalize(image, mean=0.286, std=0.353);' "$tmp/torch/branches.lyr"
    result $? "PyTorch branches: torch's five nodes of GELU become one gelu layer, x * sigmoid(x) one silu, (x - mean) / std one normalize"
else
    bad "python3-torch is not installed: the PyTorch round trips did not run"
fi

# ---- a PyTorch-trained model fine-tuned by layerc and baked into C
D=/usr/share/datasets/fashion-mnist
ft="$tmp/ft"
mkdir -p "$ft"
if [ $have_torch = 1 ] && [ -f $D/train-images-idx3-ubyte.gz ]; then
    subset $D/train-images-idx3-ubyte.gz 2000 "$ft/train-images"
    subset $D/train-labels-idx1-ubyte.gz 2000 "$ft/train-labels"
    subset $D/t10k-images-idx3-ubyte.gz 300 "$ft/test-images"
    subset $D/t10k-labels-idx1-ubyte.gz 300 "$ft/test-labels"
    $PY $T/torch_models.py finetune "$ft" "$ft/train-images" "$ft/train-labels" "$ft/test-images" "$ft/test-labels" \
        > "$ft/torch.log" 2>&1
    result $? "PyTorch trains the fashion_cnn twin: $(grep -v Warn "$ft/torch.log" | tail -2)"
    "$LAYERC" import "$ft/trained.onnx" -o "$ft/cnn.lyr" &&
    "$LAYERC" predict "$ft/cnn.lyr" "$ft/test.csv" --weights "$ft/cnn.lyw" > "$ft/imported.out" &&
    $PY $T/onnx_tool.py close "$ft/imported.out" "$ft/trained.torch.csv"
    result $? "the PyTorch-trained CNN, imported: layerc predict equals PyTorch"
    "$LAYERC" train "$ft/cnn.lyr" "$ft/train-images" --labels "$ft/train-labels" --weights "$ft/cnn.lyw" \
        --epochs 1 --lr 0.01 --save "$ft/tuned.lyw" --quiet > "$ft/train.out" 2>&1
    result $? "layerc train fine-tunes it one epoch: $(tail -2 "$ft/train.out")"
    "$LAYERC" eval "$ft/cnn.lyr" "$ft/test-images" --labels "$ft/test-labels" --weights "$ft/tuned.lyw" > "$ft/eval.out"
    acc=$(sed -n 's/.*accuracy \([0-9.]*\)%.*/\1/p' "$ft/eval.out")
    awk -v a="$acc" 'BEGIN { exit !(a > 60) }'
    result $? "the fine-tuned model classifies $acc% of 300 test images, want > 60%"
    "$LAYERC" predict "$ft/cnn.lyr" "$ft/test.csv" --weights "$ft/tuned.lyw" > "$ft/tuned.jit"
    ! same_numbers "$ft/tuned.jit" "$ft/imported.out" 2>/dev/null
    result $? "fine-tuning changed the predictions"
    "$LAYERC" "$ft/cnn.lyr" --weights "$ft/tuned.lyw" -o "$ft/cnn.c" &&
    cc -std=c99 -O2 -DMODEL=cnn -include "$ft/cnn.h" tests/c/predict_main.c "$ft/cnn.c" -lm -o "$ft/cnn" &&
    "$ft/cnn" "$ft/test.csv" > "$ft/tuned.aot" && same_numbers "$ft/tuned.jit" "$ft/tuned.aot"
    result $? "baked into C and built with cc, it predicts what layerc predict does"
else
    bad "the fine-tuning test needs python3-torch and dataset-fashion-mnist"
fi

# ---- .lyr -> ONNX -> .lyr: the samples exported and imported back
rt="$tmp/rt"
mkdir -p "$rt/back"
for case in xor:samples/xor.csv sine:samples/sine.csv shape:samples/shape.csv \
            fashion_mlp:fashion fashion_cnn:fashion resnet8:fashion dscnn:fashion mobilenet_v1_025:fashion \
            autoencoder:fashion_ae; do
    n=${case%%:*} data=${case#*:}
    if [ "$data" = fashion ] || [ "$data" = fashion_ae ]; then
        [ -f "$ft/test.csv" ] || { bad "$n: no Fashion-MNIST data to export with"; continue; }
        truth="--labels $ft/test-labels"
        [ "$data" = fashion_ae ] && truth="--truth input"
        "$LAYERC" train samples/$n.lyr "$ft/test-images" $truth --epochs 1 --quiet --save "$rt/$n.lyw" > /dev/null
        data="$ft/test.csv"
        if [ "$truth" = "--truth input" ]; then
            cut -d, -f1-784 "$ft/test.csv" > "$rt/images.csv"
            data="$rt/images.csv"
        fi
    else
        "$LAYERC" train samples/$n.lyr "$data" --epochs 3 --quiet --save "$rt/$n.lyw" > /dev/null
    fi
    "$LAYERC" export samples/$n.lyr --weights "$rt/$n.lyw" --onnx "$rt/$n.onnx"
    result $? "$n: layerc export --onnx"
    "$LAYERC" predict samples/$n.lyr "$data" --weights "$rt/$n.lyw" > "$rt/$n.out"
    $PY $T/onnx_tool.py check "$rt/$n.onnx" "$data" "$rt/$n.out"
    result $? "$n: onnx.checker accepts the export (opset >= 13), and NumPy evaluates it to layerc predict's outputs"
    "$LAYERC" import "$rt/$n.onnx" -o "$rt/back/$n.lyr"
    result $? "$n: the export imports back"
    mkdir -p "$rt/a" "$rt/b"
    "$LAYERC" samples/$n.lyr -o "$rt/a/$n.c" && "$LAYERC" "$rt/back/$n.lyr" -o "$rt/b/$n.c" &&
    $PY $T/onnx_tool.py nocomments "$rt/a/$n.c" "$rt/b/$n.c"
    result $? "$n: .lyr -> ONNX -> .lyr gives the same C (comments aside)"
    "$LAYERC" samples/$n.lyr --weights "$rt/$n.lyw" -o "$rt/a/$n.w.c" &&
    "$LAYERC" "$rt/back/$n.lyr" --weights "$rt/back/$n.lyw" -o "$rt/b/$n.w.c" &&
    $PY $T/onnx_tool.py nocomments "$rt/a/$n.w.c" "$rt/b/$n.w.c"
    result $? "$n: and the same C with the weights baked in"
done
# ---- .lyr -> ONNX -> .lyr with the version-2 ops at the MLPerf Tiny input shapes (tests/onnx/models),
# trained one epoch on random data
v2="$tmp/v2"
mkdir -p "$v2/back" "$v2/a" "$v2/b"
for case in resnet8:3072:10 dscnn:490:12 v2ops:96:-3; do
    n=${case%%:*} rest=${case#*:}
    $PY $T/onnx_tool.py data "$v2/$n.csv" 32 ${rest%%:*} ${rest#*:}
    "$LAYERC" train $T/models/$n.lyr "$v2/$n.csv" --quiet --save "$v2/$n.lyw" > /dev/null &&
        "$LAYERC" export $T/models/$n.lyr --weights "$v2/$n.lyw" --onnx "$v2/$n.onnx"
    result $? "$n: trained one epoch and exported"
    "$LAYERC" predict $T/models/$n.lyr "$v2/$n.csv" --weights "$v2/$n.lyw" > "$v2/$n.out" &&
        $PY $T/onnx_tool.py check "$v2/$n.onnx" "$v2/$n.csv" "$v2/$n.out"
    result $? "$n: onnx.checker accepts the export, and NumPy evaluates it to layerc predict's outputs"
    "$LAYERC" import "$v2/$n.onnx" -o "$v2/back/$n.lyr" &&
        "$LAYERC" $T/models/$n.lyr -o "$v2/a/$n.c" && "$LAYERC" "$v2/back/$n.lyr" -o "$v2/b/$n.c" &&
        $PY $T/onnx_tool.py nocomments "$v2/a/$n.c" "$v2/b/$n.c" &&
        "$LAYERC" $T/models/$n.lyr --weights "$v2/$n.lyw" -o "$v2/a/$n.w.c" &&
        "$LAYERC" "$v2/back/$n.lyr" --weights "$v2/back/$n.lyw" -o "$v2/b/$n.w.c" &&
        $PY $T/onnx_tool.py nocomments "$v2/a/$n.w.c" "$v2/b/$n.w.c"
    result $? "$n: .lyr -> ONNX -> .lyr gives the same C, with and without the weights baked in"
done
$PY $T/onnx_tool.py nodes "$v2/resnet8.onnx" BatchNormalization 7 && $PY $T/onnx_tool.py bnstats "$v2/resnet8.onnx" &&
    $PY $T/onnx_tool.py nodes "$v2/dscnn.onnx" BatchNormalization 9 && $PY $T/onnx_tool.py bnstats "$v2/dscnn.onnx" &&
    $PY $T/onnx_tool.py nodes "$v2/dscnn.onnx" Conv 4 group 64 && $PY $T/onnx_tool.py nodes "$v2/v2ops.onnx" Conv 1 group 4 &&
    $PY $T/onnx_tool.py nodes "$v2/resnet8.onnx" GlobalAveragePool 1 && $PY $T/onnx_tool.py nodes "$v2/v2ops.onnx" LayerNormalization 1 &&
    $PY $T/onnx_tool.py nodes "$v2/v2ops.onnx" Erf 1 && grep -q '^layer  ge = gelu(lr);' "$v2/back/v2ops.lyr" &&
    grep -q '^layer  nx = normalize(x, mean=\[0.5, -0.25, 0, 1\], std=\[0.5, 2, 1, 0.125\]);' "$v2/back/v2ops.lyr"
result $? "batchnorm exported as BatchNormalization with its trained statistics, depthwise conv2d as Conv with group, gelu as torch writes it, normalize as Sub and Div"
grep -q '^layer  n3b = batchnorm(c3b, momentum=0.2, eps=0.001);' "$v2/back/resnet8.lyr" &&
    grep -q 'conv2d(mfcc, 64, kernel=\[10, 4\], stride=2, pad=same)' "$v2/back/dscnn.lyr"
result $? "batchnorm's momentum and eps, and pad=same with a [10, 4] kernel, come back as written"

grep -q '^frozen weight w2\[1, 3\] = \[\[0.005, ' "$rt/back/shape.lyr" && grep -q '= linear(l1, w2);' "$rt/back/shape.lyr"
result $? "shape: the declared frozen weight and its literal come back"
grep -q '^loss   bce(p);' "$rt/back/xor.lyr" && grep -q 'dense(x, 8, init=xavier)' "$rt/back/xor.lyr"
result $? "xor: the loss and init= come back from layerc's metadata"
grep -q 'schedule = cosine(' "$rt/back/autoencoder.lyr" && grep -q 'decay=' "$rt/back/resnet8.lyr"
result $? "autoencoder, resnet8: the learning-rate schedule and the layers' decay= come back from layerc's metadata"

# ---- broken and refused files
$PY $T/onnx_tool.py bad "$tmp/bad"
for want in "truncated:not an ONNX model" "not_protobuf:not an ONNX model" "empty:is empty" \
            "missing_initializer:node \"fc\" (Gemm, opset 13): its input \"B\" is not produced" \
            "dangling_input:node \"fc\" (Gemm, opset 13): its input \"nowhere\"" \
            "cycle:lies on a cycle" "absurd_input_dims:dimension 1 is out of range" \
            "absurd_initializer_dims:initializer \"W\": its dimensions" \
            "unsupported_op:node \"sin\" (Sin, opset 13): layerc has no translation for Sin" \
            "lone_erf:node \"erf\" (Erf, opset 13): it is not part of torch's GELU" \
            "gelu_wrong_divisor:node \"div\" (Div, opset 13): it is not the x / sqrt(2) of torch's GELU" \
            "unsupported_attribute:node \"c\" (Conv, opset 13): its pads differ" \
            "deep_nesting:nest more than 100 deep" "bad_metadata:its layerc metadata"; do
    n=${want%%:*} msg=${want#*:}
    f="$tmp/bad/$n.onnx"
    echo 'model old;' > "$tmp/bad/$n.lyr"
    "$LAYERC" import "$f" -o "$tmp/bad/$n.lyr" 2> "$tmp/bad/$n.err"
    st=$?
    [ $st = 1 ] && grep -qF "$f: error: " "$tmp/bad/$n.err" && grep -qF "$msg" "$tmp/bad/$n.err" &&
        [ "$(cat "$tmp/bad/$n.lyr")" = 'model old;' ] && [ ! -e "$tmp/bad/$n.lyw" ]
    result $? "bad ONNX $n: exit $st, $(head -c 300 "$tmp/bad/$n.err"); want exit 1, the file, '$msg', nothing written"
done

cp "$tmp/bad/injection.onnx.ok" "$tmp/bad/injection.onnx"
"$LAYERC" import "$tmp/bad/injection.onnx" -o "$tmp/bad/injection.lyr" && ! grep -q evil "$tmp/bad/injection.lyr" &&
    ! grep -q '^train' "$tmp/bad/injection.lyr" && ! grep -q 'init=' "$tmp/bad/injection.lyr"
result $? "metadata that would add statements to the .lyr is left out"

# ---- the command line
"$LAYERC" import "$tmp/hand/matmul_add.onnx" > /dev/null 2>&1
[ $? = 2 ]
result $? "layerc import without -o is a usage error (exit 2)"
"$LAYERC" import "$tmp/hand/matmul_add.onnx" -o - > "$tmp/stdout.lyr" && grep -q '^model g;' "$tmp/stdout.lyr"
result $? "layerc import -o - writes the .lyr to standard output"
"$LAYERC" import "$tmp/hand/matmul_add.onnx" -o "$tmp/np.lyr" --npz "$tmp/np.npz" && [ ! -e "$tmp/np.lyw" ] &&
    $PY -c "import numpy, sys; a = numpy.load(sys.argv[1]); assert sorted(a.files) == ['y.W', 'y.b'] and a['y.W'].shape == (4, 6)" "$tmp/np.npz" &&
    "$LAYERC" predict "$tmp/np.lyr" "$tmp/hand/matmul_add.x.csv" --weights "$tmp/np.npz" > "$tmp/np.out" &&
    $PY $T/onnx_tool.py close "$tmp/np.out" "$tmp/hand/matmul_add.y.csv"
result $? "layerc import --npz writes the weights as a NumPy archive the model loads"
cp "$tmp/hand/matmul_add.onnx" "$tmp/self.onnx"
"$LAYERC" import "$tmp/self.onnx" -o "$tmp/self.onnx" 2> /dev/null
[ $? = 2 ] && cmp -s "$tmp/self.onnx" "$tmp/hand/matmul_add.onnx"
result $? "layerc import refuses to write over the .onnx it reads"
"$LAYERC" export samples/xor.lyr --onnx "$tmp/x.onnx" > /dev/null 2>&1
[ $? = 2 ] && [ ! -e "$tmp/x.onnx" ]
result $? "layerc export --onnx without --weights is a usage error"

# ---- the fuzz target's seeds and regressions, replayed (as tests/t_limits.sh does for the others)
CC=${CC:-cc}
san=
nm "$BUILD/liblayerc.a" 2>/dev/null | grep -q __asan_init && san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
if $CC -std=c11 -g -O1 $san -D_DEFAULT_SOURCE -Icompiler -Iruntime -I"$BUILD" -I"$BUILD/onnx" -o "$tmp/replay_onnx" \
        tests/fuzz/fuzz_onnx.c tests/fuzz/replay.c "$BUILD/liblayerc.a" -ltcc -lprotobuf-c -lz -lm -ldl -lpthread \
        2> "$tmp/cc.err"; then
    set --
    for f in tests/fuzz/corpus/onnx/* tests/fuzz/regressions/onnx/* "$tmp"/bad/*.onnx; do
        [ -f "$f" ] && set -- "$@" "$f"
    done
    timeout 300 "$tmp/replay_onnx" "$@" > "$tmp/replay.out" 2> "$tmp/replay.err"
    result $? "fuzz onnx: $# inputs replayed: $(tail -1 "$tmp/replay.out") $(grep '^replay: ' "$tmp/replay.err" | tail -1)"
else
    bad "fuzz onnx: the replay does not build: $(head -5 "$tmp/cc.err")"
fi
finish "onnx"
