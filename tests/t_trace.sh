#!/bin/sh
# layerc trace and layerc plot.
#   trace: the articles' tables for samples/shape.lyr (outputs 0, 1, 0; losses
#   0, 0, 0.5; batch loss 1/6), read back as numbers from the text and the
#   Markdown forms; --backward on the trainable variant gives the articles'
#   gradient (0, -2000/3, -1000) from a backward pass `layerc check` passes,
#   and on xor every layer's and weight's gradient agrees with PyTorch's
#   autograd; the Markdown is well-formed tables; --rows; long tensors are
#   abbreviated; errors.
#   plot: an SVG with both curves (train and test) of each log, two logs on
#   one plot, a regression log without accuracy, PNG, train --plot; errors.
. "$(dirname "$0")/lib.sh"

check() { name=$1; shift; if "$@"; then ok; else bad "$name"; fi; }

# near "A,B,..." "C,D,...": the same count of numbers, each within 1e-5
# relative (1e-6 absolute): the trace prints 6 significant digits
near() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        n = split(a, x, ","); m = split(b, y, ",")
        if (n != m || a == "") exit 1
        for (i = 1; i <= n; i++) {
            d = x[i] - y[i]; if (d < 0) d = -d
            s = y[i] < 0 ? -y[i] : y[i]
            if (d > 1e-5 * s + 1e-6) exit 1
        }
    }'
}

# md_cell FILE HEADING ROW: the last cell of ROW in the Markdown table(s)
# under "### HEADING", its numbers comma-separated (parentheses and blanks out)
md_cell() {
    awk -v h="### $2" -v r="$3" '
        $0 == h { on = 1; next }
        /^#/ { on = 0 }
        on && /^\| / {
            n = split($0, c, / \| /); name = substr(c[1], 3)
            if (name == r) { v = c[n]; sub(/ \|$/, "", v); gsub(/[() ]/, "", v); print v; exit }
        }' "$1"
}

# text_cell FILE HEADING ROW: the same from the aligned text tables
text_cell() {
    awk -v h="$2" -v r="$3" '
        $0 == h { on = 1; next }
        /^[^ ]/ { on = 0 }
        on && $1 == r {
            v = $0
            if (match(v, /\([^()]*\)$/)) v = substr(v, RSTART, RLENGTH); else v = $NF
            gsub(/[() ]/, "", v); print v; exit
        }' "$1"
}

# md_tables FILE: every run of lines starting with '|' is a table: a header,
# a separator row of --- cells, rows of the header's cell count; a blank
# line (or a heading) before it.  Prints the number of tables.
md_tables() {
    awk '
        function cells(s,   t) { t = s; gsub(/\\\|/, "", t); return gsub(/\|/, "", t) - 1 }
        /^\|/ {
            if (!in_table) {
                if (prev != "" && prev !~ /^#/) { print "no blank line before the table at line " NR > "/dev/stderr"; bad = 1 }
                in_table = 1; row = 0; want = cells($0); tables++
                if (want < 1 || $0 !~ /\|$/) bad = 1
            } else {
                row++
                if (cells($0) != want || $0 !~ /\|$/) { print "line " NR ": " cells($0) " cells, want " want > "/dev/stderr"; bad = 1 }
                if (row == 1) { s = $0; gsub(/[| -]/, "", s); if (s != "" || $0 !~ /---/) { print "line " NR ": not a separator row" > "/dev/stderr"; bad = 1 } }
            }
            prev = $0; next
        }
        { if (in_table && row < 1) bad = 1; in_table = 0; prev = $0 }
        END { if (in_table && row < 1) bad = 1; if (bad) exit 1; print tables }' "$1"
}

sed 's/^frozen //' samples/shape.lyr > "$tmp/shape_t.lyr"

# ---- the articles' forward tables, text and Markdown
"$LAYERC" trace samples/shape.lyr samples/shape.csv > "$tmp/shape.txt" 2> "$tmp/err"
result $? "trace samples/shape.lyr: $(cat "$tmp/err")"
"$LAYERC" trace samples/shape.lyr samples/shape.csv --format md > "$tmp/shape.md" 2> "$tmp/err"
result $? "trace --format md: $(cat "$tmp/err")"
set -- "100,2000,100 0 0" "200,0,0 1 1" "0,2000,3000 0 1"
s=0
want_loss="0 0 0.5"
for row in "$@"; do
    s=$((s + 1))
    x=${row%% *} rest=${row#* } o=${rest%% *} truth=${rest#* }
    loss=$(echo $want_loss | cut -d' ' -f$s)
    for f in text md; do
        if [ $f = md ]; then get() { md_cell "$tmp/shape.md" "$1" "$2"; }; else get() { text_cell "$tmp/shape.txt" "$1" "$2"; }; fi
        h="sample $s: forward pass"
        check "$f: sample $s: food = x = ($x): $(get "$h" food)" near "$(get "$h" food)" "$x"
        check "$f: sample $s: o1 = L1(x) = x: $(get "$h" l1)" near "$(get "$h" l1)" "$x"
        check "$f: sample $s: o2 = L2(o1) = $o: $(get "$h" l2)" near "$(get "$h" l2)" "$o"
        check "$f: sample $s: o3 = L3(o2) = $o: $(get "$h" l3)" near "$(get "$h" l3)" "$o"
        check "$f: sample $s: truth $truth: $(get "$h" truth)" near "$(get "$h" truth)" "$truth"
        check "$f: sample $s: loss $loss: $(get "$h" loss)" near "$(get "$h" loss)" "$loss"
    done
done
# the layers in forward order, each with its op
check "forward order food, l1, l2, l3, truth, loss" \
    [ "$(awk '/^sample 1: forward/ { on = 1; next } on && /^$/ { exit } on && NR > 3 { print $1 }' "$tmp/shape.txt" | grep -v '^-' | tr '\n' ' ')" = "layer food l1 l2 l3 truth loss " ]
check "the ops: input, identity(food), linear(l1, w2), identity(l2)" \
    grep -q '^| l2 | linear(l1, w2) | \[1\] | (0) |$' "$tmp/shape.md"
# the articles' last table, and the batch loss
check "the samples' table: sample 3 has output 0, truth 1, loss 0.5" \
    grep -q '^| 3 | (0) | (1) | 0.5 |$' "$tmp/shape.md"
b=$(sed -n 's/^batch loss \([^:]*\):.*/\1/p' "$tmp/shape.txt")
check "batch loss 1/6: $b" near "$b" 0.16666667
b=$(sed -n 's/^\*\*batch loss\*\* \([^:]*\):.*/\1/p' "$tmp/shape.md")
check "md batch loss 1/6: $b" near "$b" 0.16666667
n=$(md_tables "$tmp/shape.md")
result $? "shape.md holds well-formed Markdown tables"
check "shape.md: 3 samples' tables and the batch table ($n)" [ "$n" = 4 ]

# ---- the learning flux: the frozen model has none, the trainable one the articles'
"$LAYERC" trace samples/shape.lyr samples/shape.csv --backward --format md > "$tmp/frozen.md"
result $? "trace --backward on the frozen model"
check "frozen w2: no gradient" grep -q '^| w2 | frozen | \[1, 3\] | none: never updated |$' "$tmp/frozen.md"
check "frozen: l2 needs no gradient" grep -q '^| l2 | linear(l1, w2) | \[1\] | none needed' "$tmp/frozen.md"
"$LAYERC" check "$tmp/shape_t.lyr" > "$tmp/check.out"
result $? "layerc check passes the trainable variant's backward pass: $(tail -1 "$tmp/check.out")"
"$LAYERC" trace "$tmp/shape_t.lyr" samples/shape.csv --backward --format md > "$tmp/t.md"
result $? "trace --backward on the trainable variant"
"$LAYERC" trace "$tmp/shape_t.lyr" samples/shape.csv --backward > "$tmp/t.txt"
result $? "trace --backward, text"
s=0
for g in "0 0,0,0" "0 0,0,0" "-1 0,-2000,-3000"; do
    s=$((s + 1)) h="sample $s: backward pass (the gradients of its loss)"
    check "sample $s: d loss/d o3 = o3 - truth = ${g% *}" near "$(md_cell "$tmp/t.md" "$h" l3)" "${g% *}"
    check "sample $s: l3 is l2's storage: the same gradient" near "$(md_cell "$tmp/t.md" "$h" l2)" "${g% *}"
    check "sample $s: d loss/d w2 = (o3 - truth) x = (${g#* }): $(md_cell "$tmp/t.md" "$h" w2)" \
        near "$(md_cell "$tmp/t.md" "$h" w2)" "${g#* }"
    check "text: sample $s: d loss/d w2" near "$(text_cell "$tmp/t.txt" "$h" w2)" "${g#* }"
done
h="the batch: the gradients of its loss (what one training step uses)"
g=$(md_cell "$tmp/t.md" "$h" w2)
check "batch: d loss/d w2 = (0, -2000/3, -1000): $g" near "$g" "0,-666.666667,-1000"
check "text: batch d loss/d w2" near "$(text_cell "$tmp/t.txt" "$h" w2)" "0,-666.666667,-1000"
# the backward order: from the output back to the input
check "backward order l3, l2, l1, food" \
    [ "$(awk '/^sample 1: backward/ { on = 1; next } on && /^$/ { exit } on { print $1 }' "$tmp/t.txt" | sed -n '3,$p' | tr '\n' ' ')" = "l3 l2 l1 food " ]
md_tables "$tmp/t.md" > /dev/null
result $? "the backward trace is well-formed Markdown tables"
# in chunks of the model's batch, the same batch loss and gradient
"$LAYERC" trace "$tmp/shape_t.lyr" samples/shape.csv --backward --format md --batch 2 > "$tmp/t2.md"
g=$(md_cell "$tmp/t2.md" "$h" w2)
check "batch 2 (two calls): the same batch gradient: $g" near "$g" "0,-666.666667,-1000"
b=$(sed -n 's/^\*\*batch loss\*\* \([^:]*\):.*/\1/p' "$tmp/t2.md")
check "batch 2: the same batch loss: $b" near "$b" 0.16666667

# ---- --rows
"$LAYERC" trace samples/shape.lyr samples/shape.csv --rows 2 > "$tmp/r2"
check "--rows 2: two samples" [ "$(grep -c '^sample [0-9]*: forward pass$' "$tmp/r2")" = 2 ]
check "--rows 2: the heading says so" grep -q "samples 1 to 2 of 3" "$tmp/r2"
check "--rows 2: the batch is the two" grep -q "_loss of samples 1 to 2," "$tmp/r2"
b=$(sed -n 's/^batch loss \([^:]*\):.*/\1/p' "$tmp/r2")
check "--rows 2: batch loss 0 (the two right rows): $b" near "$b" 0
"$LAYERC" trace samples/shape.lyr samples/shape.csv --rows 1000 > "$tmp/r9"
check "--rows 1000 on 3 rows: three samples" [ "$(grep -c '^sample [0-9]*: forward pass$' "$tmp/r9")" = 3 ]
"$LAYERC" trace samples/sine.lyr samples/sine.csv > "$tmp/r3"
check "rows default to 3" [ "$(grep -c '^sample [0-9]*: forward pass$' "$tmp/r3")" = 3 ]

# ---- long tensors: in full up to 32 values, else 12, ..., the last 4 and statistics
for k in 32 40; do
    printf 'model w%s;\ninput x[%s];\nlayer a = identity(x);\noutput y = dense(a, 1, init=zeros);\nloss mse(y);\n' $k $k > "$tmp/w$k.lyr"
    seq -s, 1 $k | sed 's/$/,0/' > "$tmp/w$k.csv"
    "$LAYERC" trace "$tmp/w$k.lyr" "$tmp/w$k.csv" --format md > "$tmp/w$k.md"
    result $? "trace of a [$k] input"
done
check "32 values in full" grep -q "^| a | identity(x) | \[32\] | ($(seq -s, 1 32 | sed 's/,/, /g')) |$" "$tmp/w32.md"
check "40 values: 1..12, ..., 37..40 and statistics" \
    grep -q "^| a | identity(x) | \[40\] | ($(seq -s, 1 12 | sed 's/,/, /g'), ..., 37, 38, 39, 40) 40 values: min 1, max 40, mean 20.5 |$" "$tmp/w40.md"

# ---- xor: every gradient against PyTorch's autograd (when python3-torch is there)
"$LAYERC" train samples/xor.lyr samples/xor.csv --epochs 40 --save "$tmp/xor.lyw" --quiet > /dev/null &&
"$LAYERC" export samples/xor.lyr --weights "$tmp/xor.lyw" --npz "$tmp/xor.npz" &&
"$LAYERC" trace samples/xor.lyr samples/xor.csv --weights "$tmp/xor.lyw" --rows 4 --backward --format md > "$tmp/xor.md"
result $? "trace of xor with trained weights"
check "xor: the weights are named in the heading" grep -q "weights from $tmp/xor.lyw" "$tmp/xor.md"
check "xor: bce's backward starts at z" grep -q "^| p | sigmoid(z) | \[1\] | none: bce's backward starts at z |$" "$tmp/xor.md"
md_tables "$tmp/xor.md" > /dev/null
result $? "xor.md is well-formed Markdown tables"
if /usr/bin/python3 -c 'import torch, numpy' > /dev/null 2>&1; then
    /usr/bin/python3 - "$tmp/xor.npz" "$tmp/xor.md" > "$tmp/torch.out" 2>&1 <<'PY'
import re, sys
import numpy as np
import torch
w = np.load(sys.argv[1])
md = open(sys.argv[2]).read()
def cell(heading, row):
    sec = md.split("### " + heading + "\n", 1)[1].split("\n### ", 1)[0]
    for line in sec.splitlines():
        c = [s.strip() for s in line.strip("|").split(" | ")]
        if c[0] == row:
            return np.array([float(v) for v in c[-1].strip("()").split(",")])
    raise SystemExit("no row %s under %s" % (row, heading))
X = torch.tensor([[0., 0], [0, 1], [1, 0], [1, 1]], dtype=torch.float64)
T = torch.tensor([[0.], [1], [1], [0]], dtype=torch.float64)
P = {k: torch.tensor(w[k], dtype=torch.float64, requires_grad=True) for k in w.files}
bad = 0
def compare(what, got, want):
    global bad
    want = want.detach().numpy().ravel()
    if got.shape != want.shape or not np.allclose(got, want, rtol=2e-5, atol=2e-6):
        print("FAIL", what, got, want); bad += 1
    else:
        print("ok", what)
def net(x):
    h = x @ P["h.W"].T + P["h.b"]; h.retain_grad()
    a = torch.tanh(h); a.retain_grad()
    z = a @ P["z.W"].T + P["z.b"]; z.retain_grad()
    return h, a, z, torch.sigmoid(z)
for s in range(4):
    for p in P.values(): p.grad = None
    h, a, z, p = net(X[s:s + 1])
    loss = torch.nn.functional.binary_cross_entropy(p, T[s:s + 1], reduction="sum")
    loss.backward()
    fw, bw = "sample %d: forward pass" % (s + 1), "sample %d: backward pass (the gradients of its loss)" % (s + 1)
    compare("sample %d: h" % s, cell(fw, "h"), h)
    compare("sample %d: p" % s, cell(fw, "p"), p)
    compare("sample %d: loss" % s, cell(fw, "loss"), loss)
    for name, t in (("z", z), ("a", a), ("h", h)):
        compare("sample %d: d loss/d %s" % (s, name), cell(bw, name), t.grad)
    for k, t in P.items():
        compare("sample %d: d loss/d %s" % (s, k), cell(bw, k), t.grad)
for p in P.values(): p.grad = None
h, a, z, p = net(X)
loss = torch.nn.functional.binary_cross_entropy(p, T, reduction="sum") / 4
loss.backward()
for k, t in P.items():
    compare("batch: d loss/d " + k, cell("the batch: the gradients of its loss (what one training step uses)", k), t.grad)
print("%d mismatches" % bad)
sys.exit(1 if bad else 0)
PY
    result $? "xor: the trace agrees with PyTorch: $(grep FAIL "$tmp/torch.out" | head -3; tail -1 "$tmp/torch.out")"
    n=$(grep -c '^ok' "$tmp/torch.out")
    check "xor: 4 x (3 outputs + 3 layer gradients + 4 weights) + 4 batch = 44 comparisons ($n)" [ "$n" = 44 ]
else
    echo "note: python3-torch is not installed: the xor comparison with PyTorch is skipped"
fi

# ---- trace errors
"$LAYERC" trace samples/shape.lyr "$tmp/none.csv" > "$tmp/out" 2> "$tmp/err"
check "missing data: exit 1" [ $? = 1 ]
check "missing data: the file named" grep -q "$tmp/none.csv" "$tmp/err"
cut -d, -f1-3 samples/shape.csv > "$tmp/notruth.csv"
"$LAYERC" trace samples/shape.lyr "$tmp/notruth.csv" > "$tmp/out" 2> "$tmp/err"
result $? "no truth: the forward pass alone"
check "no truth: no loss" [ "$(grep -c '^  loss' "$tmp/out")" = 0 ]
"$LAYERC" trace samples/shape.lyr "$tmp/notruth.csv" --backward > "$tmp/out" 2> "$tmp/err"
check "no truth with --backward: exit 1" [ $? = 1 ]
check "no truth with --backward: says why" grep -q "no truth values" "$tmp/err"
"$LAYERC" trace samples/shape.lyr samples/shape.csv --weights "$tmp/xor.lyw" > "$tmp/out" 2> "$tmp/err"
check "another model's weights: exit 1" [ $? = 1 ]
check "another model's weights: nothing traced" [ ! -s "$tmp/out" ]
for args in "--format xml" "--rows 0" "--rows x"; do
    "$LAYERC" trace samples/shape.lyr samples/shape.csv $args > /dev/null 2> "$tmp/err"
    check "trace $args: usage error (2)" [ $? = 2 ]
done
"$LAYERC" eval samples/shape.lyr samples/shape.csv --backward > /dev/null 2> "$tmp/err"
check "--backward without trace: usage error" [ $? = 2 ]
"$LAYERC" trace samples/shape.lyr > /dev/null 2> "$tmp/err"
check "trace without data: usage error" [ $? = 2 ]

# ---- plot
"$LAYERC" train samples/xor.lyr samples/xor.csv --test samples/xor.csv --epochs 12 --log "$tmp/a.csv" --quiet > /dev/null &&
"$LAYERC" train samples/xor.lyr samples/xor.csv --test samples/xor.csv --epochs 9 --lr 0.01 --log "$tmp/b.csv" --quiet > /dev/null
result $? "two xor runs with logs"
have_gnuplot=
command -v gnuplot > /dev/null 2>&1 && have_gnuplot=1
[ -n "$have_gnuplot" ] || bad "gnuplot is not installed (tests/deps.sh installs gnuplot-nox)"

# svg_curve SVG TITLE POINTS: the SVG has a plot (gnuplot's <g id=
# "gnuplot_plot_N...">, drawn twice when the legend is opaque: the curve,
# then the legend) whose legend is TITLE and whose curve is a path through
# POINTS points (one per epoch)
svg_curve() {
    awk -v want_title="$2" -v want="$3" '
        function path_points(b,   d, n, seg, i, k, best) {
            if (!match(b, /d=.[^'"'"']*/)) return
            d = substr(b, RSTART + 3, RLENGTH - 3)
            n = split(d, seg, "M"); best = 0
            for (i = 2; i <= n; i++) { k = gsub(/L/, "L", seg[i]) + 1; if (k > best) best = k }
            if (best > pts[id]) pts[id] = best
        }
        /<g id="gnuplot_plot_/ { match($0, /gnuplot_plot_[0-9a-z]+/); id = substr($0, RSTART, RLENGTH); depth = 0 }
        id != "" {
            line = $0
            if (index(line, "<text>")) { t = line; sub(/.*<text>/, "", t); sub(/<\/text>.*/, "", t); legend[id] = t }
            if (inpath || index(line, "<path")) {
                buf = buf line; inpath = 1
                if (index(line, "/>")) { path_points(buf); buf = ""; inpath = 0 }
            }
            depth += gsub(/<g[ >]/, "&", line) - gsub(/<\/g>/, "&", line)
            if (depth <= 0) id = ""
        }
        END { for (g in legend) if (legend[g] == want_title && pts[g] == want) ok = 1; exit !ok }' "$1"
}
if [ -n "$have_gnuplot" ]; then
    "$LAYERC" plot "$tmp/a.csv" -o "$tmp/a.svg" 2> "$tmp/err"
    result $? "plot one log: $(cat "$tmp/err")"
    for c in "train loss" "test loss" "train accuracy" "test accuracy"; do
        check "one log: the $c curve, 12 epochs" svg_curve "$tmp/a.svg" "$c" 12
    done
    if command -v python3 > /dev/null 2>&1; then
        python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' "$tmp/a.svg"
        result $? "the SVG is well-formed XML"
    fi
    "$LAYERC" plot "$tmp/a.csv" "$tmp/b.csv" -o "$tmp/ab.svg" 2> "$tmp/err"
    result $? "plot two logs: $(cat "$tmp/err")"
    for c in "a: train loss:12" "a: test loss:12" "b: train loss:9" "b: test loss:9" \
             "a: train accuracy:12" "b: test accuracy:9"; do
        check "two logs: the ${c%:*} curve" svg_curve "$tmp/ab.svg" "${c%:*}" "${c##*:}"
    done
    check "two logs: a colour each" [ "$(grep -o "stroke='rgb([ 0-9,]*)'" "$tmp/ab.svg" | sort -u | wc -l)" -ge 2 ]
    "$LAYERC" train samples/sine.lyr samples/sine.csv --epochs 5 --log "$tmp/sine.csv" --quiet > /dev/null &&
    "$LAYERC" plot "$tmp/sine.csv" -o "$tmp/sine.svg"
    result $? "plot a regression log"
    check "regression: the train loss curve" svg_curve "$tmp/sine.svg" "train loss" 5
    check "regression: no accuracy panel" [ "$(grep -c accuracy "$tmp/sine.svg")" = 0 ]
    "$LAYERC" plot "$tmp/a.csv" -o "$tmp/a.png"
    result $? "plot to PNG"
    check "a PNG file" [ "$(head -c 4 "$tmp/a.png" | od -An -c | tr -d ' ')" = "211PNG" ]
    "$LAYERC" train samples/xor.lyr samples/xor.csv --epochs 7 --quiet --plot "$tmp/t.svg" > "$tmp/out"
    result $? "train --plot without --log"
    check "train --plot: the train loss curve, 7 epochs" svg_curve "$tmp/t.svg" "train loss" 7
    check "train --plot: says where" grep -q "drew the curves in $tmp/t.svg" "$tmp/out"
fi

# ---- plot errors: the file and the line; nothing written over
printf 'epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds\n1,0.5,,,,0.1\n2,0.4,,\n' > "$tmp/short.csv"
printf 'epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds\n1,abc,,,,0.1\n' > "$tmp/nan.csv"
printf 'loss,accuracy\n0.5,0.9\n' > "$tmp/other.csv"
printf 'epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds\n' > "$tmp/empty.csv"
echo keep > "$tmp/keep.svg"
for c in "short.csv:3: error: 4 fields, but the header has 6" "nan.csv:2: error: 'abc' is not a number" \
         "other.csv:1: error: not a layerc training log" "empty.csv: error: no epochs"; do
    f=${c%%:*} rest=${c#*:}
    "$LAYERC" plot "$tmp/a.csv" "$tmp/$f" -o "$tmp/keep.svg" 2> "$tmp/err"
    check "bad log $f: exit 1" [ $? = 1 ]
    check "bad log $f: '$tmp/$f:$rest': $(cat "$tmp/err")" grep -qF "$tmp/$f:$rest" "$tmp/err"
    check "bad log $f: the old picture is left as it was" [ "$(cat "$tmp/keep.svg")" = keep ]
done
"$LAYERC" plot "$tmp/missing.csv" -o "$tmp/m.svg" 2> "$tmp/err"
check "missing log: exit 1" [ $? = 1 ]
check "missing log: named" grep -q "$tmp/missing.csv: error: cannot open" "$tmp/err"
check "missing log: no picture" [ ! -e "$tmp/m.svg" ]
cp "$tmp/a.csv" "$tmp/a.bak"
mv "$tmp/a.csv" "$tmp/a.svg"
"$LAYERC" plot "$tmp/a.svg" -o "$tmp/a.svg" 2> "$tmp/err"
check "output same as the log: usage error" [ $? = 2 ]
check "output same as the log: the log is intact" cmp -s "$tmp/a.bak" "$tmp/a.svg"
mv "$tmp/a.svg" "$tmp/a.csv"
ln -s a.csv "$tmp/link.svg"
"$LAYERC" plot "$tmp/a.csv" -o "$tmp/link.svg" 2> /dev/null
check "output a link to the log: usage error" [ $? = 2 ]
check "output a link to the log: the log is intact" cmp -s "$tmp/a.bak" "$tmp/a.csv"
"$LAYERC" plot "$tmp/a.csv" -o "$tmp/a.pdf" 2> "$tmp/err"
check "plot -o a.pdf: usage error" [ $? = 2 ]
"$LAYERC" plot "$tmp/a.csv" 2> "$tmp/err"
check "plot without -o: usage error" [ $? = 2 ]
"$LAYERC" plot -o "$tmp/x.svg" 2> "$tmp/err"
check "plot without a log: usage error" [ $? = 2 ]
"$LAYERC" train samples/xor.lyr samples/xor.csv --plot "$tmp/x.txt" > /dev/null 2>&1
check "train --plot x.txt: usage error before training" [ $? = 2 ]
# without gnuplot: the message says what to install; no picture
mkdir "$tmp/nobin"
layerc_abs=$(cd "$(dirname "$LAYERC")" && pwd)/$(basename "$LAYERC")
PATH="$tmp/nobin" "$layerc_abs" plot "$tmp/a.csv" -o "$tmp/ng.svg" 2> "$tmp/err"
check "no gnuplot: exit 1" [ $? = 1 ]
check "no gnuplot: the apt-get hint: $(cat "$tmp/err")" grep -q "apt-get install gnuplot-nox" "$tmp/err"
check "no gnuplot: no picture" [ ! -e "$tmp/ng.svg" ]

finish "trace"
