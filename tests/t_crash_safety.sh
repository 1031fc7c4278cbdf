#!/bin/sh
# Kill layerc (SIGKILL) at random moments while it saves weights every epoch:
# the weights file must always be a complete, loadable file, old or new.
. "$(dirname "$0")/lib.sh"
awk 'BEGIN { srand(1); for (r = 0; r < 64; r++) { for (i = 0; i < 784; i++) printf "%.3f,", rand(); print int(rand() * 10) } }' > "$tmp/data.csv"
M=samples/fashion_mlp.lyr
"$LAYERC" train $M "$tmp/data.csv" --epochs 1 --quiet --save "$tmp/w.lyw" > /dev/null
[ -s "$tmp/w.lyw" ] || { echo "crash safety: 0 passed, 1 failed (no initial weights)"; exit 1; }
for i in 1 2 3 4 5 6 7 8 9 10; do
    "$LAYERC" train $M "$tmp/data.csv" --epochs 100000 --save-every 1 --quiet --save "$tmp/w.lyw" > /dev/null 2>&1 &
    pid=$!
    sleep "0.$((i * 7 % 10))$i"
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    if "$LAYERC" predict $M "$tmp/data.csv" --weights "$tmp/w.lyw" > /dev/null 2> "$tmp/err"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1)); echo "FAIL after kill $i: $(cat "$tmp/err")"
    fi
done
finish "crash safety"
