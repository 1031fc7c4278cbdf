/* lex.h: the scanner on its own, one token at a time, for tests and tools.
 * The parser does not need this: parse_program (ast.h) drives the scanner. */
#ifndef LC_LEX_H
#define LC_LEX_H

#include "arena.h"
#include "diag.h"

typedef struct {
    int kind;          /* the parser's token kind (0 = end of file) */
    const char *name;  /* readable kind: "name", "number", "string", "'layer'",
                          "';'", "end of file", as syntax errors spell them */
    const char *text;  /* the token as written ("" at end of file) */
    Loc loc;           /* its first byte; end of file: just after the last token */
    double num;        /* the value of a number */
} LexToken;

/* Scans all of src.  Stores the tokens, the last one end of file, in an
 * array allocated in arena and returns how many there are.  Lexical errors
 * (bad bytes, unterminated strings, bad numbers) go to diags. */
int lex_source(const Source *src, Diags *diags, Arena *arena, LexToken **tokens);

#endif
