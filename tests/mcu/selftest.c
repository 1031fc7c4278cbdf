/* selftest.c: the board's exit path, which every other check relies on.
 * Built with -DSELFTEST_FAULT it reads unmapped memory (the fault handler
 * must report it and exit with 127); without, it exits with status 42. */
#include "board.h"

int main(void)
{
#ifdef SELFTEST_FAULT
    out_str("reading 0x30000000\n");
    return *(volatile int *)0x30000000;
#else
    out_str("returning 42\n");
    return 42;
#endif
}
