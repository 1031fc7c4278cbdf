#!/bin/sh
# The generated C on emulated microcontrollers (docs/FIRMWARE.md): the
# Fashion MLP and CNN, trained briefly through the JIT and baked with
# --weights, run on QEMU's mps2-an386 (Cortex-M4F) and, for the MLP, as
# ARMv6-M (Cortex-M0+) code on mps2-an385's Cortex-M3, and must classify the
# test images as `layerc predict` does; the CNN with its convolutions frozen
# fine-tunes its last layer on the device and gets better on held-out images.
#
# The models run twice: as firmware is built (layerc --target mcu, the
# small-core kernels) on the M4F at -Os and -O2 and, for the MLP, as M0+
# code; and with the host's kernels (portable C too) on the M4F at -Os.
# The fit checks are the goals of issue 13 for the firmware builds (RAM,
# stack, instructions, fitting the part, no firmware warnings): checks of
# the group, or only reported with MCU_FIT_CHECKS=0.
# MCU_LAYERC_FLAGS: more layerc options for every model; MCU_SAMPLES: test
# images (default 20); MCU_FLASH, MCU_RAM: the part (default 1024K, 128K).
. "$(dirname "$0")/lib.sh"
. tests/mcu/common.sh
N=${MCU_SAMPLES:-20}
MCU_FIT_CHECKS=${MCU_FIT_CHECKS:-1}
missing=$(mcu_missing)
if [ -n "$missing" ]; then
    bad "mcu: missing Debian packages: $missing (tests/deps.sh and .ci/run must install them)"
    finish "mcu"
fi

# ---- the board: exit status, faults, and the meters, validated --------------
for cpu in m4f m0plus; do
    MCU_CPU=$cpu sh tests/mcu/build.sh "$tmp/status-$cpu.elf" tests/mcu/selftest.c - &&
    MCU_CPU=$cpu sh tests/mcu/run.sh "$tmp/status-$cpu.elf" > "$tmp/status-$cpu.out"
    [ $? -eq 42 ] && grep -q "^returning 42" "$tmp/status-$cpu.out"
    result $? "$cpu: a program's exit status 42 reaches the shell through semihosting"
    MCU_CPU=$cpu MCU_DEFS=-DSELFTEST_FAULT sh tests/mcu/build.sh "$tmp/fault-$cpu.elf" tests/mcu/selftest.c - &&
    MCU_CPU=$cpu sh tests/mcu/run.sh "$tmp/fault-$cpu.elf" > "$tmp/fault-$cpu.out"
    [ $? -eq 127 ] && grep -q "^fault: exception 0x00000003 at pc" "$tmp/fault-$cpu.out"
    result $? "$cpu: a bus fault is reported and exits with 127: $(cat "$tmp/fault-$cpu.out")"
    MCU_CPU=$cpu sh tests/mcu/build.sh "$tmp/calib-$cpu.elf" tests/mcu/calib.c - &&
    MCU_CPU=$cpu sh tests/mcu/run.sh "$tmp/calib-$cpu.elf" > "$tmp/calib-$cpu.out"
    result $? "$cpu: the meter calibration runs: $(cat "$tmp/calib-$cpu.log" "$tmp/calib-$cpu.out" 2>/dev/null)"
    # within one timer step (40 instructions) plus the call around the loop
    awk '$1 == "loop" { n++; d = $5 - $3 * $4; if (d < 0) d = -d; if (d > 40 + 40) bad = 1 }
         END { exit bad || n != 6 }' "$tmp/calib-$cpu.out"
    result $? "$cpu: the instruction counter counts loops of known length within 80: $(grep loop "$tmp/calib-$cpu.out" | tr '\n' ';')"
    awk '$1 == "stack" && NF == 3 && $3 >= 1024 && $3 <= 1056 { ok = 1 } END { exit !ok }' "$tmp/calib-$cpu.out"
    result $? "$cpu: the stack meter measures a function with a 1,024-byte array as 1,024 to 1,056 bytes: $(grep stack "$tmp/calib-$cpu.out")"
done

# ---- inference: the device gives layerc predict's outputs -------------------
mcu_data "$tmp" "$N"
# same_outputs OUT PREDICT WHAT: the run ended well and its outputs are predict's
same_outputs() {
    [ "$mcu_status" = 0 ] && grep -q '^end$' "$1"
    result $? "$3: runs to the end, exit status $mcu_status: $(tail -2 "$1")"
    awk -f tests/mcu/floats.awk "$1" > "$1.csv"
    [ "$(wc -l < "$1.csv")" -eq "$N" ]
    result $? "$3: outputs for all $N images"
    # the argmax of every row, then the values within 1e-5 relative
    for f in "$1.csv" "$2"; do
        awk -F, '{ b = 1; for (i = 2; i <= NF; i++) if ($i + 0 > $b + 0) b = i; print b - 1 }' "$f" > "$f.argmax"
    done
    cmp -s "$1.csv.argmax" "$2.argmax"
    result $? "$3: the same class as layerc predict on every image"
    same_numbers "$1.csv" "$2" 2> "$1.diff"
    result $? "$3: outputs within 1e-5 of layerc predict's: $(head -3 "$1.diff")"
}
# figures LABEL: one line of what the run measured
figures() {
    mcu_sizes "$mcu_elf"
    mcu_costs "$mcu_out"
    echo "  $1: flash $mcu_flash B (code $mcu_text, constants $mcu_rodata, data $mcu_data_bytes)," \
         "RAM $mcu_ram B (state $mcu_state), forward: $mcu_insns instructions," \
         "stack $mcu_stack B; fits $MCU_FLASH/$MCU_RAM: $mcu_fit${mcu_why:+ ($mcu_why)}"
}
for model in fashion_mlp fashion_cnn; do
    mcu_train "$tmp" $model
    result $? "$model trains on the host: $(tail -3 "$tmp/$model.train")"
    "$LAYERC" predict samples/$model.lyr "$tmp/test-images" --labels "$tmp/test-labels" \
        --weights "$tmp/$model.lyw" > "$tmp/$model.predict"
    result $? "$model: layerc predict"
    for kernels in mcu host; do
        dir=$tmp/$model-$kernels
        if [ $kernels = mcu ]; then
            mcu_generate samples/$model.lyr "$tmp/$model.lyw" "$dir" --inference --target mcu
        else
            mcu_generate samples/$model.lyr "$tmp/$model.lyw" "$dir" --inference
        fi
        result $? "$model ($kernels kernels): layerc writes the baked inference C: $(cat "$dir/layerc.log")"
        configs="m4f:-Os"
        if [ $kernels = mcu ]; then
            eval "${model}_warnings=\$(mcu_warnings \"$dir\" \"$tmp/$model.warnings\")"
            configs="$configs m4f:-O2"
            [ $model = fashion_mlp ] && configs="$configs m0plus:-Os"
        fi
        for config in $configs; do
            cpu=${config%%:*} opt=${config#*:}
            what="$model ($kernels kernels) on $cpu $opt"
            MCU_CPU=$cpu MCU_OPT=$opt mcu_build_run "$dir/$cpu$opt" tests/mcu/infer.c "$dir" "$tmp"
            result $? "$what builds: $(cat "$dir/$cpu$opt"*.log | head -20)"
            [ -f "$mcu_out" ] || continue
            if [ $opt = -Os ]; then
                ! mcu_model_warnings "${mcu_elf%.elf}.log" > "$tmp/warned"
                result $? "$what: the model's C builds without warnings (-Wall -Wextra -pedantic): $(head -5 "$tmp/warned")"
            fi
            same_outputs "$mcu_out" "$tmp/$model.predict" "$what"
            figures "$what"
            defined=$(mcu_state_define "$dir")
            [ -n "$defined" ] && [ "$defined" = "$mcu_state" ]
            result $? "$what: the header's STATE_BYTES (${defined:-missing}) is sizeof the state ($mcu_state)"
            if [ $kernels:$config = mcu:m4f:-Os ]; then
                said=$("$LAYERC" summary samples/$model.lyr --weights "$tmp/$model.lyw" --batch 1 --inference \
                       --target mcu $MCU_LAYERC_FLAGS | awk '$1 == "RAM" { print $2 }')
                [ "$said" = "$mcu_state" ]
                result $? "$what: layerc summary's RAM ($said) is the sizeof the device prints ($mcu_state)"
                eval "${model}_fit=\$mcu_fit ${model}_why=\"\$mcu_why\" ${model}_state=\$mcu_state" \
                     "${model}_stack=\$mcu_stack ${model}_insns=\$mcu_insns ${model}_flash=\$mcu_flash"
            fi
        done
    done
done

# ---- training on the device: the CNN's last layer, from zero ---------------
# fashion_cnn.lyw fits fashion_cnn_finetune.lyr; logits.W and logits.b, the
# last 7,850 values, are zeroed: the device starts from chance (every image
# class 0) and must learn them from its 300 images.
mcu_zero_last "$tmp/fashion_cnn.lyw" 7850 "$tmp/finetune.lyw"
mcu_generate samples/fashion_cnn_finetune.lyr "$tmp/finetune.lyw" "$tmp/finetune" --target mcu --fuse-update
result $? "fashion_cnn_finetune: layerc writes the training C with the trained convolutions: $(cat "$tmp/finetune/layerc.log")"
finetune_warnings=$(mcu_warnings "$tmp/finetune" "$tmp/finetune.warnings")
mcu_build_run "$tmp/finetune/m4f" tests/mcu/finetune.c "$tmp/finetune" "$tmp"
result $? "fine-tuning builds for the M4F: $(cat "$tmp/finetune/m4f"*.log | head -20)"
[ "$mcu_status" = 0 ] && grep -q '^end$' "$mcu_out"
result $? "fine-tuning runs to the end on the M4F, exit status $mcu_status: $(tail -2 "$mcu_out")"
before=$(awk '$1 == "accuracy" && $2 == "before" { print $3 }' "$mcu_out")
after=$(awk '$1 == "accuracy" && $2 == "after" { print $3 }' "$mcu_out")
# a zero last layer gives equal outputs, whose argmax is the first: class 0
zeros=$(tail -c +9 "$tmp/held-labels" | od -An -v -tu1 | tr -s ' ' '\n' | grep -c '^0$')
[ "$before" = "$zeros" ]
result $? "fine-tuning starts from a zero last layer: class 0 for every held-out image ($before right, $zeros are class 0)"
awk -v b="$before" -v a="$after" 'BEGIN { exit !(b != "" && a != "" && a - b >= 50) }'
result $? "fine-tuning on the device: held-out accuracy rises by at least 50 of 200 images (before $before, after $after)"
loss=$(awk '$1 == "epoch" { print "out 0 0 " $3 }' "$mcu_out" | awk -f tests/mcu/floats.awk)
awk -v l="$loss" 'BEGIN { exit !(l != "" && l + 0 > 0 && l + 0 < 2.302585) }'
result $? "fine-tuning: the mean training loss ($loss) is below the start's log(10)"
# the same driver on the host: the same arithmetic, within rounding
cc -std=c99 -O2 -ffp-contract=off -Itests/mcu -I"$tmp/finetune" -I"$tmp" \
    -DMODEL="$(mcu_prefix "$tmp/finetune")" tests/mcu/finetune.c tests/mcu/host.c tests/mcu/out.c \
    "$tmp/finetune/model.c" -lm -o "$tmp/finetune/host" && "$tmp/finetune/host" > "$tmp/finetune/host.out"
result $? "fine-tuning builds and runs on the host"
host_after=$(awk '$1 == "accuracy" && $2 == "after" { print $3 }' "$tmp/finetune/host.out")
[ "$(grep '^accuracy before' "$tmp/finetune/host.out")" = "$(grep '^accuracy before' "$mcu_out")" ] &&
awk -v d="$after" -v h="$host_after" 'BEGIN { x = d - h; if (x < 0) x = -x; exit !(h != "" && x <= 4) }'
result $? "fine-tuning: the device's accuracies are the host's (after: device $after, host $host_after, within 4)"
ft_state=$(awk '$1 == "state" { print $2 }' "$mcu_out")
said=$("$LAYERC" summary samples/fashion_cnn_finetune.lyr --weights "$tmp/finetune.lyw" --batch 1 --target mcu \
       --fuse-update $MCU_LAYERC_FLAGS | awk '$1 == "RAM" { print $2 }')
[ "$said" = "$ft_state" ]
result $? "fine-tuning: layerc summary's RAM ($said) is the sizeof the device prints ($ft_state)"
ft_insns=$(awk '$1 == "step" { print $2 }' "$mcu_out")
ft_stack=$(awk '$1 == "step" { print $3 }' "$mcu_out")
ft_fit=$mcu_fit ft_why=$mcu_why
echo "  fine-tuning on m4f -Os: state $ft_state B, train_step: $ft_insns instructions, stack $ft_stack B;" \
     "accuracy $before -> $after of 200; fits $MCU_FLASH/$MCU_RAM: $mcu_fit${mcu_why:+ ($mcu_why)}"

# ---- the fit checks: the goals of issue 13 ----------------------------------
# goal WHAT CONDITION: a check (only reported with MCU_FIT_CHECKS=0)
goal() {
    if eval "$2"; then met=met; else met="NOT met"; fi
    if [ "$MCU_FIT_CHECKS" = 1 ]; then
        [ "$met" = met ]
        result $? "fit check: $1"
    else
        echo "  fit check ($met; not enforced with MCU_FIT_CHECKS=0): $1"
    fi
}
part="$MCU_FLASH flash / $MCU_RAM RAM"
goal "fashion_mlp (--target mcu) links and runs in $part (${fashion_mlp_why:-it does: flash $fashion_mlp_flash B})" \
     '[ "$fashion_mlp_fit" = yes ]'
goal "fashion_cnn (--target mcu) links and runs in $part (${fashion_cnn_why:-it does: flash $fashion_cnn_flash B})" \
     '[ "$fashion_cnn_fit" = yes ]'
goal "fashion_mlp inference state <= 8 KiB (is $fashion_mlp_state B)" '[ "${fashion_mlp_state:-99999999}" -le 8192 ]'
goal "fashion_cnn inference state <= 40 KiB (is $fashion_cnn_state B)" '[ "${fashion_cnn_state:-99999999}" -le 40960 ]'
goal "fashion_mlp forward call stack <= 1 KiB (is $fashion_mlp_stack B)" '[ "${fashion_mlp_stack:-99999}" -le 1024 ]'
goal "fashion_cnn forward call stack <= 1 KiB (is $fashion_cnn_stack B)" '[ "${fashion_cnn_stack:-99999}" -le 1024 ]'
goal "fashion_mlp instructions per inference on the M4F (-Os, --target mcu) <= 1.2 M (is $fashion_mlp_insns)" \
     '[ "${fashion_mlp_insns:-99999999}" -le 1200000 ]'
goal "fine-tuning the CNN's last layer: training state <= 64 KiB (is $ft_state B)" '[ "${ft_state:-99999999}" -le 65536 ]'
goal "fine-tuning: train_step stack <= 1 KiB (is $ft_stack B)" '[ "${ft_stack:-99999}" -le 1024 ]'
goal "fine-tuning links and runs in $part (${ft_why:-it does})" '[ "$ft_fit" = yes ]'
for model in fashion_mlp fashion_cnn finetune; do
    eval "w=\$${model}_warnings"
    goal "the generated C of $model, built for the M4F at -Os and -O2, gives no warnings with -Wall -Wextra -pedantic -Wdouble-promotion -Wshadow -Wsign-conversion (gives: $w)" \
         '[ "$w" = none ]'
done
finish "mcu"
