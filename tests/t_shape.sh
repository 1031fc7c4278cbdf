#!/bin/sh
# SPEC's shape example through both paths: AOT (layerc -o, built by gcc) and
# JIT (layerc predict / eval / train, compiled by tcc).
. "$(dirname "$0")/lib.sh"

# AOT, frozen as in SPEC, and trainable (frozen removed) for the gradient
sed 's/^frozen //' samples/shape.lyr > "$tmp/shape_t.lyr"
for v in frozen trainable; do
    src=samples/shape.lyr; [ $v = trainable ] && src="$tmp/shape_t.lyr"
    mkdir -p "$tmp/$v"
    "$LAYERC" "$src" -o "$tmp/$v/shape.c" &&
    cc -std=c99 -Wall -Wextra -I"$tmp/$v" tests/c/shape_driver.c "$tmp/$v/shape.c" -lm -o "$tmp/$v/driver"
    result $? "AOT build ($v)"
    if [ $v = trainable ]; then "$tmp/$v/driver" trainable > "$tmp/$v/out"; else "$tmp/$v/driver" > "$tmp/$v/out"; fi
    result $? "AOT checks ($v): $(grep FAIL "$tmp/$v/out")"
    n=$(grep -c '^ok' "$tmp/$v/out")
    [ $v = frozen ] && want=7 || want=10
    [ "$n" = "$want" ]; result $? "AOT ($v): $n checks passed, want $want"
done

# the 20-line embedding program of the README
cc -std=c99 -Wall -Wextra -I"$tmp/frozen" samples/shape_main.c "$tmp/frozen/shape.c" -lm -o "$tmp/main" &&
[ "$("$tmp/main" | tr '\n' ' ')" = "0 1 0 " ]
result $? "samples/shape_main.c prints 0 1 0"

# JIT: outputs, loss
"$LAYERC" predict samples/shape.lyr samples/shape.csv > "$tmp/pred"
awk 'BEGIN { split("0 1 0", w) } { d = $1 - w[NR]; if (d < 0) d = -d; if (d > 1e-5) bad = 1 } END { exit bad || NR != 3 }' "$tmp/pred"
result $? "JIT predict gives 0, 1, 0: $(tr '\n' ' ' < "$tmp/pred")"
"$LAYERC" eval samples/shape.lyr samples/shape.csv > "$tmp/eval"
grep -q '^loss 0.16666' "$tmp/eval"
result $? "JIT eval gives loss 1/6: $(cat "$tmp/eval")"
# JIT gradient: one SGD step with lr 1 on the whole batch moves w2 by -gradient
"$LAYERC" train "$tmp/shape_t.lyr" samples/shape.csv --lr 1 --batch 3 --epochs 1 --quiet \
    --save "$tmp/w.lyw" > /dev/null
result $? "JIT train step"
"$LAYERC" predict "$tmp/shape_t.lyr" samples/shape.csv --weights "$tmp/w.lyw" > /dev/null
result $? "JIT reload of the trained weights"
cat > "$tmp/grad.c" <<'C'
#include <stdio.h>
#include <string.h>
/* Reads the three floats of w2 from the end of a .lyw file (values, then a CRC32). */
int main(int argc, char **argv)
{
    FILE *f = fopen(argv[1], "rb");
    unsigned char b[16];
    float w[3];
    if (!f || fseek(f, -16, SEEK_END) || fread(b, 1, 16, f) != 16) return 1;
    memcpy(w, b, 12);
    double w0[3] = { 1.0 / 200, -3000.0 / 11600000, 1.0 / 5800 }, want[3] = { 0, -2000.0 / 3, -1000 };
    int bad = 0;
    for (int j = 0; j < 3; j++) {
        double g = w0[j] - w[j], d = g - want[j];
        printf("%.6g ", g);
        bad |= (d < 0 ? -d : d) > 1e-4 * (want[j] < 0 ? -want[j] : 1);
    }
    return bad;
}
C
cc -o "$tmp/grad" "$tmp/grad.c" && "$tmp/grad" "$tmp/w.lyw" > "$tmp/g"
result $? "JIT gradient is (0, -2000/3, -1000): $(cat "$tmp/g")"
finish "shape example"
