/* table.c: text tables for the terminal and for Markdown (table.h). */
#include "table.h"

#include <stdarg.h>
#include <string.h>

void table_init(Table *t, const char *head, ...)
{
    va_list ap;
    memset(t, 0, sizeof *t);
    va_start(ap, head);
    for (const char *h = head; h && t->ncols < TABLE_MAX_COLS; h = va_arg(ap, const char *))
        t->head[t->ncols++] = arena_strdup(&t->arena, h);
    va_end(ap);
}

void table_row(Table *t, const char *cell, ...)
{
    va_list ap;
    arena_grow(&t->arena, (void **)&t->cells, &t->cap, (t->nrows + 1) * t->ncols, sizeof *t->cells);
    const char **row = t->cells + (size_t)t->nrows * (size_t)t->ncols;
    va_start(ap, cell);
    for (int c = 0; c < t->ncols; c++, cell = c < t->ncols ? va_arg(ap, const char *) : NULL)
        row[c] = arena_strdup(&t->arena, cell ? cell : "");
    va_end(ap);
    t->nrows++;
}

/* A cell of a Markdown table: '|' would end it. */
static void put_md_cell(const char *s, FILE *out)
{
    for (; *s; s++) {
        if (*s == '|') fputc('\\', out);
        fputc(*s == '\n' ? ' ' : *s, out);
    }
}

static void print_markdown(const Table *t, FILE *out)
{
    for (int r = -2; r < t->nrows; r++) {
        fputs("|", out);
        for (int c = 0; c < t->ncols; c++) {
            fputc(' ', out);
            if (r == -2) put_md_cell(t->head[c], out);
            else if (r == -1) fputs("---", out);
            else put_md_cell(t->cells[(size_t)r * (size_t)t->ncols + (size_t)c], out);
            fputs(" |", out);
        }
        fputc('\n', out);
    }
}

static void print_text(const Table *t, FILE *out)
{
    size_t width[TABLE_MAX_COLS];
    for (int c = 0; c < t->ncols; c++) {
        width[c] = strlen(t->head[c]);
        for (int r = 0; r < t->nrows; r++) {
            size_t n = strlen(t->cells[(size_t)r * (size_t)t->ncols + (size_t)c]);
            if (n > width[c]) width[c] = n;
        }
    }
    for (int r = -2; r < t->nrows; r++) {
        fputs("  ", out);
        for (int c = 0; c < t->ncols; c++) {
            const char *s = r == -2 ? t->head[c] : r == -1 ? NULL : t->cells[(size_t)r * (size_t)t->ncols + (size_t)c];
            size_t n = s ? strlen(s) : width[c];
            if (s) fputs(s, out);
            else for (size_t k = 0; k < n; k++) fputc('-', out);
            if (c + 1 < t->ncols)
                for (size_t k = n; k < width[c] + 2; k++) fputc(' ', out);
        }
        fputc('\n', out);
    }
}

void table_print(const Table *t, int markdown, FILE *out)
{
    if (markdown) print_markdown(t, out);
    else print_text(t, out);
}

void table_free(Table *t)
{
    arena_free(&t->arena);
    memset(t, 0, sizeof *t);
}
