#!/bin/sh
# build.sh OUT.elf DRIVER.c MODELDIR [INCDIR...]: builds a driver for a bare
# Cortex-M with the startup code and linker script of this directory and the
# model layerc wrote to MODELDIR/model.c and model.h (MODELDIR "-": no
# model); writes OUT.elf, OUT.map and OUT.log (the compiler's and linker's
# messages, the model's warnings among them).
#   MCU_CPU        m4f (Cortex-M4F: QEMU mps2-an386) or m0plus (ARMv6-M code,
#                  run on the Cortex-M3 of mps2-an385); default m4f
#   MCU_OPT        optimisation, default -Os
#   MCU_FLASH, MCU_RAM, MCU_STACK_MIN   the layout (mcu.ld); default 1024K,
#                  128K and 2K: an STM32F407-like part
#   MCU_MODEL_WARN the warnings asked of the model's C (reported in the log,
#                  not errors: the model is what is measured), default
#                  -Wall -Wextra -pedantic.  The driver and the board code
#                  build with -Werror -Wdouble-promotion -Wshadow on top.
#   MCU_DEFS       more -D options for the driver
# Exit status 0 when the program compiled and fit the layout.
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -lt 3 ]; then
    echo "usage: build.sh OUT.elf DRIVER.c MODELDIR [INCDIR...]" >&2
    exit 2
fi
out=$1 driver=$2 modeldir=$3
shift 3
case ${MCU_CPU:-m4f} in
m4f) arch="-mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard" ;;
m0plus) arch="-mcpu=cortex-m0plus -mthumb -mfloat-abi=soft" ;;
*) echo "build.sh: MCU_CPU is m4f or m0plus, not '$MCU_CPU'" >&2; exit 2 ;;
esac
objs="" defs=""
if [ "$modeldir" != - ]; then
    # the C prefix: the model's name, or layerc's --prefix
    prefix=$(sed -n 's/^#define \([A-Za-z_][A-Za-z0-9_]*\)_IN[ 	].*/\1/p' "$modeldir/model.h" | head -1)
    if [ -z "$prefix" ]; then
        echo "build.sh: $modeldir/model.h: no NAME_IN define: not a header layerc wrote" >&2
        exit 1
    fi
    defs="-DMODEL=$prefix -I$modeldir"
    objs=${out%.elf}.model.o
fi
inc="-I$here"
for d in "$@"; do inc="$inc -I$d"; done
common="-std=c99 ${MCU_OPT:--Os} -ffunction-sections -fdata-sections"
strict="-Wall -Wextra -Werror -Wdouble-promotion -Wshadow"
log=${out%.elf}.log
{
    if [ "$modeldir" != - ]; then
        arm-none-eabi-gcc $arch $common ${MCU_MODEL_WARN:--Wall -Wextra -pedantic} \
            -c "$modeldir/model.c" -o "$objs" || exit 1
    fi
    for src in "$driver" "$here/startup.c" "$here/semihost.c" "$here/meter.c" "$here/out.c"; do
        obj=${out%.elf}.$(basename "${src%.c}").o
        arm-none-eabi-gcc $arch $common $strict $inc $defs $MCU_DEFS -c "$src" -o "$obj" || exit 1
        objs="$objs $obj"
    done
    # no nosys.specs: a call into the C library that needs a system call
    # (malloc, printf) is a link error, as it would be on the device
    arm-none-eabi-gcc $arch -nostartfiles --specs=nano.specs -T "$here/mcu.ld" \
        -Wl,--gc-sections -Wl,-Map="${out%.elf}.map" -Wl,--print-memory-usage \
        -Wl,--defsym=FLASH_SIZE="${MCU_FLASH:-1024K}" -Wl,--defsym=RAM_SIZE="${MCU_RAM:-128K}" \
        -Wl,--defsym=STACK_MIN="${MCU_STACK_MIN:-2K}" $objs -lm -o "$out" || exit 1
} > "$log" 2>&1
