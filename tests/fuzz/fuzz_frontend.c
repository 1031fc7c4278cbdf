/* fuzz_frontend.c: libFuzzer target for everything a model file reaches
 * before the JIT: scanner, parser, checker, C emitter (AOT, JIT, double and
 * inference variants), `graph` and `summary`.
 *
 * The input is the model file's bytes as source_read would hold them: NULs
 * included, so the scanner sees exactly what a file on disk gives it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "ast.h"
#include "check.h"
#include "diag.h"
#include "emit.h"
#include "tools.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *sink(void)
{
    static FILE *f;
    if (!f) f = fopen("/dev/null", "w");
    return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Source src;
    Arena arena = { 0 };
    Diags diags;
    src.path = "fuzz.lyr";
    src.text = xmalloc(size + 1);
    memcpy(src.text, data, size);
    src.text[size] = '\0';
    src.len = size;

    diags_init(&diags, &src);
    Program *p = parse_program(&src, &diags, &arena);
    Model *m = NULL;
    if (!diags.nerrors) m = check_program(p, &src, &diags, &arena);
    /* printing walks every location back into the text: caret columns on
     * lines with tabs, NULs, a BOM, CRLF */
    diags_print(&diags, sink());

    if (m) {
        /* every emitter variant main.c and the JIT ask for */
        static const EmitOptions variants[] = {
            { .header = "fuzz.h", .source_name = "fuzz.lyr" },
            { .inference = 1, .header = "fuzz.h", .source_name = "fuzz.lyr" },
            { .jit = 1, .source_name = "fuzz.lyr" },
            { .jit = 1, .real_double = 1, .source_name = "fuzz.lyr" },
        };
        for (size_t i = 0; i < sizeof variants / sizeof *variants; i++) {
            char *h = emit_header(m, &variants[i]);
            char *c = emit_source(m, &variants[i]);
            free(h);
            free(c);
        }
        /* trained values baked in as initial values (--weights when compiling) */
        if (m->nparams <= 1 << 16) {
            float *baked = xcalloc((size_t)m->nparams + 1, sizeof *baked);
            EmitOptions o = { .baked = baked, .header = "fuzz.h", .source_name = "fuzz.lyr" };
            free(emit_source(m, &o));
            free(baked);
        }
        free(graph_dot(m, "fuzz.lyr"));
        /* summary of a training build and of a batch-1 inference build */
        EmitOptions train = { .header = "fuzz.h", .source_name = "fuzz.lyr" };
        EmitOptions infer = { .inference = 1, .header = "fuzz.h", .source_name = "fuzz.lyr" };
        Build bt = emit_build(m, &train), bi = emit_build(m, &infer);
        tool_summary(m, &bt, sink());
        tool_summary(m, &bi, sink());
    }
    diags_free(&diags);
    arena_free(&arena);
    source_free(&src);
    return 0;
}
