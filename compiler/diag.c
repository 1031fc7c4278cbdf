/* diag.c: source files and diagnostics; see diag.h. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "diag.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"

/* Source files */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int source_read(Source *src, const char *path, char *err, size_t errlen)
{
    memset(src, 0, sizeof *src);
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        set_err(err, errlen, "cannot open '%s': %s", path, strerror(errno));
        return 0;
    }
    struct stat st = { 0 };   /* read below even when fstat fails */
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        set_err(err, errlen, "'%s' is a directory, not a model file", path);
        close(fd);
        return 0;
    }
    /* a regular file tells its size: refuse a huge one without reading it */
    if (S_ISREG(st.st_mode) && (unsigned long long)st.st_size > LC_MAX_SOURCE_BYTES) {
        set_err(err, errlen, "'%s' is too large (the limit is %u MiB)", path,
                LC_MAX_SOURCE_BYTES >> 20);
        close(fd);
        return 0;
    }

    /* Read until end of file rather than trusting st_size: pipes and
     * devices report 0, and /dev/zero never ends, so stop one byte past
     * the limit. */
    size_t cap = 4096, len = 0;
    char *buf = xmalloc(cap + 1);
    for (;;) {
        if (len == cap) {
            if (cap > LC_MAX_SOURCE_BYTES)
                break;
            cap *= 2;
            buf = xrealloc(buf, cap + 1);
        }
        size_t want = cap - len;
        if (want > (size_t)LC_MAX_SOURCE_BYTES + 1 - len)
            want = (size_t)LC_MAX_SOURCE_BYTES + 1 - len;
        ssize_t got = read(fd, buf + len, want);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            set_err(err, errlen, "cannot read '%s': %s", path, strerror(errno));
            free(buf);
            close(fd);
            return 0;
        }
        if (got == 0)
            break;
        len += (size_t)got;
        if (len > LC_MAX_SOURCE_BYTES)
            break;
    }
    close(fd);
    if (len > LC_MAX_SOURCE_BYTES) {
        set_err(err, errlen, "'%s' is too large (the limit is %u MiB)", path,
                LC_MAX_SOURCE_BYTES >> 20);
        free(buf);
        return 0;
    }
    buf[len] = '\0';
    src->path = path;
    src->text = buf;
    src->len = len;
    return 1;
}

void source_from_string(Source *src, const char *path, const char *text)
{
    src->path = path;
    src->text = xstrdup(text);
    src->len = strlen(text);
}

void source_free(Source *src)
{
    free(src->text);
    src->text = NULL;
    src->len = 0;
}

/* A UTF-8 byte order mark is not part of line 1: the scanner skips it too,
 * so columns agree. */
static size_t text_start(const Source *src)
{
    return src->len >= 3 && memcmp(src->text, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
}

/* From the start of one line at offset pos, the text of that line without
 * its "\n" or "\r\n" and the offset of the next line. */
static const char *line_at(const Source *src, size_t pos, size_t *n, size_t *next)
{
    const char *start = src->text + pos;
    const char *nl = memchr(start, '\n', src->len - pos);
    size_t len = nl ? (size_t)(nl - start) : src->len - pos;
    *next = nl ? pos + len + 1 : src->len;
    if (len > 0 && start[len - 1] == '\r')
        len--;
    *n = len;
    return start;
}

const char *source_line(const Source *src, int line, size_t *n)
{
    *n = 0;
    if (!src || !src->text || line < 1)
        return NULL;
    size_t pos = text_start(src), next;
    for (int i = 1; i < line; i++) {
        const char *nl = memchr(src->text + pos, '\n', src->len - pos);
        if (!nl)
            return NULL;
        pos = (size_t)(nl - src->text) + 1;
    }
    if (pos == src->len && line > 1)
        return NULL;  /* past the final newline: no such line */
    return line_at(src, pos, n, &next);
}

/* Collecting */

void diags_init(Diags *d, const Source *src)
{
    memset(d, 0, sizeof *d);
    d->src = src;
}

void diags_free(Diags *d)
{
    for (int i = 0; i < d->n; i++) {
        free(d->items[i].msg);
        free(d->items[i].hint);
    }
    free(d->items);
    d->items = NULL;
    d->n = d->cap = d->nerrors = d->nwarnings = 0;
}

static char *vformat(const char *fmt, va_list ap)
{
    /* also keeps gcc -fsanitize=undefined from warning "null format string" */
    if (!fmt)
        fmt = "";
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0)
        return xstrdup("(unprintable message)");
    char *s = xmalloc((size_t)n + 1);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

static void add(Diags *d, DiagSeverity severity, Loc loc, const char *fmt, va_list ap)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 16;
        d->items = xrealloc(d->items, (size_t)d->cap * sizeof *d->items);
    }
    d->items[d->n] = (Diag){ severity, loc, vformat(fmt, ap), NULL, d->n };
    d->n++;
    if (severity == DIAG_ERROR)
        d->nerrors++;
    else if (severity == DIAG_WARNING)
        d->nwarnings++;
}

void diag_error(Diags *d, Loc loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add(d, DIAG_ERROR, loc, fmt, ap);
    va_end(ap);
}

void diag_warning(Diags *d, Loc loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add(d, DIAG_WARNING, loc, fmt, ap);
    va_end(ap);
}

void diag_note(Diags *d, Loc loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add(d, DIAG_NOTE, loc, fmt, ap);
    va_end(ap);
}

void diag_hint(Diags *d, const char *fmt, ...)
{
    if (d->n == 0)
        return;
    Diag *last = &d->items[d->n - 1];
    free(last->hint);
    va_list ap;
    va_start(ap, fmt);
    last->hint = vformat(fmt, ap);
    va_end(ap);
}

/* Printing */

static int by_position(const void *pa, const void *pb)
{
    const Diag *a = *(const Diag *const *)pa, *b = *(const Diag *const *)pb;
    if (a->loc.line != b->loc.line)
        return a->loc.line < b->loc.line ? -1 : 1;
    if (a->loc.col != b->loc.col)
        return a->loc.col < b->loc.col ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Control characters could move the cursor or recolour the terminal, and
 * bytes >= 0x80 need not be valid UTF-8; each becomes one '?', which also
 * keeps the caret (counted in bytes) under the right character. */
static int printable(unsigned char c)
{
    return c >= 0x20 && c < 0x7f;
}

static void put_sanitized(FILE *out, const char *s, size_t n, int keep_tabs)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        fputc(printable(c) || (keep_tabs && c == '\t') ? c : '?', out);
    }
}

static const char *severity_name(DiagSeverity s)
{
    return s == DIAG_ERROR ? "error" : s == DIAG_WARNING ? "warning" : "note";
}

/* Lines longer than this are shown as a window around the column. */
enum { SHOWN_BEFORE = 80, SHOWN_AFTER = 80 };

static void print_source_line(FILE *out, const char *line, size_t len, int col)
{
    size_t at = col > 0 ? (size_t)col - 1 : 0;
    if (at > len)
        at = len;
    size_t from = 0, to = len;
    if (at > SHOWN_BEFORE)
        from = at - SHOWN_BEFORE;
    if (to - at > SHOWN_AFTER)
        to = at + SHOWN_AFTER;
    const char *cut = "...";

    fputs("    ", out);
    if (from > 0)
        fputs(cut, out);
    put_sanitized(out, line + from, to - from, 1);
    if (to < len)
        fputs(cut, out);
    fputc('\n', out);

    /* the caret copies the line's tabs so that it lines up in any editor */
    fputs("    ", out);
    if (from > 0)
        fputs("   ", out);
    for (size_t i = from; i < at; i++)
        fputc(line[i] == '\t' ? '\t' : ' ', out);
    fputs("^\n", out);
}

void diags_print(Diags *d, FILE *out)
{
    if (d->n == 0)
        return;
    const Diag **sorted = xmalloc((size_t)d->n * sizeof *sorted);
    for (int i = 0; i < d->n; i++)
        sorted[i] = &d->items[i];
    qsort(sorted, (size_t)d->n, sizeof *sorted, by_position);

    const Source *src = d->src;
    const char *path = src && src->path ? src->path : "<input>";
    /* Diagnostics come sorted by line, so one walk through the text finds
     * every line: big files with many errors stay linear. */
    int cur_line = 1;
    size_t cur_pos = src && src->text ? text_start(src) : 0;

    for (int i = 0; i < d->n; i++) {
        const Diag *g = sorted[i];
        if (g->loc.line <= 0) {
            fprintf(out, "%s: %s: ", path, severity_name(g->severity));
        } else {
            fprintf(out, "%s:%d:%d: %s: ", path, g->loc.line, g->loc.col,
                    severity_name(g->severity));
        }
        put_sanitized(out, g->msg, strlen(g->msg), 0);
        fputc('\n', out);

        if (g->loc.line > 0 && src && src->text) {
            size_t n, next;
            while (cur_line < g->loc.line && cur_pos < src->len) {
                line_at(src, cur_pos, &n, &next);
                cur_pos = next;
                cur_line++;
            }
            int exists = cur_line == g->loc.line && (cur_pos < src->len || cur_line == 1);
            if (exists) {
                const char *line = line_at(src, cur_pos, &n, &next);
                print_source_line(out, line, n, g->loc.col);
            }
        }
        if (g->hint) {
            fputs("    = hint: ", out);
            put_sanitized(out, g->hint, strlen(g->hint), 0);
            fputc('\n', out);
        }
    }
    free(sorted);
}

/* "Did you mean" */

/* Edit distance counting a swap of two neighbours as one edit (optimal
 * string alignment): "rleu" is one typo away from "relu", not two. */
static size_t edit_distance(const char *a, const char *b, size_t limit)
{
    size_t la = strlen(a), lb = strlen(b);
    if ((la > lb ? la - lb : lb - la) > limit)
        return limit + 1;
    size_t *rows = xmalloc(3 * (lb + 1) * sizeof *rows);
    size_t *before = rows, *prev = rows + lb + 1, *cur = rows + 2 * (lb + 1);
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            size_t best = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && before[j - 2] + 1 < best)
                best = before[j - 2] + 1;
            cur[j] = best;
        }
        size_t *t = before;
        before = prev;
        prev = cur;
        cur = t;
    }
    size_t result = prev[lb];
    free(rows);
    return result;
}

const char *closest_name(const char *name, const char *const *candidates, int n)
{
    size_t len = strlen(name);
    size_t limit = len / 3 > 1 ? len / 3 : 1;
    if (len < 3)   /* any one-letter name is "close" to every other: no hint */
        return NULL;
    const char *best = NULL;
    size_t best_distance = limit + 1;
    for (int i = 0; i < n; i++) {
        if (!candidates[i])
            continue;
        size_t dist = edit_distance(name, candidates[i], limit);
        if (dist < best_distance) {
            best = candidates[i];
            best_distance = dist;
        }
    }
    return best;
}

int usage_error_for(const char *command, const char *fmt, va_list ap)
{
    fprintf(stderr, "layerc: error: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(see layerc%s%s --help)\n", *command ? " " : "", command);
    return 2;
}
