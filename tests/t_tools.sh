#!/bin/sh
# The tools around the compiler: `layerc graph` (DOT, SVG, PNG, and the
# message when Graphviz is missing), `layerc summary` (totals agree with the
# generated code; FLOPs of dense layers), --help, --version, usage errors,
# the man page, and NumPy interop of .npz weights (runtime/npz.c) checked by
# numpy itself.
. "$(dirname "$0")/lib.sh"

check() { name=$1; shift; if "$@"; then ok; else bad "$name"; fi; }

have_dot=
command -v dot >/dev/null 2>&1 && have_dot=1
[ -n "$have_dot" ] || bad "Graphviz's dot is not installed (apt-get install graphviz): DOT syntax, SVG and PNG not checked"

# ---- graph and summary, for every sample
for model in samples/*.lyr; do
    base=$(basename "$model" .lyr)
    if ! "$LAYERC" "$model" -o "$tmp/$base.c" 2>"$tmp/err"; then bad "$model: does not compile"; cat "$tmp/err"; continue; fi
    name=$(sed -n 's/^#define \([A-Za-z_0-9]*\)_NPARAMS .*/\1/p' "$tmp/$base.h")
    nparams=$(sed -n 's/^#define [A-Za-z_0-9]*_NPARAMS \([0-9]*\).*/\1/p' "$tmp/$base.h")
    # the weights, as the generated table names them
    sed -n "/^const ${name}_param_info ${name}_params\[\] = {/,/^};/p" "$tmp/$base.c" |
        sed -n 's/^ *{ "\([^"]*\)".*/\1/p' > "$tmp/weights"
    [ -s "$tmp/weights" ] || [ "$nparams" = 0 ] || bad "$model: no weight table found in the generated C"

    # summary: the layers (first column of the table) and the totals
    if ! "$LAYERC" summary "$model" > "$tmp/summary" 2>"$tmp/err"; then bad "$model: summary failed"; cat "$tmp/err"; continue; fi
    awk 'NR > 3 && NF == 0 { exit } NR > 3 { print $1 }' "$tmp/summary" > "$tmp/layers"
    [ -s "$tmp/layers" ] && ok || bad "$model: summary lists no layers"
    check "$model: summary's parameter count is ${name}_NPARAMS ($nparams)" \
        grep -q "^$nparams parameters (" "$tmp/summary"

    # every dense layer: forward FLOPs = 2 m n (n = the size of its input)
    awk -v lyr="$model" '
        FILENAME == lyr {
            if (match($0, /(layer|output)[ \t]+[A-Za-z_0-9]+[ \t]*=[ \t]*dense[ \t]*\([ \t]*[A-Za-z_0-9]+[ \t]*,[ \t]*[0-9]+/)) {
                s = substr($0, RSTART, RLENGTH)
                gsub(/(layer|output)[ \t]+/, "", s); gsub(/[ \t]/, "", s)
                split(s, a, /[=(,]/)       # name, "dense", input, units
                dense[a[1]] = a[3]; units[a[1]] = a[4]
            }
            next
        }
        FNR > 3 && NF == 0 { done = 1 }
        FNR > 3 && !done {
            shape = $3; for (i = 4; i <= NF && shape !~ /\]$/; i++) shape = shape " " $i
            gsub(/[\[\] ]/, "", shape); n = split(shape, d, ","); size = 1
            for (k = 1; k <= n; k++) size *= d[k]
            sz[$1] = size; flops[$1] = $(i + 1)
        }
        END {
            for (l in dense) {
                want = 2 * units[l] * sz[dense[l]]
                if (flops[l] != want) { printf "FAIL %s: dense layer %s: %s forward FLOPs, want 2*%d*%d = %d\n", lyr, l, flops[l], units[l], sz[dense[l]], want; bad++ }
                else good++
            }
            printf "%d %d\n", good, bad
        }' "$model" "$tmp/summary" > "$tmp/flops"
    grep FAIL "$tmp/flops"
    read good bads <<EOF
$(tail -n 1 "$tmp/flops")
EOF
    pass=$((pass + good)) fail=$((fail + bads))

    # graph: DOT naming every layer, every weight and the loss
    if ! "$LAYERC" graph "$model" -o "$tmp/$base.dot" 2>"$tmp/err"; then bad "$model: graph -o .dot failed"; cat "$tmp/err"; continue; fi
    missing=
    while read -r l; do grep -qF "\"L_$l\"" "$tmp/$base.dot" || missing="$missing layer:$l"; done < "$tmp/layers"
    while read -r w; do grep -qF "\"W_$w\"" "$tmp/$base.dot" || missing="$missing weight:$w"; done < "$tmp/weights"
    grep -q '^  loss \[' "$tmp/$base.dot" && grep -q -- '-> loss;' "$tmp/$base.dot" || missing="$missing loss"
    [ -z "$missing" ] && ok || bad "$model: the graph lacks$missing"
    if [ -n "$have_dot" ]; then
        check "$model: dot -Tsvg accepts the DOT" dot -Tsvg "$tmp/$base.dot" -o "$tmp/check.svg"
        "$LAYERC" graph "$model" -o "$tmp/$base.svg" 2>"$tmp/err" && grep -q '<svg' "$tmp/$base.svg" && ok || bad "$model: graph -o .svg"
        "$LAYERC" graph "$model" -o "$tmp/$base.png" 2>"$tmp/err" &&
            [ "$(head -c 8 "$tmp/$base.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] && ok ||
            bad "$model: graph -o .png is not a PNG"
    fi
done

# ---- graph without Graphviz: a clear message, exit 1, nothing written; .dot still works
mkdir "$tmp/emptybin"
PATH="$tmp/emptybin" "$LAYERC" graph samples/xor.lyr -o "$tmp/nodot.svg" 2>"$tmp/err"
status=$?
check "graph .svg without dot: exit 1" [ $status -eq 1 ]
check "graph .svg without dot: says what to install" grep -q "needs Graphviz's \`dot\`, which is not installed" "$tmp/err"
check "graph .svg without dot: names the output" grep -qF "$tmp/nodot.svg" "$tmp/err"
check "graph .svg without dot: no file" [ ! -e "$tmp/nodot.svg" ]
PATH="$tmp/emptybin" "$LAYERC" graph samples/xor.lyr -o "$tmp/nodot.dot" 2>/dev/null
check "graph .dot without dot" grep -q '^digraph "xor" {' "$tmp/nodot.dot"
"$LAYERC" graph samples/xor.lyr -o - > "$tmp/stdout.dot"
check "graph -o - writes DOT to standard output" grep -q '^digraph "xor" {' "$tmp/stdout.dot"

# ---- --help: every subcommand and every option the parser accepts
"$LAYERC" --help > "$tmp/help" 2>"$tmp/err"
check "--help exits 0" [ $? -eq 0 ]
check "--help writes to standard output only" [ ! -s "$tmp/err" ]
for cmd in train eval predict check graph summary; do
    check "--help lists 'layerc $cmd'" grep -q "layerc $cmd MODEL" "$tmp/help"
done
# the options are the string literals the argument parser compares with
grep -o '"--*[a-zA-Z][a-zA-Z-]*"' compiler/main.c | tr -d '"' | sort -u > "$tmp/options"
check "options found in compiler/main.c" [ "$(wc -l < "$tmp/options")" -ge 10 ]
while read -r opt; do
    check "--help documents $opt" grep -qE -- "(^|[ ,])$opt([ ,=]|\$)" "$tmp/help"
done < "$tmp/options"
"$LAYERC" -h > "$tmp/help2"
check "-h is --help" cmp -s "$tmp/help" "$tmp/help2"

# ---- --version
version=$(sed -n 's/^#define LAYERC_VERSION "\(.*\)"/\1/p' compiler/version.h)
check "--version prints 'layerc $version'" [ "$("$LAYERC" --version | sed -n 1p)" = "layerc $version" ]
check "--version names the kernels in use on its second line" \
    sh -c "'$LAYERC' --version | sed -n 2p | grep -q '^kernels: [a-z0-9]* ('"

# ---- usage errors: exit 2 and a message, for each way of getting it wrong
usage_error() {
    "$LAYERC" "$@" >/dev/null 2>"$tmp/err"
    status=$?
    if [ $status -eq 2 ] && grep -q '^layerc: error: ' "$tmp/err"; then ok
    else bad "layerc $*: exit status $status, want 2 with a message"; fi
}
usage_error
usage_error --frobnicate samples/xor.lyr
usage_error samples/xor.lyr -o
usage_error samples/xor.lyr
usage_error train samples/xor.lyr
usage_error eval samples/xor.lyr
usage_error predict samples/xor.lyr
usage_error graph samples/xor.lyr
usage_error summary samples/xor.lyr samples/xor.csv
usage_error train samples/xor.lyr samples/xor.csv --epochs 0
usage_error train samples/xor.lyr samples/xor.csv --epochs many
usage_error train samples/xor.lyr samples/xor.csv --batch -1
usage_error train samples/xor.lyr samples/xor.csv --lr abc
usage_error train samples/xor.lyr samples/xor.csv --lr -1
usage_error train samples/xor.lyr samples/xor.csv --seed -5
usage_error train samples/xor.lyr samples/xor.csv extra.csv
usage_error eval samples/xor.lyr samples/xor.csv --test-labels l.idx
"$LAYERC" train samples/xor.lyr 2>"$tmp/err"
check "a missing data file: the message shows the right command" grep -qF "layerc train MODEL.lyr DATA" "$tmp/err"

# ---- the man page: every subcommand and option of --help, and it renders
man=docs/layerc.1
if [ -f "$man" ]; then
    # the source without roff's font changes and escaped hyphens
    sed -e 's/\\f[BIRP]//g' -e 's/\\-/-/g' -e 's/\\(em/--/g' "$man" > "$tmp/man.src"
    while read -r opt; do
        check "the man page documents $opt" grep -qE -- "(^|[^a-zA-Z-])$opt([^a-zA-Z-]|\$)" "$tmp/man.src"
    done < "$tmp/options"
    for cmd in train eval predict check graph summary; do
        check "the man page documents 'layerc $cmd'" grep -q "layerc $cmd" "$tmp/man.src"
    done
    if command -v groff >/dev/null 2>&1; then
        groff -man -Tutf8 -ww -P-cbou "$man" > "$tmp/man.txt" 2>"$tmp/groff.err"
        check "groff renders the man page" [ -s "$tmp/man.txt" ]
        check "groff renders the man page without warnings" [ ! -s "$tmp/groff.err" ]
        [ -s "$tmp/groff.err" ] && head -5 "$tmp/groff.err"
        for section in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS "EXIT STATUS" FILES EXAMPLES; do
            check "the man page has a $section section" grep -q "^$section" "$tmp/man.txt"
        done
    else
        bad "groff is not installed (apt-get install groff-base): the man page is not rendered"
    fi
else
    bad "docs/layerc.1 is missing"
fi

# ---- NumPy reads what lc_npz_save writes, and lc_npz_load reads what numpy writes
npz=$BUILD/tests/test_npz
if [ ! -x "$npz" ]; then
    bad "$npz is not built"
elif ! /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
    bad "numpy is not installed for /usr/bin/python3 (apt-get install python3-numpy): NumPy interop not checked"
else
    "$npz" --save "$tmp/w.npz" && ok || bad "test_npz --save"
    /usr/bin/python3 - "$tmp/w.npz" > "$tmp/py.out" 2>&1 <<'EOF'
import sys, numpy as np
z = np.load(sys.argv[1])
want = {"h.W": (4, 3), "h.b": (4,), "out.W": (2, 4), "out.b": (2,)}
assert sorted(z.files) == sorted(want), z.files
k = 0
for name in ["h.W", "h.b", "out.W", "out.b"]:
    a = z[name]
    assert a.dtype == np.float32, (name, a.dtype)
    assert a.shape == want[name], (name, a.shape)
    assert a.flags["C_CONTIGUOUS"]
    n = a.size
    assert np.array_equal(a.ravel(), np.arange(k, k + n, dtype=np.float32) / 8), (name, a)
    k += n
print("ok")
EOF
    check "numpy.load reads lc_npz_save's archive (names, shapes, dtype, values)" grep -qx ok "$tmp/py.out"
    grep -qx ok "$tmp/py.out" || sed 's/^/    /' "$tmp/py.out"

    /usr/bin/python3 - "$tmp" 2>"$tmp/py.err" <<'EOF'
import sys, numpy as np
d = sys.argv[1]
arrays = {"h.W": np.arange(12, dtype=np.float32).reshape(4, 3) / 4,
          "h.b": np.arange(4, dtype=np.float32) / 4,
          "out.W": np.arange(8, dtype=np.float32).reshape(2, 4) / 4,
          "out.b": np.arange(2, dtype=np.float32) / 4}
np.savez(d + "/savez.npz", **arrays)
np.savez_compressed(d + "/compressed.npz", **arrays)
# float64, and h.W as a Fortran-order array (a transposed view)
mixed = {k: v.astype(np.float64) for k, v in arrays.items()}
mixed["h.W"] = np.asfortranarray(arrays["h.W"])
np.savez(d + "/mixed.npz", **mixed)
bad = dict(arrays); bad["out.W"] = bad["out.W"].T
np.savez(d + "/wrongshape.npz", **bad)
missing = dict(arrays); del missing["h.b"]
np.savez(d + "/missing.npz", **missing)
EOF
    [ -s "$tmp/py.err" ] && cat "$tmp/py.err"
    want='h.W 0 0.25 0.5 0.75 1 1.25 1.5 1.75 2 2.25 2.5 2.75
h.b 0 0.25 0.5 0.75
out.W 0 0.25 0.5 0.75 1 1.25 1.5 1.75
out.b 0 0.25'
    for f in savez compressed mixed; do
        got=$("$npz" --load "$tmp/$f.npz" 2>&1)
        check "lc_npz_load reads numpy's $f.npz" [ "$got" = "$want" ]
    done
    "$npz" --load "$tmp/wrongshape.npz" >/dev/null 2>"$tmp/err"
    check "a wrong shape from numpy is refused, naming the array" \
        grep -qF "array 'out.W' has shape [4, 2] but the model's tensor is [2, 4]" "$tmp/err"
    "$npz" --load "$tmp/missing.npz" >/dev/null 2>"$tmp/err"
    check "a missing array is refused, naming it" grep -qF "no array 'h.b' in the archive" "$tmp/err"
fi

# ---- layerc export and --weights FILE.npz, once the command line has them
if ! grep -q "layerc export" "$tmp/help"; then
    bad "'layerc export' is not in --help"
elif ! /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
    bad "numpy is not installed for /usr/bin/python3: export not checked"
else
    "$LAYERC" train samples/xor.lyr samples/xor.csv --epochs 20 --quiet --save "$tmp/xor.lyw" >/dev/null
    "$LAYERC" export samples/xor.lyr --weights "$tmp/xor.lyw" --npz "$tmp/xor.npz" 2>"$tmp/err"
    check "export writes the .npz" [ -s "$tmp/xor.npz" ]
    "$LAYERC" predict samples/xor.lyr samples/xor.csv --weights "$tmp/xor.lyw" > "$tmp/p_lyw"
    "$LAYERC" predict samples/xor.lyr samples/xor.csv --weights "$tmp/xor.npz" > "$tmp/p_npz"
    check "--weights FILE.npz predicts exactly as the .lyw it came from" cmp -s "$tmp/p_lyw" "$tmp/p_npz"
    check "the predictions are not empty" [ "$(wc -l < "$tmp/p_npz")" -eq 4 ]
    /usr/bin/python3 - "$tmp/xor.npz" "$tmp/zero.npz" > "$tmp/py.out" 2>&1 <<'EOF2'
import sys, numpy as np
z = np.load(sys.argv[1])
shapes = {k: z[k].shape for k in z.files}
assert shapes == {"h.W": (8, 2), "h.b": (8,), "z.W": (1, 8), "z.b": (1,)}, shapes
assert all(z[k].dtype == np.float32 for k in z.files)
np.savez(sys.argv[2], **{k: np.zeros_like(z[k]) for k in z.files})
print("ok")
EOF2
    check "numpy reads the exported xor weights" grep -qx ok "$tmp/py.out"
    "$LAYERC" predict samples/xor.lyr samples/xor.csv --weights "$tmp/zero.npz" > "$tmp/p_zero"
    check "weights edited in numpy are the ones used (all zero: every output 0.5)" \
        [ "$(sort -u "$tmp/p_zero")" = "0.5" ]
    "$LAYERC" export samples/shape.lyr --weights "$tmp/xor.npz" --npz "$tmp/bad.npz" 2>"$tmp/err"
    check "export refuses another model's .npz (exit 1)" [ $? -eq 1 ]
    check "... naming the array" grep -qF "no array 'w2' in the archive" "$tmp/err"
    check "... and writes nothing" [ ! -e "$tmp/bad.npz" ]
    "$LAYERC" export samples/xor.lyr --npz "$tmp/x.npz" 2>/dev/null
    check "export without --weights is a usage error" [ $? -eq 2 ]
fi

finish "tools"
