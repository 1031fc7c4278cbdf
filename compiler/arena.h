/* arena.h: bump allocation for everything that lives as long as one compile.
 * Out of memory is reported once and aborts cleanly (exit 1), never a crash. */
#ifndef LC_ARENA_H
#define LC_ARENA_H

#include <stddef.h>

typedef struct ArenaBlock ArenaBlock;
typedef struct {
    ArenaBlock *head;
} Arena;

void *arena_alloc(Arena *a, size_t size);          /* zeroed, 16-byte aligned */
char *arena_strdup(Arena *a, const char *s);
char *arena_strndup(Arena *a, const char *s, size_t n);
char *arena_printf(Arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Grows *items (element size elem) so that index n fits; capacity in *cap. */
void arena_grow(Arena *a, void **items, int *cap, int n, size_t elem);
void arena_free(Arena *a);

/* malloc/realloc that print "layerc: out of memory" and exit(1) on failure:
 * the one place layerc gives up, because nothing sensible can follow. */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);

#endif
