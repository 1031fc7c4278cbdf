/* emit.h: the checked model as C text.
 *
 * One emitter serves the AOT output (`layerc m.lyr -o m.c`: a header and a
 * self-contained source with the kernels pasted in), the JIT (one string for
 * tcc, kernels handed in as symbols, plus a few lc_jit_* accessors the runner
 * needs) and `check` (everything in double precision).
 */
#ifndef LC_EMIT_H
#define LC_EMIT_H

#include <stddef.h>

#include "ir.h"

typedef struct {
    int jit;              /* kernels are external symbols; add lc_jit_* glue */
    int real_double;      /* lc_real = double everywhere (gradient check) */
    int inference;        /* forward only: no gradients, optimizer, backward */
    const float *baked;   /* trained params to bake in as initial values, or NULL */
    const char *header;   /* the header's name for #include (AOT) */
    const char *source_name; /* the .lyr path to cite in comments */
    int threads;          /* [threads] AOT: paste the pool for this many threads (<= 1: none) */
} EmitOptions;

/* Both return malloc'd NUL-terminated text. */
char *emit_header(const Model *m, const EmitOptions *o);
char *emit_source(const Model *m, const EmitOptions *o);


/* ---- for the op emitters (emit_ops.c) ---- */
typedef struct Emit Emit;
struct Emit {
    const Model *m;
    const EmitOptions *o;
    char *buf;
    size_t len, cap;
    int indent;
    int *buffer_of;       /* --inference: the shared buffer of each layer's output */
    unsigned char *written;  /* backward: d_LAYER already holds a value */
};

void emitf(Emit *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "m->h_out", "m->d_h" (NULL when the layer needs no gradient), "m->params + OFF_h_W",
 * "m->grads + OFF_h_W" ("NULL" for frozen weights). Each returns one of a few
 * rotating static buffers, so several can appear in one emitf call. */
const char *e_out(Emit *e, int layer);
const char *e_grad(Emit *e, int layer);
const char *e_weight(Emit *e, int weight);
const char *e_wgrad(Emit *e, int weight);
const char *e_real(Emit *e);
/* Backward blocks run in reverse, so the first block to reach d_LAYER
 * assigns it and later ones add to it: "=" the first time, "+=" after. */
const char *e_acc(Emit *e, int layer);
/* The same decision as a flag for kernels: 1 = add, 0 = assign. */
int e_adds(Emit *e, int layer);

#endif
