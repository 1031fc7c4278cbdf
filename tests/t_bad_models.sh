#!/bin/sh
# Every model in tests/bad/ is wrong in a known way.  For each: layerc exits
# with status 1, writes no output file, and prints every diagnostic its
# "# expect: LINE:COL: error: MESSAGE" lines name (as a prefix match of
# "FILE:LINE:COL: error: MESSAGE"; an expectation without LINE:COL matches
# anywhere in the output).
. "$(dirname "$0")/lib.sh"
for f in tests/bad/*.lyr; do
    "$LAYERC" "$f" -o "$tmp/out.c" 2>"$tmp/err" >/dev/null
    status=$?
    ok=1
    if [ $status -ne 1 ]; then echo "FAIL $f: exit status $status, want 1"; ok=0; fi
    if [ -e "$tmp/out.c" ] || [ -e "$tmp/out.h" ]; then echo "FAIL $f: an output file was written"; ok=0; fi
    if grep -q 'AddressSanitizer\|runtime error' "$tmp/err"; then echo "FAIL $f: sanitizer report"; ok=0; fi
    grep '^# expect: ' "$f" | sed 's/^# expect: //' > "$tmp/want"
    [ -s "$tmp/want" ] || { echo "FAIL $f: no '# expect:' line"; ok=0; }
    while IFS= read -r want; do
        case "$want" in
        [0-9]*) grep -qF "$f:$want" "$tmp/err" ;;
        *) grep -qF "$want" "$tmp/err" ;;
        esac || { echo "FAIL $f: missing diagnostic: $want"; echo "  got:"; sed 's/^/    /' "$tmp/err"; ok=0; }
    done < "$tmp/want"
    rm -f "$tmp/out.c" "$tmp/out.h"
    if [ $ok = 1 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
done
finish "bad models"
