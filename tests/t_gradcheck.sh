#!/bin/sh
# `layerc check` (backward pass vs central finite differences, in double
# precision) on every sample and on random models using every op and loss.
. "$(dirname "$0")/lib.sh"
cc -std=c99 -O1 -o "$tmp/gen" tests/c/gen_models.c || { echo "gradient check: 0 passed, 1 failed"; exit 1; }
"$tmp/gen" "$tmp" ${GRADCHECK_MODELS:-60} ${GRADCHECK_SEED:-1}
for m in samples/*.lyr tests/models/*.lyr "$tmp"/random*.lyr; do
    [ -f "$m" ] || continue
    if "$LAYERC" check "$m" > "$tmp/out" 2>&1 && grep -q 'agrees with finite differences' "$tmp/out" &&
       ! grep -q 'FAILED\|MISMATCH' "$tmp/out"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL layerc check $m"; sed 's/^/    /' "$tmp/out"; sed 's/^/    | /' "$m"
    fi
done
finish "gradient check"
