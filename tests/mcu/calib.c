/* calib.c: validates the meters of meter.c on code whose cost is known.
 * The instruction counter on loops of N iterations of K instructions
 * ("loop NAME K N MEASURED"; the test compares MEASURED with K*N), and the
 * stack meter on a function that writes a 1,024-byte local array
 * ("stack 1024 MEASURED": the array plus the function's few saved registers). */
#include "board.h"

/* 2 instructions an iteration: subs, bne */
static void loop2(uint32_t n)
{
    __asm__ volatile(".syntax unified\n\t"
                     "1: subs %0, %0, #1\n\t"
                     "bne 1b" : "+l"(n) : : "cc");
}

/* 5 instructions an iteration: 3 adds, subs, bne */
static void loop5(uint32_t n)
{
    uint32_t a = 0;
    __asm__ volatile(".syntax unified\n\t"
                     "1: adds %1, %1, #1\n\t"
                     "adds %1, %1, #2\n\t"
                     "adds %1, %1, #3\n\t"
                     "subs %0, %0, #1\n\t"
                     "bne 1b" : "+l"(n), "+l"(a) : : "cc");
}

/* Writes all of a 1,024-byte array on its stack; volatile keeps it there. */
__attribute__((noinline)) static unsigned use_stack(unsigned n)
{
    volatile unsigned char buf[1024];
    for (unsigned i = 0; i < sizeof buf; i++) buf[i] = (unsigned char)(i + n);
    return buf[0];
}

static void report(const char *what, uint32_t k, uint32_t n, uint32_t measured)
{
    out_str("loop ");
    out_str(what);
    out_str(" ");
    out_uint(k);
    out_str(" ");
    out_uint(n);
    out_str(" ");
    out_uint(measured);
    out_str("\n");
}

int main(void)
{
    static const uint32_t sizes[] = { 1000, 100000, 1000000 };
    for (unsigned i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        uint32_t t0 = board_instructions();
        loop2(sizes[i]);
        uint32_t t1 = board_instructions();
        loop5(sizes[i]);
        uint32_t t2 = board_instructions();
        report("subs-bne", 2, sizes[i], t1 - t0);
        report("adds3-subs-bne", 5, sizes[i], t2 - t1);
    }
    uintptr_t sp = board_sp();
    board_stack_paint();
    unsigned sink = use_stack(7);
    long used = board_stack_used(sp);
    out_str("stack 1024 ");
    out_int(used);
    out_str(sink == 7 ? "\n" : " (wrong value)\n");
    out_str("step ");
    out_uint(board_instruction_step);
    out_str("\n");
    return 0;
}
