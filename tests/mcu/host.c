/* host.c: board.h on the host, so a driver also runs natively as a
 * reference: stdio for the console, no instruction counter, no stack meter. */
#include <stdio.h>
#include <stdlib.h>

#include "board.h"

const uint32_t board_instruction_step = 0;

void board_write(const char *s) { fputs(s, stdout); }

void board_exit(int status)
{
    fflush(stdout);
    exit(status);
}

uint32_t board_instructions(void) { return 0; }
void board_stack_paint(void) {}
long board_stack_used(uintptr_t sp) { (void)sp; return 0; }
uintptr_t board_stack_top(void) { return 0; }
