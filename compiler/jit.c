/* jit.c: compiles generated C in memory with libtcc (see jit.h). */
#include "jit.h"

#include <libtcc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "op.h"

struct Jit {
    TCCState *tcc;
};

typedef struct {
    char *err;
    size_t len, used;
} ErrorSink;

static void collect_error(void *opaque, const char *msg)
{
    ErrorSink *s = opaque;
    if (s->used + 2 >= s->len) return;
    int n = snprintf(s->err + s->used, s->len - s->used, "%s%s", s->used ? "\n" : "", msg);
    if (n > 0) s->used += (size_t)n < s->len - s->used ? (size_t)n : s->len - s->used - 1;
}

Jit *jit_compile(const char *code, int with_kernels, char *err, size_t errlen)
{
    ErrorSink sink = { err, errlen, 0 };
    if (errlen) err[0] = '\0';
    TCCState *s = tcc_new();
    if (!s) {
        snprintf(err, errlen, "cannot start libtcc");
        return NULL;
    }
    tcc_set_error_func(s, &sink, collect_error);
    tcc_set_output_type(s, TCC_OUTPUT_MEMORY);
    /* a warning in generated code is a bug in layerc: make it loud */
    tcc_set_options(s, "-Wall -Werror");
    if (with_kernels) {
        /* the kernels of every op, loss and optimizer, as their descriptors list them */
        const KernelRef *k;
        int n = op_kernel_symbols(&k);
        for (int i = 0; i < n; i++) tcc_add_symbol(s, k[i].name, (const void *)k[i].fn);
    }
    if (tcc_compile_string(s, code) < 0 || tcc_relocate(s, TCC_RELOCATE_AUTO) < 0) {
        if (!sink.used) snprintf(err, errlen, "tcc failed to compile the generated code");
        tcc_delete(s);
        return NULL;
    }
    Jit *j = xcalloc(1, sizeof *j);
    j->tcc = s;
    return j;
}

void *jit_symbol(Jit *j, const char *name)
{
    return tcc_get_symbol(j->tcc, name);
}

void jit_free(Jit *j)
{
    if (!j) return;
    tcc_delete(j->tcc);
    free(j);
}
