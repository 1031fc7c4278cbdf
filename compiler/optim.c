/* optim.c: sgd, adam, rmsprop and adadelta, with the arithmetic of torch.optim (optim.h).
 * Weight decay is added to the gradient, as torch does.  Each run of
 * consecutive trained weights is one kernel call (runtime/kernels/optim.c),
 * vectorised and split over the threads. */
#include "optim.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emit.h"
#include "kernels.h"

enum { LR, MOMENTUM, SGD_DECAY };
enum { ADAM_LR, BETA1, BETA2, EPS, ADAM_DECAY };
enum { RMS_LR, ALPHA, RMS_EPS, RMS_MOMENTUM, CENTERED, RMS_DECAY };
enum { SQUARE_AVG, GRAD_AVG, MOMENTUM_BUFFER };
enum { DELTA_LR, RHO, DELTA_EPS, DELTA_DECAY };

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

static void sgd_step(Emit *e, const Optimizer *o)
{
    const char *N = e->m->name, *R = e_real(e);
    int v = optim_has_slot(o, 0);
    emitf(e, "\n/* sgd, as torch.optim.SGD: g = grad + weight_decay p%s; p -= lr %s */\n"
             "typedef struct {\n    %s_t *m;\n    %s lr, momentum, decay;\n} %s_step_ctx;\n\n"
             "static void %s_step_begin(%s_t *m, %s_step_ctx *s)\n{\n"
             "    s->m = m;\n    s->lr = (%s)m->lr;\n    s->momentum = (%s)m->momentum;\n"
             "    s->decay = (%s)m->weight_decay;\n}\n\n"
             "static void %s_step(void *ctx, %s *p, const %s *g, long at, int n, %s decay)\n{\n"
             "    const %s_step_ctx *s = (const %s_step_ctx *)ctx;\n",
          v ? "; v = momentum v + g" : "", v ? "v" : "g", N, R, N, N, N, N, R, R, R, N, R, R, R, N, N);
    if (v)
        emitf(e, "    lc_sgd_update(p, g, s->m->velocity + at, n, s->lr, s->momentum, s->decay + decay);\n}\n");
    else
        emitf(e, "    (void)at;\n    lc_sgd_update(p, g, NULL, n, s->lr, 0, s->decay + decay);\n}\n");
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

static void adam_step(Emit *e, const Optimizer *o)
{
    const char *N = e->m->name, *R = e_real(e);
    (void)o;
    emitf(e, "\n/* adam, as torch.optim.Adam */\n"
             "typedef struct {\n    %s_t *m;\n"
             "    %s step_size, bias2_sqrt, beta1, beta2, one_beta1, one_beta2, eps, decay;\n} %s_step_ctx;\n\n"
             "static void %s_step_begin(%s_t *m, %s_step_ctx *s)\n{\n"
             "    m->step++;\n"
             "    const double bias1 = 1 - pow(m->beta1, (double)m->step);\n"
             "    const double bias2 = 1 - pow(m->beta2, (double)m->step);\n"
             "    s->m = m;\n"
             "    s->step_size = (%s)(m->lr / bias1), s->bias2_sqrt = (%s)sqrt(bias2);\n"
             "    s->beta1 = (%s)m->beta1, s->beta2 = (%s)m->beta2, s->eps = (%s)m->eps;\n"
             "    s->one_beta1 = (%s)(1 - m->beta1), s->one_beta2 = (%s)(1 - m->beta2);\n"
             "    s->decay = (%s)m->weight_decay;\n}\n\n"
             "static void %s_step(void *ctx, %s *p, const %s *g, long at, int n, %s decay)\n{\n"
             "    const %s_step_ctx *s = (const %s_step_ctx *)ctx;\n"
             "    lc_adam_update(p, g, s->m->adam_m + at, s->m->adam_v + at, n, s->step_size, s->bias2_sqrt,\n"
             "                   s->beta1, s->beta2, s->one_beta1, s->one_beta2, s->eps, s->decay + decay);\n}\n",
          N, R, N, N, N, N, R, R, R, R, R, R, R, R, N, R, R, R, N, N);
}

/* The slots: square_avg always, grad_avg when centered, momentum_buffer with momentum. */
static int rmsprop_has_slot(const Optimizer *o, int k)
{
    return k == SQUARE_AVG || (k == GRAD_AVG && o->hp[CENTERED] != 0) ||
           (k == MOMENTUM_BUFFER && o->hp[RMS_MOMENTUM] != 0);
}

static const char *rmsprop_text(const Optimizer *o)
{
    int centered = optim_has_slot(o, GRAD_AVG), mom = optim_has_slot(o, MOMENTUM_BUFFER);
    return centered && mom ? "g = grad + weight_decay p; s = alpha s + (1 - alpha) g^2; a = alpha a + (1 - alpha) g; "
                             "b = momentum b + g / (sqrt(s - a^2) + eps); p -= lr b"
         : centered ? "g = grad + weight_decay p; s = alpha s + (1 - alpha) g^2; a = alpha a + (1 - alpha) g; "
                      "p -= lr g / (sqrt(s - a^2) + eps)"
         : mom ? "g = grad + weight_decay p; s = alpha s + (1 - alpha) g^2; b = momentum b + g / (sqrt(s) + eps); "
                 "p -= lr b"
               : "g = grad + weight_decay p; s = alpha s + (1 - alpha) g^2; p -= lr g / (sqrt(s) + eps)";
}

/* "m->grad_avg + 12", or "NULL" for a slot these settings do without */
static const char *slot_at(Emit *e, const Optimizer *o, int k, const char *base, const char *at)
{
    if (!optim_has_slot(o, k)) return "NULL";
    return arena_printf(&e->names, "%s%s + %s", base, o->def->slots[k], at);
}

static void rmsprop_prologue(Emit *e, const Optimizer *o)
{
    const char *R = e_real(e);
    emitf(e, "    /* rmsprop, as torch.optim.RMSprop: %s */\n", rmsprop_text(o));
    emitf(e, "    const %s lr = (%s)m->lr, alpha = (%s)m->alpha, one_alpha = (%s)(1 - m->alpha);\n"
             "    const %s eps = (%s)m->eps, momentum = (%s)m->momentum, decay = (%s)m->weight_decay;\n",
          R, R, R, R, R, R, R, R);
}

static void rmsprop_run(Emit *e, const Optimizer *o, long p, long g, long n, double extra_decay)
{
    const char *at = arena_printf(&e->names, "%ld", g);
    emitf(e, "    lc_rmsprop_update(m->params + %ld, m->grads + %ld, %s, %s, %s, %ld,\n"
             "                      lr, alpha, one_alpha, eps, momentum, %s);\n",
          p, g, slot_at(e, o, SQUARE_AVG, "m->", at), slot_at(e, o, GRAD_AVG, "m->", at),
          slot_at(e, o, MOMENTUM_BUFFER, "m->", at), n, decay_of(e, extra_decay));
}

static void rmsprop_step(Emit *e, const Optimizer *o)
{
    const char *N = e->m->name, *R = e_real(e);
    emitf(e, "\n/* rmsprop, as torch.optim.RMSprop: %s */\n"
             "typedef struct {\n    %s_t *m;\n    %s lr, alpha, one_alpha, eps, momentum, decay;\n} %s_step_ctx;\n\n"
             "static void %s_step_begin(%s_t *m, %s_step_ctx *s)\n{\n"
             "    s->m = m;\n    s->lr = (%s)m->lr;\n    s->alpha = (%s)m->alpha;\n"
             "    s->one_alpha = (%s)(1 - m->alpha);\n    s->eps = (%s)m->eps;\n"
             "    s->momentum = (%s)m->momentum;\n    s->decay = (%s)m->weight_decay;\n}\n\n"
             "static void %s_step(void *ctx, %s *p, const %s *g, long at, int n, %s decay)\n{\n"
             "    const %s_step_ctx *s = (const %s_step_ctx *)ctx;\n",
          rmsprop_text(o), N, R, N, N, N, N, R, R, R, R, R, R, N, R, R, R, N, N);
    emitf(e, "    lc_rmsprop_update(p, g, %s, %s, %s, n,\n"
             "                      s->lr, s->alpha, s->one_alpha, s->eps, s->momentum, s->decay + decay);\n}\n",
          slot_at(e, o, SQUARE_AVG, "s->m->", "at"), slot_at(e, o, GRAD_AVG, "s->m->", "at"),
          slot_at(e, o, MOMENTUM_BUFFER, "s->m->", "at"));
}

#define ADADELTA_TEXT "g = grad + weight_decay p; s = rho s + (1 - rho) g^2; " \
                      "d = sqrt(u + eps) / sqrt(s + eps) g; u = rho u + (1 - rho) d^2; p -= lr d"

static void adadelta_prologue(Emit *e, const Optimizer *o)
{
    const char *R = e_real(e);
    (void)o;
    emitf(e, "    /* adadelta, as torch.optim.Adadelta: " ADADELTA_TEXT " */\n"
             "    const %s lr = (%s)m->lr, rho = (%s)m->rho, one_rho = (%s)(1 - m->rho);\n"
             "    const %s eps = (%s)m->eps, decay = (%s)m->weight_decay;\n",
          R, R, R, R, R, R, R);
}

static void adadelta_run(Emit *e, const Optimizer *o, long p, long g, long n, double extra_decay)
{
    (void)o;
    emitf(e, "    lc_adadelta_update(m->params + %ld, m->grads + %ld, m->square_avg + %ld, m->acc_delta + %ld, %ld,\n"
             "                       lr, rho, one_rho, eps, %s);\n",
          p, g, g, g, n, decay_of(e, extra_decay));
}

static void adadelta_step(Emit *e, const Optimizer *o)
{
    const char *N = e->m->name, *R = e_real(e);
    (void)o;
    emitf(e, "\n/* adadelta, as torch.optim.Adadelta: " ADADELTA_TEXT " */\n"
             "typedef struct {\n    %s_t *m;\n    %s lr, rho, one_rho, eps, decay;\n} %s_step_ctx;\n\n"
             "static void %s_step_begin(%s_t *m, %s_step_ctx *s)\n{\n"
             "    s->m = m;\n    s->lr = (%s)m->lr;\n    s->rho = (%s)m->rho;\n"
             "    s->one_rho = (%s)(1 - m->rho);\n    s->eps = (%s)m->eps;\n    s->decay = (%s)m->weight_decay;\n}\n\n"
             "static void %s_step(void *ctx, %s *p, const %s *g, long at, int n, %s decay)\n{\n"
             "    const %s_step_ctx *s = (const %s_step_ctx *)ctx;\n"
             "    lc_adadelta_update(p, g, s->m->square_avg + at, s->m->acc_delta + at, n,\n"
             "                       s->lr, s->rho, s->one_rho, s->eps, s->decay + decay);\n}\n",
          N, R, N, N, N, N, R, R, R, R, R, N, R, R, R, N, N);
}

static const OptimDef optimizers[] = {
    { "sgd", "as torch.optim.SGD",
      { "lr", "momentum", "weight_decay" }, { 0.01, 0, 0 }, { 1e-12, 0, 0 }, { 1e6, 0.999999, 1e6 }, 3,
      { "velocity" }, 1, sgd_has_slot, NULL, sgd_prologue, sgd_run, sgd_step,
      { LC_KERNEL_REF(lc_sgd_update) }, "optim", { 0 } },
    { "adam", "as torch.optim.Adam",
      { "lr", "beta1", "beta2", "eps", "weight_decay" }, { 0.001, 0.9, 0.999, 1e-8, 0 },
      { 1e-12, 0, 0, 1e-30, 0 }, { 1e6, 0.999999, 0.999999, 1, 1e6 }, 5,
      { "adam_m", "adam_v" }, 2, NULL, "step", adam_prologue, adam_run, adam_step,
      { LC_KERNEL_REF(lc_adam_update) }, "optim", { 0 } },
    { "rmsprop", "as torch.optim.RMSprop",
      { "lr", "alpha", "eps", "momentum", "centered", "weight_decay" }, { 0.01, 0.99, 1e-8, 0, 0, 0 },
      { 1e-12, 0, 1e-30, 0, 0, 0 }, { 1e6, 1, 1, 0.999999, 1, 1e6 }, 6,
      { "square_avg", "grad_avg", "momentum_buffer" }, 3, rmsprop_has_slot, NULL,
      rmsprop_prologue, rmsprop_run, rmsprop_step,
      { LC_KERNEL_REF(lc_rmsprop_update) }, "optim", { [CENTERED] = 1 } },
    { "adadelta", "as torch.optim.Adadelta",
      { "lr", "rho", "eps", "weight_decay" }, { 1.0, 0.9, 1e-6, 0 },
      { 1e-12, 0, 1e-30, 0 }, { 1e6, 1, 1, 1e6 }, 4,
      { "square_avg", "acc_delta" }, 2, NULL, NULL, adadelta_prologue, adadelta_run, adadelta_step,
      { LC_KERNEL_REF(lc_adadelta_update) }, "optim", { 0 } },
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

static const char *skip_blanks(const char *s)
{
    while (isspace((unsigned char)*s)) s++;
    return s;
}

/* "sgd, adam, ..." */
static void names_into(char *buf, int len)
{
    buf[0] = '\0';
    for (int i = 0; i < optim_count(); i++)
        snprintf(buf + strlen(buf), (size_t)len - strlen(buf), "%s%s", i ? ", " : "", optimizers[i].name);
}

int optim_parse(const char *text, Optimizer *o, char *err, int errlen)
{
    char word[64], names[256];
    const char *s = skip_blanks(text);
    int len = 0;
    while ((isalnum((unsigned char)s[len]) || s[len] == '_') && len < (int)sizeof word - 1) len++;
    memcpy(word, s, (size_t)len);
    word[len] = '\0';
    const OptimDef *def = optim_find(word);
    if (!def) {
        names_into(names, sizeof names);
        snprintf(err, (size_t)errlen, "--optimizer: unknown optimizer '%s': use one of %s, as NAME or "
                 "NAME(lr, KEY=VALUE, ...)", len ? word : text, names);
        return 0;
    }
    *o = optim_default(def);
    s = skip_blanks(s + len);
    if (*s == '(') {
        s = skip_blanks(s + 1);
        for (int i = 0; *s != ')'; i++) {
            int k = 0;
            len = 0;
            while ((isalnum((unsigned char)s[len]) || s[len] == '_') && len < (int)sizeof word - 1) len++;
            const char *after = skip_blanks(s + len);
            if (len && isalpha((unsigned char)*s) && *after == '=') {
                memcpy(word, s, (size_t)len);
                word[len] = '\0';
                if ((k = optim_param(def, word)) < 0) {
                    char list[256] = "";
                    for (int j = 0; j < def->nparams; j++)
                        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", j ? ", " : "",
                                 def->params[j]);
                    snprintf(err, (size_t)errlen, "--optimizer: unknown option '%s' for %s; it takes %s",
                             word, def->name, list);
                    return 0;
                }
                s = skip_blanks(after + 1);
            } else if (i > 0) {
                snprintf(err, (size_t)errlen, "--optimizer: %s takes options by name after lr, "
                         "e.g. %s(lr=0.1, %s=...)", def->name, def->name, def->params[1]);
                return 0;
            }
            char *end;
            errno = 0;
            double v = strtod(s, &end);
            if (errno || end == s) {
                snprintf(err, (size_t)errlen, "--optimizer: %s of %s must be a number, in '%s'",
                         def->params[k], def->name, text);
                return 0;
            }
            if (!(v >= def->lo[k] && v <= def->hi[k]) || (def->whole[k] && v != (long)v)) {
                snprintf(err, (size_t)errlen, "--optimizer: %s of %s must be %sbetween %g and %g, not %g",
                         def->params[k], def->name, def->whole[k] ? "a whole number " : "", def->lo[k],
                         def->hi[k], v);
                return 0;
            }
            o->hp[k] = v;
            s = skip_blanks(end);
            if (*s == ',') s = skip_blanks(s + 1);
            else if (*s != ')') break;
        }
        if (*s != ')') {
            snprintf(err, (size_t)errlen, "--optimizer: expected ',' or ')' in '%s'", text);
            return 0;
        }
        s = skip_blanks(s + 1);
    }
    if (*s) {
        snprintf(err, (size_t)errlen, "--optimizer: unexpected '%s' after %s, in '%s'", s, def->name, text);
        return 0;
    }
    return 1;
}
