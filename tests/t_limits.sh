#!/bin/sh
# Limits (docs/ROBUSTNESS.md): every input past a documented limit, and every
# input that is not what it should be, is refused with a message that names
# the file (and the place, when there is one) and exit status 1; no output is
# ever left half written, and no temporary file is left behind.
#
# Also replays the fuzz targets' seeds and regression inputs
# (tests/fuzz/{corpus,regressions}/TARGET/) through the targets built with
# the ordinary compiler: every input that once crashed stays fixed.
. "$(dirname "$0")/lib.sh"


# refuse NAME WANT_STATUS PATTERN -- ARGS...: layerc ARGS exits with
# WANT_STATUS, prints PATTERN (a fixed string) on stderr, within 10 seconds,
# and writes no output beside $tmp/out.c.
refuse() {
    name=$1 want=$2 pattern=$3
    shift 4
    rm -f "$tmp/out.c" "$tmp/out.h"
    timeout 10 "$LAYERC" "$@" >"$tmp/stdout" 2>"$tmp/stderr"
    status=$?
    if [ $status -eq 124 ]; then bad "$name: took more than 10 s"; return; fi
    if [ $status -ne "$want" ]; then bad "$name: exit status $status, want $want"; sed 's/^/    /' "$tmp/stderr" | head -5; return; fi
    if ! grep -qF -- "$pattern" "$tmp/stderr"; then
        bad "$name: no message '$pattern'"; sed 's/^/    /' "$tmp/stderr" | head -5; return
    fi
    if grep -q 'AddressSanitizer\|runtime error\|LeakSanitizer' "$tmp/stderr"; then bad "$name: sanitizer report"; return; fi
    if [ -e "$tmp/out.c" ] || [ -e "$tmp/out.h" ]; then bad "$name: an output file was written"; return; fi
    ok
}

# A model around one line; $1 is what stands where the input shape goes.
model() {
    printf 'model m;\ninput x%s;\noutput y = dense(x, 1);\nloss mse(y);\n' "$1"
}

# ---- sizes
model '[100000, 100000, 100000]' > "$tmp/overflow.lyr"
refuse "element count overflow" 1 "overflow.lyr:2:8: error: the input is too large" -- "$tmp/overflow.lyr" -o "$tmp/out.c"

printf 'model m;\ninput x[1000000];\noutput y = dense(x, 1000);\nloss mse(y);\n' > "$tmp/weights.lyr"
refuse "weights over the memory limit" 1 "weights.lyr:3:12: error: the weights of the model are too large" -- "$tmp/weights.lyr" -o "$tmp/out.c"

printf 'model m;\ninput x[4000000];\noutput y = relu(x);\nloss mse(y);\ntrain { batch = 256; }\n' > "$tmp/state.lyr"
refuse "state over the memory limit" 1 "state.lyr: error: the model needs about 3.8 GiB of state at batch 256; the limit is 2 GiB" -- "$tmp/state.lyr" -o "$tmp/out.c"

# --batch is applied after the checker has sized the state: it must be sized again
printf 'model m;\ninput x[100000];\noutput y = relu(x);\nloss mse(y);\n' > "$tmp/small.lyr"
refuse "--batch that takes the state over the limit" 2 "--batch 1048576: the model would need about" -- "$tmp/small.lyr" -o "$tmp/out.c" --batch 1048576

# ---- nesting: each a message, not a stack overflow
deep() { awk -v n="$2" -v s="$1" 'BEGIN { for (i = 0; i < n; i++) printf "%s", s }'; }
{ printf 'model m;\ninput x['; deep '(' 100000; printf '1'; deep ')' 100000; printf '];\noutput y = dense(x, 1);\nloss mse(y);\n'; } > "$tmp/parens.lyr"
refuse "100000 nested (" 1 "parens.lyr:2:72: error: nesting too deep (more than 64 levels" -- "$tmp/parens.lyr" -o "$tmp/out.c"
{ printf 'model m;\ninput x[1];\nweight w'; deep '[' 100000; deep ']' 100000; printf ';\noutput y = dense(x, 1);\nloss mse(y);\n'; } > "$tmp/brackets.lyr"
refuse "100000 nested [" 1 "brackets.lyr:3:73: error: nesting too deep" -- "$tmp/brackets.lyr" -o "$tmp/out.c"
{ printf 'model m;\ninput x[1];\nweight w[1] = '; deep '-' 100000; printf '1;\noutput y = dense(x, 1);\nloss mse(y);\n'; } > "$tmp/minus.lyr"
refuse "100000 unary minus signs" 1 "minus.lyr:3:" -- "$tmp/minus.lyr" -o "$tmp/out.c"
grep -qF "error: expression nested too deeply for the parser" "$tmp/stderr" && ok || bad "100000 unary minus signs: message"

# ---- names and lines
long=$(deep a 300)
model "[1]; layer $long = relu(x)" > "$tmp/longname.lyr"
refuse "name over 255 characters" 1 "longname.lyr:2:19: error: name too long (300 characters; the limit is 255)" -- "$tmp/longname.lyr" -o "$tmp/out.c"
model "[1]; layer $(deep b 255) = relu(x)" > "$tmp/name255.lyr"
"$LAYERC" "$tmp/name255.lyr" -o "$tmp/out.c" 2>"$tmp/stderr" && ok || { bad "a 255-character name is accepted"; cat "$tmp/stderr"; }
rm -f "$tmp/out.c" "$tmp/out.h"

# a 2 MB line is fine; an error at its end is shown at its column, with an
# excerpt of the line, not the whole of it
{ printf 'model m;\ninput x[1];'; deep ' ' 2000000; printf 'output y = dense(x, 1) qq;\nloss mse(y);\n'; } > "$tmp/longline.lyr"
refuse "error on a 2 MB line" 1 "longline.lyr:2:2000035: error: syntax error: expected ';' before 'qq'" -- "$tmp/longline.lyr" -o "$tmp/out.c"
[ "$(wc -c < "$tmp/stderr")" -lt 2000 ] && ok || bad "error on a 2 MB line: the message is $(wc -c < "$tmp/stderr") bytes"
{ printf 'model m;\ninput x[1]; # '; deep c 2000000; printf '\noutput y = dense(x, 1);\nloss mse(y);\n'; } > "$tmp/longcomment.lyr"
"$LAYERC" "$tmp/longcomment.lyr" -o "$tmp/out.c" 2>"$tmp/stderr" && ok || bad "a 2 MB comment line is accepted"
rm -f "$tmp/out.c" "$tmp/out.h"

# ---- bytes that are not text
printf 'model m;\ninput x\000[1];\noutput y = dense(x, 1);\nloss mse(y);\n' > "$tmp/nul.lyr"
refuse "NUL byte" 1 "nul.lyr:2:8: error: NUL byte in the file" -- "$tmp/nul.lyr" -o "$tmp/out.c"
printf 'model m;\ninput x\377\376[1];\noutput y = dense(x, 1);\nloss mse(y);\n' > "$tmp/utf8.lyr"
refuse "invalid UTF-8" 1 "utf8.lyr:2:8: error: invalid UTF-8 (byte 0xff)" -- "$tmp/utf8.lyr" -o "$tmp/out.c"
printf 'model m;\ninput x\342\200\231[1];\noutput y = dense(x, 1);\nloss mse(y);\n' > "$tmp/quote.lyr"
refuse "a typographic quote" 1 "quote.lyr:2:8: error: non-ASCII character U+2019" -- "$tmp/quote.lyr" -o "$tmp/out.c"

# ---- files that are not model files
truncate -s 100M "$tmp/big.lyr"
start=$(date +%s)
refuse "a 100 MB model" 1 "big.lyr' is too large (the limit is 16 MiB)" -- "$tmp/big.lyr" -o "$tmp/out.c"
[ $(($(date +%s) - start)) -le 2 ] && ok || bad "a 100 MB model: refused after $(($(date +%s) - start)) s"
refuse "/dev/zero as the model" 1 "'/dev/zero' is too large" -- /dev/zero -o "$tmp/out.c"
mkdir "$tmp/adir"
refuse "a directory as the model" 1 "'$tmp/adir' is a directory, not a model file" -- "$tmp/adir" -o "$tmp/out.c"
: > "$tmp/empty.lyr"
refuse "an empty model" 1 "empty.lyr:1:1: error: missing \`model NAME;\`" -- "$tmp/empty.lyr" -o "$tmp/out.c"
refuse "a missing model" 1 "cannot open '$tmp/none.lyr'" -- "$tmp/none.lyr" -o "$tmp/out.c"

# ---- data files that are not data
cp samples/xor.lyr samples/xor.csv "$tmp/"
refuse "/dev/zero as data" 1 "/dev/zero: error:" -- eval "$tmp/xor.lyr" /dev/zero
refuse "a directory as data" 1 "$tmp/adir: error: is a directory, not a data file" -- eval "$tmp/xor.lyr" "$tmp/adir"
printf '\000\000\010\002\000\000\000\001\000\000\000\002\000\377' > "$tmp/one-image.idx"   # 1 image of 2 bytes
refuse "a directory as labels" 1 "$tmp/adir: error: is a directory, not a data file" -- eval "$tmp/xor.lyr" "$tmp/one-image.idx" --labels "$tmp/adir"
# an endless line (a pipe without newlines) is refused, not read into all memory
refuse_pipe() {
    mkfifo "$tmp/endless"
    (yes 1, 2>/dev/null | tr -d '\n' > "$tmp/endless") &
    feeder=$!
    timeout 20 "$LAYERC" eval "$tmp/xor.lyr" "$tmp/endless" >/dev/null 2>"$tmp/stderr"
    status=$?
    kill $feeder 2>/dev/null
    wait $feeder 2>/dev/null
    if [ $status -eq 1 ] && grep -qF "endless:1: error: line too long" "$tmp/stderr"; then ok
    else bad "an endless CSV line: status $status"; head -3 "$tmp/stderr"; fi
}
refuse_pipe
refuse "weights that are a directory" 1 "is a directory" -- eval "$tmp/xor.lyr" "$tmp/xor.csv" --weights "$tmp/adir"
refuse "/dev/zero as weights" 1 "/dev/zero: error:" -- eval "$tmp/xor.lyr" "$tmp/xor.csv" --weights /dev/zero

# ---- outputs that cannot be written: exit 1, a message naming the path,
# nothing written, an existing file left as it was
refuse "-o in a missing directory" 1 "/nonexistent/dir/m" -- "$tmp/xor.lyr" -o /nonexistent/dir/m.c
[ ! -e /nonexistent/dir/m.c ] && [ ! -e /nonexistent/dir/m.h ] && ok || bad "-o in a missing directory: a file was written"

mkdir "$tmp/ro"
echo "old c" > "$tmp/ro/m.c"
echo "old h" > "$tmp/ro/m.h"
chmod 555 "$tmp/ro"
if [ -w "$tmp/ro" ]; then
    # root writes anywhere: /proc is a directory nobody can create files in
    unwritable=/proc
else
    unwritable=$tmp/ro
fi
refuse "-o in a read-only directory" 1 "$unwritable/m" -- "$tmp/xor.lyr" -o "$unwritable/m.c"
[ "$(cat "$tmp/ro/m.c")" = "old c" ] && [ "$(cat "$tmp/ro/m.h")" = "old h" ] && ok || bad "read-only directory: the old files changed"
chmod 755 "$tmp/ro"

# The header is written before the source: when the source then fails, the
# header must not be left behind (or changed) either.
mkdir "$tmp/w"
echo "old h" > "$tmp/w/m.h"
refuse "source unwritable, header writable" 1 "$unwritable/m.c" -- "$tmp/xor.lyr" -o "$unwritable/m.c" -H "$tmp/w/m.h"
[ "$(cat "$tmp/w/m.h")" = "old h" ] && ok || bad "source unwritable: the header was rewritten all the same"
rm -f "$tmp/w/m.h"
"$LAYERC" "$tmp/xor.lyr" -o "$unwritable/m.c" -H "$tmp/w/new.h" 2>/dev/null
[ ! -e "$tmp/w/new.h" ] && ok || bad "source unwritable: a new header was left behind"
echo "old c" > "$tmp/w/m.c"
refuse "header unwritable" 1 "$unwritable/m.h" -- "$tmp/xor.lyr" -o "$tmp/w/m.c" -H "$unwritable/m.h"
[ "$(cat "$tmp/w/m.c")" = "old c" ] && ok || bad "header unwritable: the source changed"

refuse "-o over the model itself" 2 "would overwrite the model file" -- "$tmp/xor.lyr" -o "$tmp/xor.lyr"
cmp -s "$tmp/xor.lyr" samples/xor.lyr && ok || bad "-o over the model: the model changed"
refuse "graph into a missing directory" 1 "/nonexistent/dir/g.dot" -- graph "$tmp/xor.lyr" -o /nonexistent/dir/g.dot
refuse "--save into a missing directory" 1 "/nonexistent/dir/w.lyw" -- train "$tmp/xor.lyr" "$tmp/xor.csv" --epochs 1 --quiet --save /nonexistent/dir/w.lyw

# no temporary file anywhere after all of the above
left=$(find "$tmp" -name '*.tmp.*' | head -3)
[ -z "$left" ] && ok || bad "temporary files left behind: $left"

echo "limits: $pass passed, $fail failed"
limits_failed=$fail

# ---- fuzz regressions: every seed and every input that once failed
pass=0 fail=0
CC=${CC:-cc}
san=
if nm "$BUILD/liblayerc.a" 2>/dev/null | grep -q __asan_init; then
    san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
fi
for target in frontend data weights npz; do
    src=tests/fuzz/fuzz_$target.c
    [ -f "$src" ] || continue
    if ! $CC -std=c11 -g -O1 $san -D_DEFAULT_SOURCE -Icompiler -Iruntime -I"$BUILD" -o "$tmp/replay_$target" \
            "$src" tests/fuzz/replay.c "$BUILD/liblayerc.a" -ltcc -lprotobuf-c -lz -lm -ldl -lpthread 2>"$tmp/cc.err"; then
        bad "fuzz $target: replay does not build"; head -5 "$tmp/cc.err"; continue
    fi
    set --
    for f in tests/fuzz/corpus/$target/* tests/fuzz/regressions/$target/*; do
        [ -f "$f" ] && set -- "$@" "$f"
    done
    [ $# -gt 0 ] || { bad "fuzz $target: no inputs to replay"; continue; }
    # one process for all of a target's inputs; the last one it names is the culprit
    if timeout 120 "$tmp/replay_$target" "$@" >"$tmp/replay.out" 2>"$tmp/replay.err"; then
        n=$(sed -n 's/^replayed \([0-9]*\) inputs$/\1/p' "$tmp/replay.out")
        pass=$((pass + ${n:-0}))
        [ "${n:-0}" -gt 0 ] || bad "fuzz $target: nothing replayed"
    else
        bad "fuzz $target: $(grep '^replay: ' "$tmp/replay.err" | tail -n 1 | sed 's/^replay: //')"
        grep -v '^replay: ' "$tmp/replay.err" | head -10
    fi
done
echo "fuzz regressions: $pass passed, $fail failed"
[ $fail -eq 0 ] && [ $limits_failed -eq 0 ]
