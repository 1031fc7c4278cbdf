/* emit.h: the checked model as C text.
 *
 * One emitter serves the AOT output (`layerc m.lyr -o m.c`: a header and a
 * self-contained source with the kernels it needs pasted in), the JIT (one
 * string for tcc, kernels handed in as symbols, plus a few lc_jit_*
 * accessors the runner needs) and `check` (everything in double precision).
 * The op blocks come from the op descriptors' emitters (op.h), the loss and
 * the optimizer step from theirs (loss.h, optim.h), through the helpers
 * below.
 */
#ifndef LC_EMIT_H
#define LC_EMIT_H

#include <stddef.h>

#include "arena.h"
#include "ir.h"
#include "op.h"
#include "plan.h"

/* --qat: the int8 rounding of a layer's output (scale 0: none), applied in
 * the forward pass after the layer's block (qemit_fake_quant). */
typedef struct {
    double scale;
    int zero, lo, hi;
} FakeQuant;

typedef struct {
    int jit;              /* kernels are external symbols; add lc_jit_* glue */
    int real_double;      /* lc_real = double everywhere (gradient check) */
    int inference;        /* forward only: no gradients, optimizer, backward */
    const float *baked;   /* trained params to bake in as initial values, or NULL */
    const char *header;   /* the header's name for #include (AOT) */
    const char *source_name; /* the .lyr path to cite in comments */
    int threads;          /* AOT: paste the thread pool for this many threads (<= 1: none) */
    Target target;        /* AOT: the kernels for this kind of CPU */
    int fuse_update;      /* AOT: each weight is stepped as soon as its gradient is known */
    int keep_all;         /* no output shares storage with another (the plan's keep_all) */
    const FakeQuant *fake; /* per layer, or NULL (--qat) */
} EmitOptions;

/* Both return malloc'd NUL-terminated text. */
char *emit_header(const Model *m, const EmitOptions *o);
char *emit_source(const Model *m, const EmitOptions *o);

/* The build an EmitOptions describes, for the plan and the state layout. */
Build emit_build(const Model *m, const EmitOptions *o);

/* ---- for the emitters of ops, losses and optimizers ---- */
struct Emit {
    const Model *m;
    const EmitOptions *o;
    Build build;
    const Plan *plan;
    Arena names;          /* the strings the helpers below return live here */
    size_t *line_starts;  /* of the model's source, for the comment above each block */
    int nlines;
    const Layer *stepping;   /* fused builds: the layer whose weight gradients go to m->gwork */
    char *buf;
    size_t len, cap;
};

void emitf(Emit *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* An Emit that only collects text (no plan: other emitters of C, qemit.c):
 * emitf, the comment above a layer's block ("m.lyr:12  h = dense(x, 8) ->
 * [8]"), and the text, malloc'd, at the end. */
void emit_text_begin(Emit *e, const Model *m, const EmitOptions *o);
void emit_text_layer_comment(Emit *e, const Layer *l);
char *emit_text_end(Emit *e);

/* Names in the generated code.  Each is a fresh string that lives as long
 * as the emitter, so any number of them can appear in one emitf call. */
const char *e_out(Emit *e, int layer);                 /* "m->h_out" */
const char *e_in(Emit *e, const Layer *l, int k);      /* output of l's input k */
const char *e_grad(Emit *e, int layer);                /* "m->d_h", "NULL" when not needed */
const char *e_in_grad(Emit *e, const Layer *l, int k); /* gradient of l's input k, or "NULL" */
const char *e_weight(Emit *e, const Layer *l, int slot);  /* "m->params + OFF_h_W", "NULL" */
const char *e_wgrad(Emit *e, const Layer *l, int slot);   /* "m->grads + GOFF_h_W", "NULL" when
                                                             frozen, a buffer or absent */
const char *e_saved(Emit *e, const Layer *l, int slot);   /* "m->h_mask" */
const char *e_num(Emit *e, double v);                  /* a literal of the real type */
const char *e_real(const Emit *e);                     /* "float" or "double" */
/* Backward blocks run in reverse, so the first block to reach the gradient
 * of an input assigns it and later ones add to it: 1 when l's block adds to
 * the gradient of its input k, 0 when it assigns (the plan decides). */
int e_adds(const Emit *e, const Layer *l, int k);
const char *e_acc(const Emit *e, const Layer *l, int k);   /* "+=" or "=" */
/* Input k needs a gradient from l's block. */
int e_wants_grad(const Emit *e, const Layer *l, int k);
/* Fused builds (backward_step emitters): "NAME_step, &step", the step
 * function and its context for a kernel, and where weight `slot` is in the
 * optimizer state ("GOFF_h_W"). */
const char *e_step(Emit *e);
const char *e_step_at(Emit *e, const Layer *l, int slot);

#endif
