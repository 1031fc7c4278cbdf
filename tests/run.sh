#!/bin/sh
# Runs every test group and prints their sum as the last line:
# "N passed, N failed".  Each group prints "GROUP: N passed, N failed".
BUILD=${BUILD:-build}
export LAYERC=${LAYERC:-./layerc}
cd "$(dirname "$0")/.." || exit 1
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    "$t" 2>&1 | tee -a "$log" | grep -E 'passed|FAIL|failed' || echo "$t: 0 passed, 1 failed (crashed)" | tee -a "$log"
done
for s in tests/t_*.sh; do
    [ -f "$s" ] || continue
    sh "$s" 2>&1 | tee -a "$log" | grep -E 'passed, [0-9]+ failed|FAIL' || echo "$s: 0 passed, 1 failed (no summary)" | tee -a "$log"
done
awk '/: [0-9]+ passed, [0-9]+ failed/ {
        for (i = 1; i <= NF; i++) {
            if ($(i) ~ /^passed,?$/) p += $(i-1);
            if ($(i) ~ /^failed/) f += $(i-1);
        }
     }
     END { printf "%d passed, %d failed\n", p, f; exit (f > 0) }' "$log"
