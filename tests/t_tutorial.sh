#!/bin/sh
# docs/TUTORIAL.md, run: every command of its ```console blocks ("$ " lines,
# with their "\" continuations), in order, in one shell, on a fresh copy of
# the repository's files, with `layerc` on the PATH.  Each must succeed; in a
# ```console exact block each must print exactly the output shown.  The
# training steps run on a Fashion-MNIST subset (1,000 training images, 500
# test images, cut as tests/t_fashion.sh cuts them) put in place of the data
# set's directory; the page shows the full runs.
. "$(dirname "$0")/lib.sh"
D=/usr/share/datasets/fashion-mnist
missing=
[ -f $D/train-images-idx3-ubyte.gz ] || missing="$missing dataset-fashion-mnist"
for tool in gnuplot dot arm-none-eabi-gcc qemu-system-arm bash; do
    command -v $tool > /dev/null 2>&1 || missing="$missing $tool"
done
if [ -n "$missing" ]; then
    echo "tutorial: 0 passed, 1 failed (not installed:$missing)"
    exit 1
fi

# the page's commands: cmd.N (the command), want.N (the output shown), exact.N
mkdir "$tmp/steps"
awk -v dir="$tmp/steps" '
    /^```console/ { in_block = 1; exact = ($2 == "exact"); next }
    /^```/ && in_block { in_block = 0; cont = 0; next }
    !in_block { next }
    cont { print > cmd; cont = /\\$/; next }
    /^\$ / {
        n++; cmd = dir "/cmd." n; want = dir "/want." n
        print substr($0, 3) > cmd; printf "" > want
        if (exact) printf "" > (dir "/exact." n)
        cont = /\\$/; next
    }
    n { print > want }
    END { print n > (dir "/count") }' docs/TUTORIAL.md
count=$(cat "$tmp/steps/count")
[ "$count" -ge 20 ]
result $? "docs/TUTORIAL.md has the tutorial's commands ($count)"

# a fresh copy: the files git knows (and new ones not ignored), no build
work="$tmp/work"
mkdir -p "$work/bin"
if git rev-parse --is-inside-work-tree > /dev/null 2>&1; then
    git ls-files --cached --others --exclude-standard | while read -r f; do [ -f "$f" ] && echo "$f"; done |
        tar -cf - -T - | tar -xf - -C "$work"
else
    cp -R samples docs "$work"
fi
layerc_abs=$(cd "$(dirname "$LAYERC")" && pwd)/$(basename "$LAYERC")
ln -s "$layerc_abs" "$work/bin/layerc"
[ ! -e "$work/layerc" ] && [ ! -d "$work/build" ] && [ -f "$work/samples/shape.lyr" ]
result $? "the copy has the sources and no build"

data="$tmp/fashion"
mkdir "$data"
subset $D/train-images-idx3-ubyte.gz 1000 "$data/train-images-idx3-ubyte.gz"
subset $D/train-labels-idx1-ubyte.gz 1000 "$data/train-labels-idx1-ubyte.gz"
subset $D/t10k-images-idx3-ubyte.gz 500 "$data/t10k-images-idx3-ubyte.gz"
subset $D/t10k-labels-idx1-ubyte.gz 500 "$data/t10k-labels-idx1-ubyte.gz"

# one script, one shell (variables such as D carry over), pipelines failing
# when any part fails
{
    echo 'set -o pipefail'
    echo "cd '$work' || exit 1"
    echo "PATH='$work/bin':\$PATH"
    i=1
    while [ $i -le "$count" ]; do
        sed "s|$D|$data|g" "$tmp/steps/cmd.$i" > "$tmp/steps/run.$i"
        echo ". '$tmp/steps/run.$i' > '$tmp/steps/got.$i' 2>&1; echo \$? > '$tmp/steps/status.$i'"
        i=$((i + 1))
    done
} > "$tmp/tutorial.sh"
start=$(date +%s)
bash "$tmp/tutorial.sh"
seconds=$(($(date +%s) - start))

i=1
while [ $i -le "$count" ]; do
    c=$(head -1 "$tmp/steps/cmd.$i")
    [ "$(cat "$tmp/steps/status.$i" 2>/dev/null)" = 0 ]
    result $? "step $i: \$ $c: exit status $(cat "$tmp/steps/status.$i" 2>/dev/null): $(tail -3 "$tmp/steps/got.$i" 2>/dev/null)"
    if [ -f "$tmp/steps/exact.$i" ]; then
        if cmp -s "$tmp/steps/got.$i" "$tmp/steps/want.$i"; then ok
        else bad "step $i: \$ $c: the output differs from the page's:"; diff "$tmp/steps/want.$i" "$tmp/steps/got.$i" | head -10
        fi
    fi
    i=$((i + 1))
done
# what the last steps made
[ -s "$work/curves.svg" ] && grep -q '<text>cnn: test accuracy</text>' "$work/curves.svg"
result $? "the tutorial's plot has the CNN's test accuracy curve"
[ "$(wc -l < "$work/fw/run.txt" 2>/dev/null)" = 8 ]
result $? "the firmware classified 8 images"
echo "note: the tutorial's $count commands ran in ${seconds}s"
finish "tutorial"
