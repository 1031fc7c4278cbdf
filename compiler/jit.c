/* jit.c: compiles generated C in memory with libtcc (see jit.h). */
#include "jit.h"

#include <libtcc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "kernels.h"
#include "kernels_double.h"

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

static const struct {
    const char *name;
    void *fn;
} kernel_symbols[] = {
    { "lc_matmul_forward", (void *)lc_matmul_forward },
    { "lc_matmul_backward", (void *)lc_matmul_backward },
    { "lc_conv2d_forward", (void *)lc_conv2d_forward },
    { "lc_conv2d_backward", (void *)lc_conv2d_backward },
    { "lc_maxpool_forward", (void *)lc_maxpool_forward },
    { "lc_maxpool_backward", (void *)lc_maxpool_backward },
    { "lc_avgpool_forward", (void *)lc_avgpool_forward },
    { "lc_avgpool_backward", (void *)lc_avgpool_backward },
    /* [threads] backward kernels that assign their input's gradient, and
     * elementwise kernels: vectorised, and split over the pool */
    { "lc_matmul_backward_into", (void *)lc_matmul_backward_into },
    { "lc_conv2d_backward_into", (void *)lc_conv2d_backward_into },
    { "lc_maxpool_backward_into", (void *)lc_maxpool_backward_into },
    { "lc_avgpool_backward_into", (void *)lc_avgpool_backward_into },
    { "lc_relu_forward", (void *)lc_relu_forward },
    { "lc_relu_backward", (void *)lc_relu_backward },
    { "lc_sgd_update", (void *)lc_sgd_update },
    { "lc_adam_update", (void *)lc_adam_update },
};

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
    if (with_kernels == 1)
        for (size_t i = 0; i < sizeof kernel_symbols / sizeof kernel_symbols[0]; i++)
            tcc_add_symbol(s, kernel_symbols[i].name, kernel_symbols[i].fn);
    if (with_kernels == 2)
        for (const LcKernelSymbol *k = lc_kernels_f64; k->name; k++) tcc_add_symbol(s, k->name, k->fn);
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
