/* model_view.c: the model and ops as ONNX import/export see them (see model_view.h).
 * The one file under compiler/onnx/ that reads ir.h's structures and op.h. */
#include "model_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "loss.h"
#include "op.h"
#include "optim.h"
#include "schedule.h"
#include "tensors.h"

int mv_have(const char *op, const char *key)
{
    const OpDef *d = op_find(op);
    return d && (!key || op_param(d, key) >= 0);
}

const char *mv_model_name(const Model *m) { return m->name; }
int mv_nlayers(const Model *m) { return m->nlayers; }
int mv_output(const Model *m) { return m->output; }
const char *mv_name(const Model *m, int l) { return m->layers[l].name; }
const char *mv_op(const Model *m, int l) { return m->layers[l].op ? m->layers[l].op->name : NULL; }
int mv_nin(const Model *m, int l) { return m->layers[l].nin; }
int mv_in(const Model *m, int l, int k) { return m->layers[l].in[k]; }
Shape mv_shape(const Model *m, int l) { return m->layers[l].shape; }

double mv_num(const Model *m, int l, const char *param, double def)
{
    const Layer *L = &m->layers[l];
    int k = L->op ? op_param(L->op, param) : -1;
    return k < 0 ? def : L->arg[k].num;
}

/* Side `axis` of a `k` or `[h, w]` argument (a 1-D op's only side is its last),
 * or def when the op has no such parameter. */
static long side(const Layer *L, const char *param, int axis, int naxes, long def)
{
    int k = L->op ? op_param(L->op, param) : -1;
    if (k < 0) return def;
    if (L->op->params[k].kind != P_PAIR) return (long)L->arg[k].num;
    return L->arg[k].pair[naxes == 1 ? 1 : axis];
}

/* One spatial axis: does the output size follow from these numbers? */
static int axis_fits(long in, long out, long k, long s, long d, long lo, long hi)
{
    long span = (k - 1) * d + 1;
    return in + lo + hi >= span && (in + lo + hi - span) / s + 1 == out;
}

int mv_window(const Model *m, int l, MvWindow *w)
{
    const Layer *L = &m->layers[l];
    Shape in = m->layers[L->in[0]].shape, out = L->shape;
    int pool = L->op && op_param(L->op, "size") >= 0;
    int pk = L->op ? op_param(L->op, "pad") : -1;
    int same = pk >= 0 && L->arg[pk].word == 1;   /* pad=same: its only word */
    memset(w, 0, sizeof *w);
    w->n = in.rank - 1;
    if (w->n < 1 || w->n > 2 || out.rank != in.rank) return 0;
    w->groups = (long)mv_num(m, l, "groups", 1);
    for (int a = 0; a < w->n; a++) {
        long k = side(L, pool ? "size" : "kernel", a, w->n, 1);
        long s = side(L, "stride", a, w->n, pool ? k : 1), d = side(L, "dilation", a, w->n, 1);
        long p = same ? 0 : side(L, "pad", a, w->n, 0);
        w->k[a] = k, w->s[a] = s ? s : k, w->d[a] = d, w->lo[a] = w->hi[a] = p;
        if (same) {   /* Keras: the extra row and column at the bottom and right */
            long total = (out.dims[a + 1] - 1) * w->s[a] + (k - 1) * d + 1 - in.dims[a + 1];
            if (total < 0) total = 0;
            w->lo[a] = total / 2, w->hi[a] = total - total / 2;
        }
        if (!axis_fits(in.dims[a + 1], out.dims[a + 1], w->k[a], w->s[a], d, w->lo[a], w->hi[a])) return 0;
    }
    return 1;
}

LcTensorInfo *mv_tensor_table(const Model *m) { return model_tensor_table(m); }

long mv_nparams(const Model *m) { return m->nparams; }
int mv_nweights(const Model *m) { return m->nweights; }
/* The weights a layer reads: its op's weight slots that hold one, in order. */
int mv_layer_nweights(const Model *m, int l)
{
    const Layer *L = &m->layers[l];
    int n = 0;
    for (int k = 0; L->op && k < L->op->nweights; k++) n += L->w[k] >= 0;
    return n;
}

int mv_layer_weight(const Model *m, int l, int k)
{
    const Layer *L = &m->layers[l];
    for (int s = 0; L->op && s < L->op->nweights; s++)
        if (L->w[s] >= 0 && k-- == 0) return L->w[s];
    return -1;
}

int mv_layer_weight_named(const Model *m, int l, const char *suffix)
{
    char name[LC_MAX_NAME + 64];
    snprintf(name, sizeof name, "%s.%s", m->layers[l].name, suffix);
    for (int k = 0; k < mv_layer_nweights(m, l); k++)
        if (!strcmp(m->weights[mv_layer_weight(m, l, k)].name, name)) return mv_layer_weight(m, l, k);
    return -1;
}

const char *mv_weight_name(const Model *m, int w) { return m->weights[w].name; }
Shape mv_weight_shape(const Model *m, int w) { return m->weights[w].shape; }
const float *mv_weight_values(const Model *m, const float *params, int w) { return params + m->weights[w].offset; }
int mv_weight_declared(const Model *m, int w) { return strchr(m->weights[w].name, '.') == NULL; }
int mv_weight_frozen(const Model *m, int w) { return m->weights[w].role == ROLE_FROZEN; }

/* The shortest text that reads back as the same double. */
static const char *num(double v, char *buf, size_t len)
{
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, len, "%.*g", digits, v);
        if (strtod(buf, NULL) == v) break;
    }
    return buf;
}

static const char *init_text(const Init *i, char *buf, size_t len)
{
    char a[40], b[40];
    switch (i->kind) {
    case INIT_DEFAULT: return NULL;
    case INIT_ZEROS: snprintf(buf, len, "zeros"); break;
    case INIT_ONES: snprintf(buf, len, "ones"); break;
    case INIT_CONSTANT: snprintf(buf, len, "constant(%s)", num(i->a, a, sizeof a)); break;
    case INIT_UNIFORM: snprintf(buf, len, "uniform(%s, %s)", num(i->a, a, sizeof a), num(i->b, b, sizeof b)); break;
    case INIT_NORMAL: snprintf(buf, len, "normal(%s, %s)", num(i->a, a, sizeof a), num(i->b, b, sizeof b)); break;
    case INIT_XAVIER: snprintf(buf, len, "xavier"); break;
    case INIT_HE: snprintf(buf, len, "he"); break;
    case INIT_LITERAL: snprintf(buf, len, "literal"); break;
    }
    return buf;
}

/* The nested literal [[a, b], [c, d]] of values in shape, or 0 when it does not fit. */
static int literal_text(const double *v, const Shape *s, int axis, long *k, char *buf, size_t len, size_t *at)
{
    char num_buf[40];
    if (*at + 2 >= len) return 0;
    buf[(*at)++] = '[';
    for (long i = 0; i < s->dims[axis]; i++) {
        if (i) {
            if (*at + 3 >= len) return 0;
            buf[(*at)++] = ',', buf[(*at)++] = ' ';
        }
        if (axis + 1 < s->rank) {
            if (!literal_text(v, s, axis + 1, k, buf, len, at)) return 0;
        } else {
            size_t n = strlen(num(v[(*k)++], num_buf, sizeof num_buf));
            if (*at + n + 2 >= len) return 0;
            memcpy(buf + *at, num_buf, n);
            *at += n;
        }
    }
    buf[(*at)++] = ']';
    buf[*at] = '\0';
    return 1;
}

const char *mv_weight_init(const Model *m, int w, char *buf, size_t len)
{
    const Weight *W = &m->weights[w];
    long k = 0;
    size_t at = 0;
    if (W->init.kind == INIT_LITERAL && literal_text(W->init.values, &W->shape, 0, &k, buf, len, &at)) return buf;
    return init_text(&W->init, buf, len);
}

const char *mv_layer_init(const Model *m, int l, char *buf, size_t len)
{
    const Layer *L = &m->layers[l];
    int k = L->op ? op_param(L->op, "init") : -1;
    return k >= 0 && L->arg[k].given ? init_text(&L->arg[k].init, buf, len) : NULL;
}

const char *mv_layer_option(const Model *m, int l, const char *param, char *buf, size_t len)
{
    const Layer *L = &m->layers[l];
    int k = L->op ? op_param(L->op, param) : -1;
    return k >= 0 && L->arg[k].given ? num(L->arg[k].num, buf, len) : NULL;
}

const char *mv_loss(const Model *m) { return m->loss->name; }

/* The train block, leaving out what SPEC section 1 gives as defaults. */
const char *mv_train(const Model *m, char *buf, size_t len)
{
    const Optimizer *o = &m->train.opt;
    char v[40];
    size_t k = 0;
#define ADD(...) (k += (size_t)snprintf(buf + k, k < len ? len - k : 0, __VA_ARGS__))
    ADD("optimizer = %s(lr=%s", o->def->name, num(optim_lr(o), v, sizeof v));
    for (int p = 1; p < o->def->nparams; p++)
        if (o->hp[p] != o->def->defaults[p]) ADD(", %s=%s", o->def->params[p], num(o->hp[p], v, sizeof v));
    ADD("); batch = %d; epochs = %d; seed = %llu;", m->train.batch, m->train.epochs,
        (unsigned long long)m->train.seed);
    if (!m->train.shuffle) ADD(" shuffle = 0;");
    const Schedule *sc = &m->train.schedule;
    if (sc->def) {
        ADD(" schedule = %s(", sc->def->name);
        for (int p = 0; p < sc->def->nparams; p++)
            ADD("%s%s=%s", p ? ", " : "", sc->def->params[p], num(sc->hp[p], v, sizeof v));
        ADD(");");
    }
#undef ADD
    return k < len ? buf : "";
}
