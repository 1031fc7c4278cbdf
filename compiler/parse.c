/* parse.c: runs the scanner (grammar/lyr.l) and the parser (grammar/lyr.y)
 * over one source; see ast.h. */
#include "ast.h"
#include "lyr.tab.h"

Program *parse_program(const Source *src, Diags *diags, Arena *arena)
{
    ParseCtx ctx = { .src = src, .diags = diags, .arena = arena };
    ctx.program = arena_alloc(arena, sizeof(Program));
    /* flex counts bytes in an int; the limit keeps far from it */
    if (src->len > LC_MAX_SOURCE_BYTES) {
        diag_error(diags, (Loc){ 0, 0 }, "file too large (the limit is %u MiB)",
                   LC_MAX_SOURCE_BYTES >> 20);
        return ctx.program;
    }
    yyscan_t scanner = scanner_open(&ctx);
    if (!scanner) {
        diag_error(diags, (Loc){ 0, 0 }, "out of memory starting the scanner");
        return ctx.program;
    }
    yyparse(scanner, &ctx);
    scanner_close(scanner);
    return ctx.program;
}

const char *stmt_kind_name(StmtKind k)
{
    switch (k) {
    case S_MODEL: return "model";
    case S_INPUT: return "input";
    case S_WEIGHT: return "weight";
    case S_LAYER: return "layer";
    case S_OUTPUT: return "output";
    case S_LOSS: return "loss";
    case S_TRAIN: return "train";
    }
    return "?";
}
