/* model_view.c: the model and ops as ONNX import/export see them (see model_view.h).
 * The one file under compiler/onnx/ that reads ir.h's structures and ops.h. */
#include "model_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

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
Shape mv_target(const Model *m, int l) { return m->layers[l].target; }

double mv_num(const Model *m, int l, const char *param, double def)
{
    const Layer *L = &m->layers[l];
    int k = L->op ? op_param(L->op, param) : -1;
    return k < 0 ? def : L->p[k];
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
    int pool = mv_num(m, l, "size", 0) > 0;
    memset(w, 0, sizeof *w);
    w->n = in.rank - 1;
    if (w->n < 1 || w->n > 2 || out.rank != in.rank) return 0;
    long k = (long)mv_num(m, l, pool ? "size" : "kernel", 1);
    long s = (long)mv_num(m, l, "stride", pool ? (double)k : 1);
    long p = (long)mv_num(m, l, "pad", 0), d = (long)mv_num(m, l, "dilation", 1);
    w->groups = (long)mv_num(m, l, "groups", 1);
    for (int a = 0; a < w->n; a++) {
        w->k[a] = k, w->s[a] = s ? s : k, w->d[a] = d, w->lo[a] = w->hi[a] = p;
        if (!axis_fits(in.dims[a + 1], out.dims[a + 1], w->k[a], w->s[a], d, p, p)) return 0;
    }
    return 1;
}

int mv_nweights(const Model *m) { return m->nweights; }
int mv_layer_nweights(const Model *m, int l) { return m->layers[l].nw; }
int mv_layer_weight(const Model *m, int l, int k) { return m->layers[l].w[k]; }

int mv_layer_weight_named(const Model *m, int l, const char *suffix)
{
    char name[LC_MAX_NAME + 64];
    snprintf(name, sizeof name, "%s.%s", m->layers[l].name, suffix);
    for (int k = 0; k < m->layers[l].nw; k++)
        if (!strcmp(m->weights[m->layers[l].w[k]].name, name)) return m->layers[l].w[k];
    return -1;
}

const char *mv_weight_name(const Model *m, int w) { return m->weights[w].name; }
Shape mv_weight_shape(const Model *m, int w) { return m->weights[w].shape; }
const float *mv_weight_values(const Model *m, const float *params, int w) { return params + m->weights[w].offset; }
int mv_weight_declared(const Model *m, int w) { return strchr(m->weights[w].name, '.') == NULL; }
int mv_weight_frozen(const Model *m, int w) { return !m->weights[w].trainable; }

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

const char *mv_weight_init(const Model *m, int w, char *buf, size_t len)
{
    return init_text(&m->weights[w].init, buf, len);
}

const char *mv_layer_init(const Model *m, int l, char *buf, size_t len)
{
    return m->layers[l].op && op_param(m->layers[l].op, "init") >= 0 ? init_text(&m->layers[l].init, buf, len) : NULL;
}

const char *mv_loss(const Model *m) { return loss_name(m->loss); }

const char *mv_train(const Model *m, char *buf, size_t len)
{
    const Optimizer *o = &m->train.opt;
    char a[40], b[40], c[40], d[40], e[40];
    int k;
    if (o->kind == OPT_SGD)
        k = snprintf(buf, len, "optimizer = sgd(lr=%s, momentum=%s, weight_decay=%s);", num(o->lr, a, sizeof a),
                     num(o->momentum, b, sizeof b), num(o->weight_decay, c, sizeof c));
    else
        k = snprintf(buf, len, "optimizer = adam(lr=%s, beta1=%s, beta2=%s, eps=%s, weight_decay=%s);",
                     num(o->lr, a, sizeof a), num(o->beta1, b, sizeof b), num(o->beta2, c, sizeof c),
                     num(o->eps, d, sizeof d), num(o->weight_decay, e, sizeof e));
    if (k > 0 && (size_t)k < len)
        snprintf(buf + k, len - (size_t)k, " batch = %d; epochs = %d; seed = %llu; shuffle = %d;", m->train.batch,
                 m->train.epochs, (unsigned long long)m->train.seed, m->train.shuffle);
    return buf;
}
