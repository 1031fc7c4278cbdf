/* diag.h: source files and diagnostics.
 *
 * No stage prints or exits on bad input: problems are collected here with
 * their location and printed together, sorted by position, in the form
 * compilers use:
 *
 *     net.lyr:7:24: error: shape mismatch: add(a, b) has a [128] and b [64]
 *         layer s = add(a, b);
 *                            ^
 */
#ifndef LC_DIAG_H
#define LC_DIAG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

typedef struct {
    int line, col;     /* 1-based; line 0 = the file as a whole */
} Loc;

typedef struct {
    const char *path;  /* as the user named it */
    char *text;        /* NUL-terminated copy; may contain NUL bytes before len */
    size_t len;
} Source;

/* Largest model file accepted (a larger one is an error, not a slow death). */
#define LC_MAX_SOURCE_BYTES (16u << 20)

/* Reads path into src.  On failure returns 0 and writes a message that names
 * the file (missing, a directory, unreadable, too large) into err. */
int source_read(Source *src, const char *path, char *err, size_t errlen);
void source_from_string(Source *src, const char *path, const char *text);
void source_free(Source *src);
/* The text of line `line` (1-based) without its end of line; *n gets its length. */
const char *source_line(const Source *src, int line, size_t *n);

typedef enum { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE } DiagSeverity;

typedef struct {
    DiagSeverity severity;
    Loc loc;
    char *msg;
    char *hint;        /* optional "did you mean ..." line, or NULL */
    int seq;           /* order of reporting, to keep the sort stable */
} Diag;

typedef struct {
    const Source *src;
    Diag *items;
    int n, cap;
    int nerrors, nwarnings;
} Diags;

void diags_init(Diags *d, const Source *src);
void diags_free(Diags *d);
void diag_error(Diags *d, Loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void diag_warning(Diags *d, Loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void diag_note(Diags *d, Loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Attaches a hint to the last diagnostic reported. */
void diag_hint(Diags *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints every diagnostic, sorted by position, with source line and caret. */
void diags_print(Diags *d, FILE *out);

/* A command-line mistake: "layerc: error: ..." and where the help is
 * ("see layerc COMMAND --help"; command may be ""); returns exit status 2. */
int usage_error_for(const char *command, const char *fmt, va_list ap);

/* "did you mean": the candidate closest to name by edit distance, or NULL
 * when none is close enough to be a likely typo. */
const char *closest_name(const char *name, const char *const *candidates, int n);

#endif
