/* plan.c: weights' places, aliases, lifetimes and buffers, gradient writes
 * (plan.h). */
#include "plan.h"

#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "op.h"

static int is_alias(const Layer *l, const Build *b)
{
    return l->op && l->op->aliases && l->op->aliases(l, b->trains);
}

int plan_stores(const Plan *p, const Model *m, int i)
{
    return m->layers[i].live && p->root[i] == i;
}

int plan_is_const(const Plan *p, int w) { return p->param_at[w] < 0; }

static void place_weights(const Model *m, const Build *b, Plan *p)
{
    p->nparams = 0;
    for (int i = 0; i < m->nweights; i++) {
        const Weight *w = &m->weights[i];
        int fixed = b->baked && (!b->trains || w->role == ROLE_FROZEN);
        p->param_at[i] = fixed ? -1 : p->nparams;
        if (!fixed) p->nparams += w->size;
    }
}

/* ---- the timeline: forward steps 0 .. n-1 (layer i at step i), the loss at
 * n, the start of the backward pass at n + 1, the backward block of layer i
 * at n + 1 + (n - i), the end after everything ---- */

static int t_forward(int i) { return i; }
static int t_backward(const Model *m, int i) { return 2 * m->nlayers + 1 - i; }
static int t_end(const Model *m) { return 2 * m->nlayers + 2; }
/* (t_backward(m, n) is n + 1: the start of the backward pass, from the loss) */

/* Layer i's backward block runs in a training build. */
static int runs_backward(const Model *m, const Plan *p, int i)
{
    const Layer *l = &m->layers[i];
    return i > 0 && l->live && l->needs_grad && p->root[i] == i &&
           !(i == m->output && model_loss_start(m) != m->output);
}

/* A tensor alive at step `at` (NEVER: not yet known). */
#define NEVER (-1)
static int add_tensor(Plan *p, TensorKind kind, int layer, int slot, const char *name, long size,
                      int per_sample, int at)
{
    int t = p->ntensors++;
    p->tensors[t] = (PlanTensor){ kind, layer, slot, name, size, per_sample,
                                  at == NEVER ? 1 << 30 : at, at, -1 };
    return t;
}

static void alive_at(Plan *p, int t, int step)
{
    if (t < 0) return;
    if (step < p->tensors[t].birth) p->tensors[t].birth = step;
    if (step > p->tensors[t].death) p->tensors[t].death = step;
}

static void make_tensors(const Model *m, const Build *b, Plan *p)
{
    int n = m->nlayers;
    for (int i = 0; i < n; i++) {
        const Layer *l = &m->layers[i];
        if (!plan_stores(p, m, i)) continue;
        p->out_tensor[i] = add_tensor(p, PT_OUT, i, 0, arena_printf(&p->names, "%s_out", l->name),
                                      l->size, 1, t_forward(i));
        if (b->trains && l->needs_grad && i > 0)
            p->grad_tensor[i] = add_tensor(p, PT_GRAD, i, 0, arena_printf(&p->names, "d_%s", l->name),
                                           l->size, 1, NEVER);
        for (int k = 0; l->op && k < l->op->nsaved; k++) {
            const SavedDef *d = &l->op->saved[k];
            if (d->training_only && !b->trains) continue;
            p->saved_tensor[i * LC_MAX_SAVED + k] =
                add_tensor(p, PT_SAVED, i, k, arena_printf(&p->names, "%s_%s", l->name, d->name),
                           d->size(m, l), d->per_sample, t_forward(i));
        }
    }
}

static void find_lifetimes(const Model *m, const Build *b, Plan *p)
{
    int n = m->nlayers, start = model_loss_start(m);
    for (int i = 1; i < n; i++) {
        const Layer *l = &m->layers[i];
        if (!plan_stores(p, m, i)) continue;
        int back = b->trains && runs_backward(m, p, i);
        for (int k = 0; k < l->nin; k++) {
            int r = p->root[l->in[k]];
            alive_at(p, p->out_tensor[r], t_forward(i));
            if (back && (l->op->backward_reads & READS_INPUTS)) alive_at(p, p->out_tensor[r], t_backward(m, i));
            if (back && m->layers[l->in[k]].needs_grad) alive_at(p, p->grad_tensor[r], t_backward(m, i));
        }
        if (back) {
            if (l->op->backward_reads & READS_OUTPUT) alive_at(p, p->out_tensor[i], t_backward(m, i));
            alive_at(p, p->grad_tensor[i], t_backward(m, i));
            for (int k = 0; k < l->op->nsaved; k++)
                alive_at(p, p->saved_tensor[i * LC_MAX_SAVED + k], t_backward(m, i));
        }
    }
    /* The output and the loss's start are read after the passes too (the
     * runner counts correct predictions after a step; NAME_loss may follow
     * NAME_backward), and the backward pass starts from the loss's start. */
    alive_at(p, p->out_tensor[p->root[m->output]], t_end(m));
    alive_at(p, p->out_tensor[p->root[start]], t_end(m));
    if (b->trains) alive_at(p, p->grad_tensor[p->root[start]], t_backward(m, n));
    for (int t = 0; t < p->ntensors; t++) {
        PlanTensor *x = &p->tensors[t];
        if (x->death == NEVER) x->birth = x->death = 0;   /* never written nor read */
    }
}

/* The smallest free buffer that fits, else the largest one (to be grown).
 * The first of the exact size ends the search: nothing fits better, and a
 * deep model's free list holds thousands of them. */
static int pick_buffer(const Plan *p, const int *free_list, int nfree, long size)
{
    int pick = -1;
    for (int f = 0; f < nfree; f++) {
        if (p->buffers[free_list[f]].size == size) return f;
        if (pick < 0) { pick = f; continue; }
        long have = p->buffers[free_list[pick]].size, cand = p->buffers[free_list[f]].size;
        int pick_fits = have >= size, cand_fits = cand >= size;
        if ((cand_fits && (!pick_fits || cand < have)) || (!cand_fits && !pick_fits && cand > have))
            pick = f;
    }
    return pick;
}

static int by_birth(const void *a, const void *b)
{
    const PlanTensor *x = *(const PlanTensor *const *)a, *y = *(const PlanTensor *const *)b;
    if (x->birth != y->birth) return x->birth < y->birth ? -1 : 1;
    return x < y ? -1 : x > y;
}

static int new_buffer(Plan *p, const PlanTensor *t)
{
    int b = p->nbuffers++;
    p->buffers[b] = (PlanBuffer){ 0, t->per_sample, 0, (int)(t - p->tensors), -1 };
    return b;
}

/* Interval colouring: tensors in order of birth take a buffer whose last
 * tenant died before they are born.  Tensors that are not per sample
 * (batch statistics) and every tensor of a keep_all build get their own. */
/* An elementwise op may write over its input when nothing reads the input
 * after it: the input's buffer, or -1. */
static int inplace_input(const Model *m, const Plan *p, const PlanTensor *t)
{
    const Layer *l = &m->layers[t->layer];
    if (t->kind != PT_OUT || !l->op || !l->op->inplace) return -1;
    const PlanTensor *x = &p->tensors[p->out_tensor[p->root[l->in[0]]]];
    if (x->buffer < 0 || x->death != t->birth || p->buffers[x->buffer].free_after != t->birth) return -1;
    return x->buffer;
}

/* The buffers in use, as a binary min-heap on free_after, so that a deep
 * training build (thousands of outputs alive until their backward block)
 * frees buffers in log time rather than scanning them all per tensor. */
static int busy_less(const Plan *p, int a, int b)
{
    return p->buffers[a].free_after < p->buffers[b].free_after;
}

static void busy_sift_down(const Plan *p, int *h, int n, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && busy_less(p, h[l], h[m])) m = l;
        if (r < n && busy_less(p, h[r], h[m])) m = r;
        if (m == i) return;
        int x = h[i]; h[i] = h[m]; h[m] = x;
        i = m;
    }
}

static void busy_push(const Plan *p, int *h, int *n, int bf)
{
    int i = (*n)++;
    h[i] = bf;
    while (i > 0 && busy_less(p, h[i], h[(i - 1) / 2])) {
        int up = (i - 1) / 2, x = h[i];
        h[i] = h[up]; h[up] = x;
        i = up;
    }
}

static void busy_pop(const Plan *p, int *h, int *n)
{
    h[0] = h[--*n];
    busy_sift_down(p, h, *n, 0);
}

/* Where bf sits in the heap: an in-place tenant extends the buffer its input
 * just used, which is among the last pushed, so the search runs from the end. */
static int busy_index(const int *h, int n, int bf)
{
    for (int i = n - 1; i >= 0; i--)
        if (h[i] == bf) return i;
    return 0;
}

static void share_buffers(const Model *m, const Build *b, Plan *p)
{
    PlanTensor **order = xmalloc(sizeof *order * (size_t)(p->ntensors + 1));
    int *free_list = xmalloc(sizeof(int) * (size_t)(p->ntensors + 1)), nfree = 0;
    int *busy = xmalloc(sizeof(int) * (size_t)(p->ntensors + 1)), nbusy = 0;
    for (int t = 0; t < p->ntensors; t++) order[t] = &p->tensors[t];
    qsort(order, (size_t)p->ntensors, sizeof *order, by_birth);
    for (int k = 0; k < p->ntensors; k++) {
        PlanTensor *t = order[k];
        /* buffers whose tenants are all dead by now are free */
        while (nbusy && p->buffers[busy[0]].free_after < t->birth) {
            free_list[nfree++] = busy[0];
            busy_pop(p, busy, &nbusy);
        }
        int bf, in = inplace_input(m, p, t);
        if (!t->per_sample || b->keep_all) {
            bf = new_buffer(p, t);
        } else if (in >= 0) {
            bf = in;   /* still busy: it stays on the busy heap (its key grows below) */
        } else {
            int f = pick_buffer(p, free_list, nfree, t->size);
            if (f >= 0) {
                bf = free_list[f];
                free_list[f] = free_list[--nfree];
            } else {
                bf = new_buffer(p, t);
            }
        }
        t->buffer = bf;
        if (p->buffers[bf].size < t->size) p->buffers[bf].size = t->size;
        if (p->buffers[bf].free_after < t->death) p->buffers[bf].free_after = t->death;
        p->buffers[bf].ntenants++;
        if (t->per_sample && !b->keep_all) {
            if (in >= 0) busy_sift_down(p, busy, nbusy, busy_index(busy, nbusy, bf));
            else busy_push(p, busy, &nbusy, bf);
        }
    }
    free(order);
    free(free_list);
    free(busy);
}

/* The loss block assigns the gradient it starts from; then each backward
 * block, in reverse layer order, assigns the gradient of an input nothing
 * has written yet and adds to one already written. */
static void plan_gradient_writes(const Model *m, Plan *p)
{
    unsigned char *written = xcalloc((size_t)m->nlayers, 1);
    written[p->root[model_loss_start(m)]] = 1;
    for (int i = m->nlayers - 1; i > 0; i--) {
        const Layer *l = &m->layers[i];
        if (!runs_backward(m, p, i)) continue;
        for (int k = 0; k < l->nin; k++) {
            int r = p->root[l->in[k]];
            if (!m->layers[l->in[k]].needs_grad) continue;
            p->adds[i * LC_MAX_INPUTS + k] = written[r];
            written[r] = 1;
        }
    }
    free(written);
}

void plan_make(const Model *m, const Build *b, Plan *p)
{
    int n = m->nlayers, cap = n * (2 + LC_MAX_SAVED) + 1;
    memset(p, 0, sizeof *p);
    p->nlayers = n;
    p->root = xmalloc(sizeof(int) * (size_t)n);
    p->adds = xcalloc((size_t)n * LC_MAX_INPUTS, 1);
    p->param_at = xmalloc(sizeof(long) * (size_t)(m->nweights + 1));
    p->tensors = xmalloc(sizeof(PlanTensor) * (size_t)cap);
    p->buffers = xmalloc(sizeof(PlanBuffer) * (size_t)cap);
    p->out_tensor = xmalloc(sizeof(int) * (size_t)n);
    p->grad_tensor = xmalloc(sizeof(int) * (size_t)n);
    p->saved_tensor = xmalloc(sizeof(int) * (size_t)n * LC_MAX_SAVED);
    for (int i = 0; i < n; i++) {
        const Layer *l = &m->layers[i];
        p->root[i] = is_alias(l, b) ? p->root[l->in[0]] : i;
        p->out_tensor[i] = p->grad_tensor[i] = -1;
        for (int k = 0; k < LC_MAX_SAVED; k++) p->saved_tensor[i * LC_MAX_SAVED + k] = -1;
    }
    place_weights(m, b, p);
    make_tensors(m, b, p);
    find_lifetimes(m, b, p);
    share_buffers(m, b, p);
    if (b->trains) plan_gradient_writes(m, p);
}

long plan_buffer_floats(const Plan *p)
{
    long total = 0;
    for (int b = 0; b < p->nbuffers; b++)
        if (p->buffers[b].per_sample) total += p->buffers[b].size;
    return total;
}

void plan_free(Plan *p)
{
    free(p->root);
    free(p->adds);
    free(p->param_at);
    free(p->tensors);
    free(p->buffers);
    free(p->out_tensor);
    free(p->grad_tensor);
    free(p->saved_tensor);
    arena_free(&p->names);
    memset(p, 0, sizeof *p);
}
