/* ir.c: shapes, and the questions every later stage asks of a checked model
 * (see ir.h). */
#include "ir.h"

#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "loss.h"
#include "op.h"

long shape_size(const Shape *s)
{
    long n = 1;
    for (int i = 0; i < s->rank; i++) n *= s->dims[i];
    return n;
}

int shape_equal(const Shape *a, const Shape *b)
{
    return a->rank == b->rank && !memcmp(a->dims, b->dims, sizeof(long) * (size_t)a->rank);
}

const char *shape_str(const Shape *s, char *buf, int len)
{
    int k = snprintf(buf, (size_t)len, "[");
    for (int i = 0; i < s->rank && k < len; i++)
        k += snprintf(buf + k, (size_t)(len - k), "%s%ld", i ? ", " : "", s->dims[i]);
    if (k < len) snprintf(buf + k, (size_t)(len - k), "]");
    return buf;
}

const Weight *layer_weight(const Model *m, const Layer *l, int slot)
{
    if (!l->op || slot >= l->op->nweights || l->w[slot] < 0) return NULL;
    return &m->weights[l->w[slot]];
}

const Layer *layer_input(const Model *m, const Layer *l, int k)
{
    return &m->layers[l->in[k]];
}

int layer_index(const Model *m, const Layer *l) { return (int)(l - m->layers); }

int weight_trainable(const Weight *w) { return w->role == ROLE_TRAINABLE; }

/* The capacity arena_grow has given an array after n additions. */
static int grown_cap(int n)
{
    int cap = 0;
    while (cap < n) cap = cap ? cap * 2 : 8;
    return cap;
}

int model_add_weight(Model *m, Arena *a, const Weight *w)
{
    long size = shape_size(&w->shape);
    if (m->nparams > LC_MAX_STATE_FLOATS - size) return -1;
    int cap = grown_cap(m->nweights);
    arena_grow(a, (void **)&m->weights, &cap, m->nweights, sizeof(Weight));
    int i = m->nweights++;
    m->weights[i] = *w;
    m->weights[i].size = size;
    m->weights[i].offset = m->nparams;
    m->weights[i].grad_offset = w->role == ROLE_TRAINABLE ? m->ntrainable : -1;
    m->nparams += size;
    if (w->role == ROLE_TRAINABLE) m->ntrainable += size;
    return i;
}

int model_loss_start(const Model *m)
{
    const Layer *out = &m->layers[m->output];
    if (loss_fuses_with(m->loss, out)) return out->in[0];
    return m->output;
}

int model_classes(const Model *m)
{
    return m->loss->truth == TRUTH_ONE_HOT ? (int)m->layers[m->output].size : 0;
}

int model_is_modal(const Model *m)
{
    for (int i = 0; i < m->nlayers; i++)
    {
        const Layer *l = &m->layers[i];
        if (l->live && l->op && l->op->modal && !(l->op->aliases && l->op->aliases(l, 1))) return 1;
    }
    return 0;
}

static void mark_live(Model *m)
{
    m->layers[m->output].live = 1;
    for (int i = m->output; i >= 0; i--)
        if (m->layers[i].live)
            for (int k = 0; k < m->layers[i].nin; k++) m->layers[m->layers[i].in[k]].live = 1;
}

static void mark_needs_grad(Model *m)
{
    for (int i = 0; i < m->nlayers; i++) {
        Layer *l = &m->layers[i];
        l->needs_grad = 0;
        if (!l->live) continue;
        for (int k = 0; l->op && k < l->op->nweights; k++) {
            const Weight *w = layer_weight(m, l, k);
            if (w && weight_trainable(w)) l->needs_grad = 1;
        }
        for (int k = 0; k < l->nin; k++)
            if (m->layers[l->in[k]].needs_grad) l->needs_grad = 1;
    }
    /* the loss's backward starts below a fused output op: no d_output */
    if (model_loss_start(m) != m->output) m->layers[m->output].needs_grad = 0;
}

static void mark_updated(Model *m)
{
    for (int i = 0; i < m->nlayers; i++) {
        const Layer *l = &m->layers[i];
        for (int k = 0; l->op && k < l->op->nweights; k++)
            if (l->w[k] >= 0 && l->live && weight_trainable(&m->weights[l->w[k]]))
                m->weights[l->w[k]].updated = 1;
    }
}

void model_mark(Model *m)
{
    mark_live(m);
    mark_needs_grad(m);
    mark_updated(m);
}
