/* out.c: numbers as text without printf. */
#include <string.h>

#include "board.h"

void out_str(const char *s) { board_write(s); }

void out_uint(unsigned long v)
{
    char buf[24], *p = buf + sizeof buf;
    *--p = 0;
    do *--p = (char)('0' + v % 10); while (v /= 10);
    board_write(p);
}

void out_int(long v)
{
    if (v < 0) {
        board_write("-");
        out_uint(0ul - (unsigned long)v);
    } else {
        out_uint((unsigned long)v);
    }
}

void out_float(float x)
{
    static const char hex[] = "0123456789abcdef";
    char buf[11] = "0x";
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    for (int i = 0; i < 8; i++) buf[2 + i] = hex[(bits >> (28 - 4 * i)) & 15];
    buf[10] = 0;
    board_write(buf);
}
