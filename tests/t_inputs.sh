#!/bin/sh
# Bad data and weight files through the command line: each gets a message
# naming the file (and the line for CSV), exit status 1, and nothing written.
. "$(dirname "$0")/lib.sh"
# expect_fail WHAT PATTERN COMMAND...: exit 1, stderr matches PATTERN, no $tmp/out.lyw
expect_fail() {
    what=$1 pattern=$2; shift 2
    "$@" > "$tmp/stdout" 2> "$tmp/stderr"
    status=$?
    if [ $status -eq 1 ] && grep -qE "$pattern" "$tmp/stderr" && [ ! -e "$tmp/out.lyw" ] &&
       ! grep -q 'AddressSanitizer\|runtime error' "$tmp/stderr"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL $what: exit $status, stderr: $(head -3 "$tmp/stderr")"
    fi
}
train() { "$LAYERC" train "$@" --quiet --save "$tmp/out.lyw"; }
X=samples/xor.lyr
F=samples/fashion_mlp.lyr

printf '0,0,0\n0,1\n' > "$tmp/cols.csv"
expect_fail "CSV row with too few columns" "cols.csv:2:" train $X "$tmp/cols.csv"
printf '0,0,0\n0,1,1,1\n' > "$tmp/cols2.csv"
expect_fail "CSV row with too many columns" "cols2.csv:2:" train $X "$tmp/cols2.csv"
printf '0,0,0\n0,abc,1\n' > "$tmp/nan.csv"
expect_fail "CSV non-number" "nan.csv:2:" train $X "$tmp/nan.csv"
printf '0,0,0\n0,nan,1\n' > "$tmp/nan2.csv"
expect_fail "CSV NaN" "nan2.csv:2:" train $X "$tmp/nan2.csv"
printf '0,0,0\n0,inf,1\n' > "$tmp/inf.csv"
expect_fail "CSV inf" "inf.csv:2:" train $X "$tmp/inf.csv"
: > "$tmp/empty.csv"
expect_fail "empty data file" "empty.csv" train $X "$tmp/empty.csv"
printf 'a,b,c\n' > "$tmp/header.csv"
expect_fail "header only" "header.csv" train $X "$tmp/header.csv"
mkdir "$tmp/dir.csv"
expect_fail "a directory as data" "dir.csv" train $X "$tmp/dir.csv"
expect_fail "a missing data file" "missing.csv" train $X "$tmp/missing.csv"
# classification: one class index per row
printf 'model c;\ninput x[2];\nlayer h = dense(x, 3);\noutput p = softmax(h);\nloss cross_entropy(p);\n' > "$tmp/c.lyr"
printf '0,0,0\n1,1,3\n' > "$tmp/class.csv"
expect_fail "class index out of range" "class.csv:2:" train "$tmp/c.lyr" "$tmp/class.csv"
printf '0,0,0\n1,1,1.5\n' > "$tmp/class2.csv"
expect_fail "class index not a whole number" "class2.csv:2:" train "$tmp/c.lyr" "$tmp/class2.csv"

# IDX
D=/usr/share/datasets/fashion-mnist
printf '\000\000\010\003\000\000\000\002\000\000\000\034\000\000\000\034' > "$tmp/short-images"
head -c 1000 /dev/zero >> "$tmp/short-images"
printf '\000\000\010\001\000\000\000\002\001\002' > "$tmp/labels2"
expect_fail "truncated IDX images" "short-images" train $F "$tmp/short-images" --labels "$tmp/labels2"
printf 'XXXXXXXXXXXXXXXXXXXXXXXX' > "$tmp/magic-images"
expect_fail "wrong magic" "magic-images" train $F "$tmp/magic-images" --labels "$tmp/labels2"
printf '\037\213\010\000garbage-garbage-garbage' > "$tmp/bad.gz"
expect_fail "corrupt gzip" "bad.gz" train $F "$tmp/bad.gz" --labels "$tmp/labels2"
if [ -f $D/t10k-images-idx3-ubyte.gz ]; then
    head -c 5000 $D/t10k-images-idx3-ubyte.gz > "$tmp/trunc.gz"
    expect_fail "truncated gzip" "trunc.gz" train $F "$tmp/trunc.gz" --labels $D/t10k-labels-idx1-ubyte.gz
    expect_fail "image/label count mismatch" "labels|count|10000|60000" \
        train $F $D/t10k-images-idx3-ubyte.gz --labels $D/train-labels-idx1-ubyte.gz
    printf 'model s;\ninput x[100];\nlayer h = dense(x, 10);\noutput p = softmax(h);\nloss cross_entropy(p);\n' > "$tmp/s.lyr"
    expect_fail "images of the wrong size" "784|100" train "$tmp/s.lyr" $D/t10k-images-idx3-ubyte.gz \
        --labels $D/t10k-labels-idx1-ubyte.gz
else
    bad "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist): IDX cases not checked"
fi

# weights
"$LAYERC" train $X samples/xor.csv --epochs 1 --quiet --save "$tmp/xor.lyw" > /dev/null
"$LAYERC" train samples/sine.lyr samples/sine.csv --epochs 1 --quiet --save "$tmp/sine.lyw" > /dev/null
expect_fail "weights of another model" "another model|h1|h\\.W" "$LAYERC" predict $X samples/xor.csv --weights "$tmp/sine.lyw"
head -c 40 "$tmp/xor.lyw" > "$tmp/trunc.lyw"
expect_fail "truncated weights" "trunc.lyw" "$LAYERC" predict $X samples/xor.csv --weights "$tmp/trunc.lyw"
cp "$tmp/xor.lyw" "$tmp/flip.lyw"
printf '\377' | dd of="$tmp/flip.lyw" bs=1 seek=60 conv=notrunc 2>/dev/null
expect_fail "bit-flipped weights" "flip.lyw" "$LAYERC" predict $X samples/xor.csv --weights "$tmp/flip.lyw"
expect_fail "missing weights" "nothere.lyw" "$LAYERC" predict $X samples/xor.csv --weights "$tmp/nothere.lyw"
expect_fail "another model's weights baked into C" "another model" "$LAYERC" $X --weights "$tmp/sine.lyw" -o "$tmp/out.c"
[ ! -e "$tmp/out.c" ] && [ ! -e "$tmp/out.h" ] && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL C written despite bad weights"; }

# an unwritable --save keeps the old file
mkdir "$tmp/ro"
cp "$tmp/xor.lyw" "$tmp/ro/keep.lyw"
chmod a-w "$tmp/ro"
if [ "$(id -u)" != 0 ]; then
    "$LAYERC" train $X samples/xor.csv --epochs 1 --quiet --save "$tmp/ro/keep.lyw" > /dev/null 2> "$tmp/stderr"
    [ $? -eq 1 ] && cmp -s "$tmp/xor.lyw" "$tmp/ro/keep.lyw" && grep -q keep.lyw "$tmp/stderr"
    [ $? -eq 0 ] && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL unwritable --save"; }
fi
"$LAYERC" train $X samples/xor.csv --epochs 1 --quiet --save "$tmp/no/such/dir/w.lyw" > /dev/null 2> "$tmp/stderr"
[ $? -eq 1 ] && grep -q "no/such/dir/w.lyw" "$tmp/stderr"
[ $? -eq 0 ] && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL --save into a missing directory: $(cat "$tmp/stderr")"; }
finish "bad inputs"
