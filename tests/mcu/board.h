/* board.h: what a test driver needs from the board it runs on: text out, an
 * exit status, an instruction counter and a stack meter.  Implemented for
 * QEMU's mps2 boards (startup.c, semihost.c, meter.c) and for the host
 * (host.c), so one driver runs in both places. */
#ifndef BOARD_H
#define BOARD_H

#include <stdint.h>

/* Writes a NUL-terminated string to the console (semihosting on QEMU). */
void board_write(const char *s);
/* Ends the program with an exit status the shell sees. */
void board_exit(int status) __attribute__((noreturn));

/* Instructions executed since reset, modulo 2^32, in steps of
 * board_instruction_step (the timer's resolution); 0 on the host. */
uint32_t board_instructions(void);
extern const uint32_t board_instruction_step;

/* Stack metering: board_stack_paint() fills the free stack below the
 * caller's frame with a pattern (256 KiB deep at most); board_stack_used(sp)
 * gives the bytes below sp (taken with board_sp() before painting) written
 * since, or -1 when the pattern is gone down to its bottom (the stack
 * overflowed, or went deeper than the paint).  A frame that leaves its
 * lowest words unwritten hides how deep it went, so a deep call measured
 * where RAM runs out can look shallow: measure where there is room (the big
 * layout of tests/mcu/common.sh).  0 on the host. */
void board_stack_paint(void);
long board_stack_used(uintptr_t sp);
/* The top of the stack (the end of RAM): top - sp is what the program holds
 * when it makes a call.  0 on the host. */
uintptr_t board_stack_top(void);
static inline uintptr_t board_sp(void)
{
#if defined(__arm__)
    uintptr_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    return sp;
#else
    return 0;
#endif
}

/* startup.c starts the instruction timer (meter.c) before main. */
void board_timer_start(void);

/* out.c: formatted output on top of board_write, without printf (newlib's
 * needs a heap for floats).  Floats are written as their IEEE bits in hex,
 * "0x3f800000", which loses nothing; tests/mcu/floats.awk turns them back. */
void out_str(const char *s);
void out_uint(unsigned long v);
void out_int(long v);
void out_float(float x);

#endif
