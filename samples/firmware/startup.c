/* startup.c: what runs before main() on a Cortex-M4 with no operating system,
 * and the two semihosting calls the firmware uses to talk to the host (QEMU
 * run with -semihosting): write a string, and exit. */
#include <stdint.h>

#include "semihost.h"

extern uint32_t _data_load[], _data_start[], _data_end[], _bss_start[], _bss_end[], _stack_top[];
int main(void);
void reset_handler(void);

static void halt(void)
{
    sh_exit(1);
    for (;;) continue;
}

/* The vector table: the initial stack pointer, then the handlers; a fault
 * ends the run with status 1 rather than hanging. */
__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))(uintptr_t)_stack_top, reset_handler, halt, halt, halt, halt, halt,
};

void reset_handler(void)
{
    for (uint32_t *s = _data_load, *d = _data_start; d < _data_end;) *d++ = *s++;
    for (uint32_t *d = _bss_start; d < _bss_end;) *d++ = 0;
    /* the FPU: full access for coprocessors 10 and 11 (CPACR), before any float */
    *(volatile uint32_t *)0xE000ED88 |= 0xFu << 20;
    __asm volatile("dsb\n\tisb");
    sh_exit(main());
}

/* Semihosting: r0 the operation, r1 its argument, then BKPT 0xAB. */
static int semihost(int op, const void *arg)
{
    register int r0 __asm("r0") = op;
    register const void *r1 __asm("r1") = arg;
    __asm volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void sh_puts(const char *s)
{
    semihost(0x04, s);   /* SYS_WRITE0 */
}

void sh_exit(int status)
{
    /* SYS_EXIT with ADP_Stopped_ApplicationExit (0x20026) for success */
    semihost(0x18, (const void *)(uintptr_t)(status ? 0x20024 : 0x20026));
    for (;;) continue;
}
