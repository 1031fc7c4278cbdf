# common.sh: what tests/t_mcu.sh and tests/mcu/measure.sh share (sourced,
# from the top of the repository, with $LAYERC set).
#
#   MCU_LAYERC_FLAGS  more layerc options for every generated model, e.g.
#                     "--target mcu" (the models are always generated with
#                     --batch 1, and the inference ones with --inference)
#   MCU_FLASH, MCU_RAM  the part the models must fit, default 1024K / 128K
#   MCU_BIG_FLASH, MCU_BIG_RAM  the layout used when they do not, default
#                     4096K / 4096K (all of the boards' two SSRAMs)
. tests/mcu/idx.sh
MCU_DATA=/usr/share/datasets/fashion-mnist
MCU_LAYERC_FLAGS=${MCU_LAYERC_FLAGS-}
MCU_FLASH=${MCU_FLASH:-1024K}
MCU_RAM=${MCU_RAM:-128K}
MCU_BIG_FLASH=${MCU_BIG_FLASH:-4096K}
MCU_BIG_RAM=${MCU_BIG_RAM:-4096K}

# mcu_missing: the Debian packages the harness needs that are not installed.
mcu_missing() {
    _m=""
    command -v arm-none-eabi-gcc >/dev/null 2>&1 || _m="$_m gcc-arm-none-eabi"
    if ! command -v arm-none-eabi-gcc >/dev/null 2>&1 ||
       [ ! -f "$(arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb --specs=nano.specs -print-file-name=libc_nano.a)" ]; then
        _m="$_m libnewlib-arm-none-eabi"
    fi
    command -v qemu-system-arm >/dev/null 2>&1 || _m="$_m qemu-system-arm"
    [ -f $MCU_DATA/train-images-idx3-ubyte.gz ] || _m="$_m dataset-fashion-mnist"
    echo $_m
}

# mcu_data DIR NTEST: the images the harness uses, cut from Fashion-MNIST:
#   DIR/train-{images,labels}  2,000 training images (host training)
#   DIR/test-{images,labels}   the first NTEST test images; DIR/samples.h
#   DIR/finetune_train.h       300 more training images (2,000 to 2,299)
#   DIR/finetune_held.h        200 held-out test images (1,000 to 1,199)
mcu_data() {
    idx_cut $MCU_DATA/train-images-idx3-ubyte.gz 0 2000 "$1/train-images"
    idx_cut $MCU_DATA/train-labels-idx1-ubyte.gz 0 2000 "$1/train-labels"
    idx_cut $MCU_DATA/t10k-images-idx3-ubyte.gz 0 "$2" "$1/test-images"
    idx_cut $MCU_DATA/t10k-labels-idx1-ubyte.gz 0 "$2" "$1/test-labels"
    idx_header "$1/test-images" "$1/test-labels" samples > "$1/samples.h"
    idx_cut $MCU_DATA/train-images-idx3-ubyte.gz 2000 300 "$1/ft-images"
    idx_cut $MCU_DATA/train-labels-idx1-ubyte.gz 2000 300 "$1/ft-labels"
    idx_header "$1/ft-images" "$1/ft-labels" train > "$1/finetune_train.h"
    idx_cut $MCU_DATA/t10k-images-idx3-ubyte.gz 1000 200 "$1/held-images"
    idx_cut $MCU_DATA/t10k-labels-idx1-ubyte.gz 1000 200 "$1/held-labels"
    idx_header "$1/held-images" "$1/held-labels" held > "$1/finetune_held.h"
}

# mcu_train DIR MODEL: trains samples/MODEL.lyr through the JIT on the 2,000
# images, 2 epochs (weights worth testing, not a benchmark): DIR/MODEL.lyw
mcu_train() {
    "$LAYERC" train samples/$2.lyr "$1/train-images" --labels "$1/train-labels" \
        --epochs 2 --lr 0.05 --save "$1/$2.lyw" --quiet > "$1/$2.train" 2>&1
}

# mcu_zero_last IN.lyw FLOATS OUT.lyw: the weights with their last FLOATS
# values (the last tensors of the table) set to zero, the CRC-32 redone (the
# gzip trailer holds the same CRC-32 as docs/WEIGHTS.md, little-endian too).
mcu_zero_last() {
    _size=$(wc -c < "$1")
    { head -c $((_size - 4 - 4 * $2)) "$1"; head -c $((4 * $2)) /dev/zero; } > "$3.body" &&
    { cat "$3.body"; gzip -c < "$3.body" | tail -c 8 | head -c 4; } > "$3" && rm -f "$3.body"
}

# mcu_generate LYR WEIGHTS DIR [FLAGS...]: DIR/model.c and DIR/model.h
mcu_generate() {
    _lyr=$1 _w=$2 _dir=$3
    shift 3
    mkdir -p "$_dir" &&
    "$LAYERC" "$_lyr" --weights "$_w" --batch 1 $MCU_LAYERC_FLAGS "$@" -o "$_dir/model.c" \
        > "$_dir/layerc.log" 2>&1
}

# mcu_overflowed LOG: the link failed because the program does not fit.
mcu_overflowed() { grep -q "overflowed by\|will not fit in region\|no room left in RAM" "$1"; }

# mcu_bytes SIZE: 128K, 1M or 4096 in bytes.
mcu_bytes() {
    case $1 in
    *K) echo $((${1%K} * 1024)) ;;
    *M) echo $((${1%M} * 1048576)) ;;
    *) echo $(($1)) ;;
    esac
}

# mcu_build_run NAME DRIVER MODELDIR INCDIR: builds (tests/mcu/build.sh,
# with MCU_CPU and MCU_OPT) and runs a program, first in the big layout
# (NAME-big.elf, NAME-big.out), where the stack has room and the stack meter
# is right, then, when it fits, in the part's (NAME.elf, NAME.out).  It fits
# when it links there and the most stack the big run used (its stack_total
# line), plus 256 bytes for the console calls, is free above .bss.  Sets
# mcu_fit (yes/no), mcu_why (why not), mcu_layout, mcu_elf and mcu_out (the
# run whose outputs count: the part's when it fits), mcu_status (its exit
# status).  Returns 1 when a build fails other than by not fitting (NAME.log,
# NAME-big.log say why).
mcu_build_run() {
    _name=$1
    shift
    mcu_fit=no mcu_why="" mcu_layout="$MCU_BIG_FLASH flash, $MCU_BIG_RAM RAM"
    mcu_elf=$_name-big.elf mcu_out=$_name-big.out
    MCU_FLASH=$MCU_BIG_FLASH MCU_RAM=$MCU_BIG_RAM sh tests/mcu/build.sh "$mcu_elf" "$@" || return 1
    sh tests/mcu/run.sh "$mcu_elf" > "$mcu_out"
    mcu_status=$?
    if MCU_FLASH=$MCU_FLASH MCU_RAM=$MCU_RAM sh tests/mcu/build.sh "$_name.elf" "$@"; then
        _need=$(awk '$1 == "stack_total" { print $2 }' "$mcu_out")
        _free=$(arm-none-eabi-size -A "$_name.elf" |
                awk -v ram="$(mcu_bytes "$MCU_RAM")" '$1 == ".data" || $1 == ".bss" { ram -= $2 } END { print ram }')
        if [ -n "$_need" ] && [ $((_need + 256)) -le "$_free" ]; then
            mcu_fit=yes mcu_layout="$MCU_FLASH flash, $MCU_RAM RAM"
            mcu_elf=$_name.elf mcu_out=$_name.out
            sh tests/mcu/run.sh "$mcu_elf" > "$mcu_out"
            mcu_status=$?
        else
            mcu_why="the stack needs ${_need:-?} bytes, and $_free are free above .bss"
        fi
    elif mcu_overflowed "$_name.log"; then
        mcu_why=$(grep -o "region .* overflowed by [0-9]* bytes\|no room left in RAM for the stack" \
                  "$_name.log" | tr -d '\140\047' | sort -u | tr '\n' ';' | sed 's/;$//; s/;/; /g')
    else
        return 1
    fi
    return 0
}

# mcu_sizes ELF: sets mcu_text (.text), mcu_rodata (.rodata and the unwind
# tables), mcu_data_bytes (.data), mcu_bss (.bss), and the totals
# mcu_flash = text + rodata + data (its initial values), mcu_ram = data + bss.
mcu_sizes() {
    eval "$(arm-none-eabi-size -A "$1" | awk '
        $1 == ".text" { t += $2 } $1 == ".rodata" || $1 ~ /^\.ARM\.ex/ { r += $2 }
        $1 == ".data" { d += $2 } $1 == ".bss" { b += $2 }
        END { printf "mcu_text=%d mcu_rodata=%d mcu_data_bytes=%d mcu_bss=%d mcu_flash=%d mcu_ram=%d\n",
                     t, r, d, b, t + r + d, d + b }')"
}

# mcu_costs OUT: from an inference driver's output, sets mcu_state (sizeof
# the state), mcu_insns (instructions of a forward call, the mean over the
# images), mcu_insns_min/max, mcu_stack (the deepest forward call's stack).
mcu_costs() {
    eval "$(awk '
        $1 == "state" { s = $2 }
        $1 == "cost" { n++; t += $3; if (n == 1 || $3 < lo) lo = $3; if ($3 > hi) hi = $3
                       if ($4 > st) st = $4 }
        END { printf "mcu_state=%d mcu_insns=%d mcu_insns_min=%d mcu_insns_max=%d mcu_stack=%d\n",
                     s, n ? t / n : 0, lo, hi, st }' "$1")"
}

# mcu_prefix DIR: the C prefix of DIR/model.h (the model's name, or --prefix).
mcu_prefix() { sed -n 's/^#define \([A-Za-z_][A-Za-z0-9_]*\)_IN[ 	].*/\1/p' "$1/model.h" | head -1; }

# mcu_state_define DIR: the NAME_STATE_BYTES the header states, if any.
mcu_state_define() {
    sed -n 's/^#define [A-Za-z_][A-Za-z0-9_]*_STATE_BYTES[ 	]*\([0-9][0-9]*\).*/\1/p' "$1/model.h" | head -1
}

# mcu_warnings DIR OUT: compiles DIR/model.c for the M4F at -Os and -O2
# with the warnings firmware builds use (-Wdouble-promotion -Wshadow
# -Wsign-conversion on top of -Wall -Wextra -pedantic), the messages into
# OUT; prints "N [-Wkind], ..." (the distinct warnings) or "none".
mcu_warnings() {
    for _o in -Os -O2; do
        LC_ALL=C arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard -std=c99 $_o \
            -Wall -Wextra -pedantic -Wdouble-promotion -Wshadow -Wsign-conversion \
            -c "$1/model.c" -o "$1/warnings.o" 2>&1
    done > "$2"
    _w=$(grep 'warning:' "$2" | sort -u | grep -o '\[-W[a-z0-9=-]*\]' | sort | uniq -c |
         awk '{ printf("%s%d %s", (NR > 1 ? ", " : ""), $1, $2) }')
    echo "${_w:-none}"
}

# mcu_model_warnings LOG: the warnings build.sh's log has for model.c.
mcu_model_warnings() { grep 'model\.c:[0-9]*:[0-9]*: warning:' "$1"; }

# mcu_map_sizes MAP: what the link kept, by where it came from: sets
# mcu_model_code, mcu_model_const, mcu_model_data, mcu_model_bss (from the
# generated model.c), mcu_lib_code (the C library, libm and libgcc code and
# constants the program pulled in: memcpy, expf, soft float) and
# mcu_rest_flash (the driver, its embedded images, the board code).
mcu_map_sizes() {
    eval "$(awk '
        /^Linker script and memory map/ { on = 1; next }
        !on { next }
        /^\.[a-zA-Z]/ { out = $1 }                       # an output section
        /^ \.[^ ]+$/ { pending = 1; next }               # an input section name alone on its line
        (pending && /^ +0x[0-9a-f]+ +0x[0-9a-f]+ +[^ ]/) || /^ \.[^ ]+ +0x[0-9a-f]+ +0x[0-9a-f]+ +[^ ]/ {
            n = NF; size = $(n - 1); file = $n; pending = 0
            if (file !~ /\.o\)?$/) next
            v = 0
            for (i = 3; i <= length(size); i++) v = v * 16 + index("0123456789abcdef", substr(size, i, 1)) - 1
            from = file ~ /\.model\.o$/ ? "model" : (file ~ /\.a\(/ ? "lib" : "rest")
            kind = out == ".text" ? "code" : (out == ".rodata" || out ~ /^\.ARM/ ? "const" : out == ".data" ? "data" : out == ".bss" ? "bss" : "")
            if (kind != "") sum[from "_" kind] += v
            next
        }
        { pending = 0 }
        END {
            printf "mcu_model_code=%d mcu_model_const=%d mcu_model_data=%d mcu_model_bss=%d ",
                   sum["model_code"], sum["model_const"], sum["model_data"], sum["model_bss"]
            printf "mcu_lib_code=%d mcu_lib_ram=%d mcu_rest_flash=%d\n", sum["lib_code"] + sum["lib_const"],
                   sum["lib_data"] + sum["lib_bss"], sum["rest_code"] + sum["rest_const"] + sum["rest_data"]
        }' "$1")"
}
