/* startup.c: the vector table and the reset handler of a bare Cortex-M (M0+,
 * M3, M4F): copy .data from flash, zero .bss, enable the FPU when the code
 * uses one, start the instruction timer, run main, exit with its status.
 * A fault prints where it happened and exits with status 127. */
#include "board.h"

int main(void);
void mcu_reset(void) __attribute__((noreturn));
void mcu_fault_report(const uint32_t *frame);

extern uint32_t __data_start[], __data_end[], __data_load[], __bss_start[], __bss_end[];
extern uint32_t __stack_top[];

void mcu_reset(void)
{
#if defined(__ARM_FP)
    /* CPACR: full access to CP10 and CP11, before any floating-point instruction */
    *(volatile uint32_t *)0xe000ed88 |= 0xfu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    /* volatile: plain loops here could become calls to memcpy/memset, and
     * the point is to need nothing before .data and .bss are set up */
    volatile uint32_t *d = __data_start;
    const uint32_t *s = __data_load;
    while (d < __data_end) *d++ = *s++;
    for (d = __bss_start; d < __bss_end;) *d++ = 0;
    board_timer_start();
    board_exit(main());
}

static void put_hex(uint32_t v)
{
    static const char digits[] = "0123456789abcdef";
    char buf[11] = "0x";
    for (int i = 0; i < 8; i++) buf[2 + i] = digits[(v >> (28 - 4 * i)) & 15];
    buf[10] = 0;
    board_write(buf);
}

/* frame: r0-r3, r12, lr, pc, xpsr, as the core stacked them */
void mcu_fault_report(const uint32_t *frame)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    board_write("fault: exception ");
    put_hex(ipsr & 0x1ff);
    board_write(" at pc ");
    put_hex(frame[6]);
    board_write(", lr ");
    put_hex(frame[5]);
    board_write("\n");
    board_exit(127);
}

/* The frame is on the stack the fault interrupted: MSP here (no threads). */
__attribute__((naked)) static void mcu_fault(void)
{
    __asm__ volatile("mrs r0, msp\n\t"
                     "ldr r1, =mcu_fault_report\n\t"
                     "bx r1");
}

typedef void (*handler)(void);
__attribute__((section(".vectors"), used)) static const struct {
    uint32_t *initial_sp;
    handler exceptions[15];
} vectors = {
    __stack_top,
    { mcu_reset, mcu_fault, mcu_fault, mcu_fault, mcu_fault, mcu_fault, 0, 0, 0, 0,
      mcu_fault, mcu_fault, 0, mcu_fault, mcu_fault },
};
