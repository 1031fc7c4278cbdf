/* optim.h: the optimizers (SPEC section 1, train block), one descriptor
 * each, in optim.c: their hyper-parameters with defaults and ranges, the
 * per-weight arrays they keep, and the emitter of their step. */
#ifndef LC_OPTIM_H
#define LC_OPTIM_H

#include "ir.h"
#include "op.h"

#define LC_MAX_OPT_SLOTS 4

struct OptimDef {
    const char *name;            /* "sgd" */
    const char *doc;
    /* hyper-parameters: state fields of the generated model (double), which a
     * caller may change between steps; [0] is always lr */
    const char *params[LC_MAX_OPT_PARAMS];
    double defaults[LC_MAX_OPT_PARAMS], lo[LC_MAX_OPT_PARAMS], hi[LC_MAX_OPT_PARAMS];
    int nparams;
    /* arrays of one value per trained weight ("velocity"), and whether an
     * optimizer with these settings needs slot k (NULL: always) */
    const char *slots[LC_MAX_OPT_SLOTS];
    int nslots;
    int (*has_slot)(const Optimizer *o, int k);
    const char *counter;         /* an int64_t step counter in the state, or NULL */
    /* the constants of NAME_update, then one step over params[from, from + n) */
    void (*emit_prologue)(Emit *e, const Optimizer *o);
    /* params[p, p + n) and their gradients grads[g, g + n); extra_decay: the
     * weights' own decay (decay= of their layer), added to weight_decay */
    void (*emit_run)(Emit *e, const Optimizer *o, long p, long g, long n, double extra_decay);
    /* Fused builds: the struct NAME_step_ctx, static NAME_step_begin(m, s)
     * (the constants of a step, once before the backward pass) and
     * static NAME_step(ctx, p, g, at, n, decay) (lc_step_fn of kernels.h) */
    void (*emit_step)(Emit *e, const Optimizer *o);
    KernelRef kernels[LC_MAX_OP_KERNELS];
    const char *units;
    int whole[LC_MAX_OPT_PARAMS];   /* the parameter takes whole numbers only (centered = 0 or 1) */
};

const OptimDef *optim_find(const char *name);
int optim_count(void);
const OptimDef *optim_at(int i);
/* The default optimizer (sgd) with its defaults, or `def` with its defaults. */
Optimizer optim_default(const OptimDef *def);
int optim_param(const OptimDef *def, const char *name);
int optim_has_slot(const Optimizer *o, int k);
double optim_lr(const Optimizer *o);
/* The command line's --optimizer: "NAME" or "NAME(lr, KEY=VALUE, ...)", the
 * train block's syntax with plain numbers.  Returns 0 with a message in err. */
int optim_parse(const char *text, Optimizer *o, char *err, int errlen);

#endif
