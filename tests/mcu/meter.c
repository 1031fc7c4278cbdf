/* meter.c: the instruction counter and the stack meter on QEMU's mps2 boards.
 *
 * Instructions: QEMU run with `-icount shift=0` advances its virtual clock by
 * exactly 1 ns per instruction, and the boards' CMSDK APB timer 0 (0x40000000)
 * counts down at the 25 MHz system clock in that virtual time: one tick is
 * 40 instructions.  tests/mcu/calib.c checks this on loops of known length. */
#include "board.h"

#ifndef BOARD_NS_PER_TICK
#define BOARD_NS_PER_TICK 40u   /* 1e9 / 25 MHz */
#endif

#define TIMER0 ((volatile uint32_t *)0x40000000)
enum { TIMER_CTRL, TIMER_VALUE, TIMER_RELOAD };

const uint32_t board_instruction_step = BOARD_NS_PER_TICK;

void board_timer_start(void)
{
    TIMER0[TIMER_CTRL] = 0;
    TIMER0[TIMER_RELOAD] = 0xffffffffu;
    TIMER0[TIMER_VALUE] = 0xffffffffu;
    TIMER0[TIMER_CTRL] = 1;   /* enable, internal clock, no interrupt */
}

uint32_t board_instructions(void)
{
    return (0xffffffffu - TIMER0[TIMER_VALUE]) * BOARD_NS_PER_TICK;
}

/* The stack runs from the top of RAM down to __stack_limit, the end of
 * .bss.  Painting all of a big layout's free RAM before every call would
 * cost more than the call: the paint goes BOARD_PAINT_WINDOW bytes deep at
 * most, and a call that reaches the bottom of the paint counts as an overflow. */
extern uint32_t __stack_limit[], __stack_top[];
#define PAINT 0xc5ac1e5au
#ifndef BOARD_PAINT_WINDOW
#define BOARD_PAINT_WINDOW (256u * 1024u)
#endif
static uint32_t *painted;

/* A leaf: its own few bytes of frame are above its sp, so it paints only
 * what is free. */
void board_stack_paint(void)
{
    uint32_t *end = (uint32_t *)board_sp(), *p = __stack_limit;
    if ((uintptr_t)end - (uintptr_t)p > BOARD_PAINT_WINDOW)
        p = (uint32_t *)((uintptr_t)end - BOARD_PAINT_WINDOW);
    painted = p;
    while (p < end) *p++ = PAINT;
}

long board_stack_used(uintptr_t sp)
{
    const uint32_t *p = painted;
    if (!p || *p != PAINT) return -1;
    while ((uintptr_t)p < sp && *p == PAINT) p++;
    return (long)(sp - (uintptr_t)p);
}

uintptr_t board_stack_top(void) { return (uintptr_t)__stack_top; }
