/* text.h: a growing, NUL-terminated text buffer (malloc'd; the caller owns
 * .buf).  For output assembled piece by piece: DOT graphs, gnuplot scripts,
 * the .lyr text of an imported model. */
#ifndef LC_TEXT_H
#define LC_TEXT_H

#include <stddef.h>

typedef struct {
    char *buf;
    size_t len, cap;
} Text;

void text_addf(Text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
