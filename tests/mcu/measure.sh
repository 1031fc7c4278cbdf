#!/bin/sh
# measure.sh [--update FILE]: the figures of docs/FIRMWARE.md, measured on
# QEMU: flash, RAM, peak stack and instructions per inference of the Fashion
# MLP and CNN (Cortex-M4F at -Os and -O2, ARMv6-M code at -Os), and the
# on-device fine-tuning of the CNN's last layer.  Prints Markdown; with
# --update, writes it into FILE between the lines
# "<!-- measure.sh begin -->" and "<!-- measure.sh end -->".
# Takes the environment of tests/mcu/common.sh (MCU_LAYERC_FLAGS, ...).
cd "$(dirname "$0")/../.." || exit 1
LAYERC=${LAYERC:-./layerc}
. tests/mcu/common.sh
update=""
if [ "$1" = --update ]; then
    update=$2
    [ -f "$update" ] && grep -q '^<!-- measure.sh begin -->$' "$update" &&
        grep -q '^<!-- measure.sh end -->$' "$update" ||
        { echo "measure.sh: $update has no measure.sh begin/end lines" >&2; exit 2; }
elif [ $# -gt 0 ]; then
    echo "usage: measure.sh [--update FILE]" >&2
    exit 2
fi
missing=$(mcu_missing)
if [ -n "$missing" ]; then
    echo "measure.sh: missing Debian packages: $missing" >&2
    exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "measure.sh: $*" >&2; exit 1; }
N=5
mcu_data "$tmp" $N

# kb BYTES: "944,752" style
kb() { printf "%d" "$1" | sed ':a; s/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/; ta'; }
table="$tmp/table.md"
{
    echo "Measured by \`tests/mcu/measure.sh\` with $(arm-none-eabi-gcc --version | head -1)," \
         "$(qemu-system-arm --version | head -1 | sed 's/ (.*//')," \
         "layerc --target mcu ${MCU_LAYERC_FLAGS:+$MCU_LAYERC_FLAGS }--batch 1 (inference: --inference; fine-tuning: --fuse-update), weights trained for 2 epochs on 2,000 images." \
         "Bytes; instructions are the mean over $N test images, to the timer's step of 40."
    echo
    echo "| model | core, flags | fits $MCU_FLASH flash / $MCU_RAM RAM | model code | model constants | C library | state (RAM) | peak stack | instructions per inference |"
    echo "|---|---|---|---:|---:|---:|---:|---:|---:|"
} > "$table"
for model in fashion_mlp fashion_cnn; do
    mcu_train "$tmp" $model || fail "$model does not train: $(cat "$tmp/$model.train")"
    mcu_generate samples/$model.lyr "$tmp/$model.lyw" "$tmp/$model" --inference --target mcu ||
        fail "$model: $(cat "$tmp/$model/layerc.log")"
    for config in m4f:-Os m4f:-O2 m0plus:-Os; do
        cpu=${config%%:*} opt=${config#*:}
        MCU_CPU=$cpu MCU_OPT=$opt mcu_build_run "$tmp/$model-$cpu$opt" tests/mcu/infer.c "$tmp/$model" "$tmp" ||
            fail "$model on $cpu $opt does not build: $(cat "$tmp/$model-$cpu$opt"*.log)"
        [ "$mcu_status" = 0 ] || fail "$model on $cpu $opt: exit status $mcu_status: $(tail -3 "$mcu_out")"
        mcu_map_sizes "${mcu_elf%.elf}.map"
        mcu_costs "$mcu_out"
        case $cpu in m4f) core="Cortex-M4F" ;; m0plus) core="Cortex-M0+ code (on an M3)" ;; esac
        if [ $mcu_fit = yes ]; then fits=yes; else fits="no: $mcu_why"; fi
        echo "| $model | $core, $opt | $fits | $(kb $mcu_model_code) | $(kb $mcu_model_const) |" \
             "$(kb $mcu_lib_code) | $(kb $mcu_state) | $(kb $mcu_stack) | $(kb $mcu_insns) |" >> "$table"
    done
done

mcu_zero_last "$tmp/fashion_cnn.lyw" 7850 "$tmp/finetune.lyw"
mcu_generate samples/fashion_cnn_finetune.lyr "$tmp/finetune.lyw" "$tmp/finetune" --target mcu --fuse-update ||
    fail "fine-tuning: $(cat "$tmp/finetune/layerc.log")"
{
    echo
    echo "On-device training (\`tests/mcu/finetune.c\`, \`samples/fashion_cnn_finetune.lyr\`): the"
    echo "CNN's convolutions frozen and baked, its last layer zeroed, then 300 calls of"
    echo "\`train_step\` with n = 1 on the Cortex-M4F; accuracy on 200 held-out images."
    echo
    echo "| build | fits $MCU_FLASH / $MCU_RAM | model code | model constants | training state (RAM) | peak stack of train_step | instructions per train_step (most) | accuracy before -> after |"
    echo "|---|---|---:|---:|---:|---:|---:|---|"
} >> "$table"
for opt in -Os -O2; do
    MCU_OPT=$opt mcu_build_run "$tmp/finetune/m4f$opt" tests/mcu/finetune.c "$tmp/finetune" "$tmp" ||
        fail "fine-tuning $opt does not build: $(cat "$tmp/finetune/m4f$opt"*.log)"
    [ "$mcu_status" = 0 ] || fail "fine-tuning $opt: exit status $mcu_status: $(tail -3 "$mcu_out")"
    mcu_map_sizes "${mcu_elf%.elf}.map"
    if [ $mcu_fit = yes ]; then fits=yes; else fits="no: $mcu_why"; fi
    eval "$(awk '$1 == "state" { printf "st=%d ", $2 } $1 == "step" { printf "ins=%d stack=%d ", $2, $3 }
                 $1 == "accuracy" { printf "%s=%d/%d ", $2, $3, $4 }' "$mcu_out")"
    echo "| Cortex-M4F, $opt | $fits | $(kb $mcu_model_code) | $(kb $mcu_model_const) | $(kb $st) |" \
         "$(kb $stack) | $(kb $ins) | $before -> $after |" >> "$table"
done

{
    echo
    echo "Warnings of the generated C (arm-none-eabi-gcc, Cortex-M4F, -Os and -O2, with"
    echo "\`-Wall -Wextra -pedantic -Wdouble-promotion -Wshadow -Wsign-conversion\`):"
    echo
    for model in fashion_mlp fashion_cnn finetune; do
        echo "- $model: $(mcu_warnings "$tmp/$model" "$tmp/$model.warnings")"
        # each warning but -Wsign-conversion's, with the function gcc names before it
        awk -v q="'" '
            index($0, "In function " q) {
                fn = substr($0, index($0, "In function " q) + 13); fn = substr(fn, 1, index(fn, q) - 1) }
            /warning:/ && !/Wsign-conversion/ {
                w = $0; sub(/^.*model\.c:/, "", w); n = w; sub(/:.*/, "", n)
                sub(/^[0-9]+:[0-9]+: warning: /, "", w); print n "\t" fn "\t" w }' \
            "$tmp/$model.warnings" | sort -u | sort -n |
            awk -F'\t' '{ printf "    - line %s, in `%s`: %s\n", $1, $2, $3 }'
    done
} >> "$table"

if [ -z "$update" ]; then
    cat "$table"
else
    awk -v table="$table" '
        /^<!-- measure.sh end -->$/ { skip = 0 }
        !skip { print }
        /^<!-- measure.sh begin -->$/ { while ((getline line < table) > 0) print line; skip = 1 }
    ' "$update" > "$update.tmp" && mv "$update.tmp" "$update"
fi
