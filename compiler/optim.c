/* optim.c: sgd and adam, with the arithmetic of torch.optim (optim.h).
 * Weight decay is added to the gradient, as torch does.  Each run of
 * consecutive trained weights is one kernel call (runtime/kernels/optim.c),
 * vectorised and split over the threads. */
#include "optim.h"

#include <string.h>

#include "emit.h"
#include "kernels.h"

enum { LR, MOMENTUM, SGD_DECAY };
enum { ADAM_LR, BETA1, BETA2, EPS, ADAM_DECAY };

static int sgd_has_slot(const Optimizer *o, int k)
{
    (void)k;
    return o->hp[MOMENTUM] != 0;
}

static void sgd_prologue(Emit *e, const Optimizer *o)
{
    const char *R = e_real(e);
    int v = optim_has_slot(o, 0);
    emitf(e, "    /* sgd, as torch.optim.SGD: g = grad + weight_decay p%s; p -= lr %s */\n",
          v ? "; v = momentum v + g" : "", v ? "v" : "g");
    emitf(e, "    const %s lr = (%s)m->lr, decay = (%s)m->weight_decay;\n", R, R, R);
    if (v) emitf(e, "    const %s momentum = (%s)m->momentum;\n", R, R);
}

/* "decay", or "decay + 0.001f" for weights with a decay of their own */
static const char *decay_of(Emit *e, double extra)
{
    return extra ? arena_printf(&e->names, "decay + %s", e_num(e, extra)) : "decay";
}

static void sgd_run(Emit *e, const Optimizer *o, long p, long g, long n, double extra_decay)
{
    if (optim_has_slot(o, 0))
        emitf(e, "    lc_sgd_update(m->params + %ld, m->grads + %ld, m->velocity + %ld, %ld, lr, momentum, %s);\n",
              p, g, g, n, decay_of(e, extra_decay));
    else
        emitf(e, "    lc_sgd_update(m->params + %ld, m->grads + %ld, NULL, %ld, lr, 0, %s);\n",
              p, g, n, decay_of(e, extra_decay));
}

static void adam_prologue(Emit *e, const Optimizer *o)
{
    const char *R = e_real(e);
    (void)o;
    emitf(e, "    /* adam, as torch.optim.Adam */\n"
             "    m->step++;\n"
             "    const double bias1 = 1 - pow(m->beta1, (double)m->step);\n"
             "    const double bias2 = 1 - pow(m->beta2, (double)m->step);\n"
             "    const %s step_size = (%s)(m->lr / bias1), bias2_sqrt = (%s)sqrt(bias2);\n"
             "    const %s beta1 = (%s)m->beta1, beta2 = (%s)m->beta2, eps = (%s)m->eps;\n"
             "    const %s one_beta1 = (%s)(1 - m->beta1), one_beta2 = (%s)(1 - m->beta2);\n"
             "    const %s decay = (%s)m->weight_decay;\n",
          R, R, R, R, R, R, R, R, R, R, R, R);
}

static void adam_run(Emit *e, const Optimizer *o, long p, long g, long n, double extra_decay)
{
    (void)o;
    emitf(e, "    lc_adam_update(m->params + %ld, m->grads + %ld, m->adam_m + %ld, m->adam_v + %ld, %ld,\n"
             "                   step_size, bias2_sqrt, beta1, beta2, one_beta1, one_beta2, eps, %s);\n",
          p, g, g, g, n, decay_of(e, extra_decay));
}

static const OptimDef optimizers[] = {
    { "sgd", "as torch.optim.SGD",
      { "lr", "momentum", "weight_decay" }, { 0.01, 0, 0 }, { 1e-12, 0, 0 }, { 1e6, 0.999999, 1e6 }, 3,
      { "velocity" }, 1, sgd_has_slot, NULL, sgd_prologue, sgd_run,
      { LC_KERNEL_REF(lc_sgd_update) }, "optim" },
    { "adam", "as torch.optim.Adam",
      { "lr", "beta1", "beta2", "eps", "weight_decay" }, { 0.001, 0.9, 0.999, 1e-8, 0 },
      { 1e-12, 0, 0, 1e-30, 0 }, { 1e6, 0.999999, 0.999999, 1, 1e6 }, 5,
      { "adam_m", "adam_v" }, 2, NULL, "step", adam_prologue, adam_run,
      { LC_KERNEL_REF(lc_adam_update) }, "optim" },
};

int optim_count(void) { return (int)(sizeof optimizers / sizeof optimizers[0]); }
const OptimDef *optim_at(int i) { return &optimizers[i]; }

const OptimDef *optim_find(const char *name)
{
    for (int i = 0; i < optim_count(); i++)
        if (!strcmp(optimizers[i].name, name)) return &optimizers[i];
    return NULL;
}

Optimizer optim_default(const OptimDef *def)
{
    Optimizer o;
    memset(&o, 0, sizeof o);
    o.def = def ? def : &optimizers[0];
    for (int i = 0; i < o.def->nparams; i++) o.hp[i] = o.def->defaults[i];
    return o;
}

int optim_param(const OptimDef *def, const char *name)
{
    for (int i = 0; i < def->nparams; i++)
        if (!strcmp(def->params[i], name)) return i;
    return -1;
}

int optim_has_slot(const Optimizer *o, int k) { return !o->def->has_slot || o->def->has_slot(o, k); }

double optim_lr(const Optimizer *o) { return o->hp[0]; }
