/* table.h: small tables of text, printed aligned for a terminal or as
 * Markdown (a header row, a separator row, one row per line), for
 * `layerc trace`. */
#ifndef LC_TABLE_H
#define LC_TABLE_H

#include <stdio.h>

#include "arena.h"

#define TABLE_MAX_COLS 8

typedef struct {
    int ncols, nrows, cap;
    const char *head[TABLE_MAX_COLS];
    const char **cells;   /* nrows * ncols, in the arena */
    Arena arena;
} Table;

/* head: ncols column titles, then NULL. */
void table_init(Table *t, const char *head, ...);
/* A row of ncols cells (copied). */
void table_row(Table *t, const char *cell, ...);
/* Aligned columns under an underlined header, or a Markdown table. */
void table_print(const Table *t, int markdown, FILE *out);
void table_free(Table *t);

#endif
