#!/bin/sh
# run.sh PROGRAM.elf: runs a program built by build.sh on QEMU, the board
# chosen by MCU_CPU (m4f: mps2-an386, Cortex-M4F; m0plus: mps2-an385, whose
# Cortex-M3 runs ARMv6-M code), with semihosting for its output and exit
# status and -icount shift=0 (one instruction a nanosecond of virtual time,
# which meter.c's instruction counter relies on).  Its output goes to
# standard output; the exit status is the program's (124: timed out).
case ${MCU_CPU:-m4f} in
m4f) board=mps2-an386 ;;
m0plus) board=mps2-an385 ;;
*) echo "run.sh: MCU_CPU is m4f or m0plus, not '$MCU_CPU'" >&2; exit 2 ;;
esac
exec timeout "${MCU_TIMEOUT:-120}" qemu-system-arm -M $board -display none -monitor none \
    -serial none -semihosting-config enable=on,target=native -icount shift=0 \
    -kernel "$1" 2>&1
