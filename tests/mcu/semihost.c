/* semihost.c: console output and exit through ARM semihosting (QEMU:
 * -semihosting-config enable=on,target=native). */
#include "board.h"

enum { SYS_WRITE0 = 0x04, SYS_EXIT_EXTENDED = 0x20 };
enum { ADP_STOPPED_APPLICATION_EXIT = 0x20026 };

static uint32_t semihost(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void board_write(const char *s) { semihost(SYS_WRITE0, s); }

/* SYS_EXIT_EXTENDED, not SYS_EXIT: on 32-bit ARM only the extended call
 * carries the status (SYS_EXIT's only says "stopped", which QEMU maps to 0). */
void board_exit(int status)
{
    const uint32_t block[2] = { ADP_STOPPED_APPLICATION_EXIT, (uint32_t)status };
    semihost(SYS_EXIT_EXTENDED, block);
    for (;;) {
    }
}
