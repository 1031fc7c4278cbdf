/* plan.c: aliases, buffer sharing by liveness, and gradient writes (plan.h). */
#include "plan.h"

#include <stdlib.h>

#include "arena.h"
#include "op.h"

static int is_alias(const Layer *l, const Build *b)
{
    return l->op && l->op->aliases && l->op->aliases(l, b->trains);
}

static void find_roots(const Model *m, const Build *b, Plan *p)
{
    for (int i = 0; i < m->nlayers; i++) {
        const Layer *l = &m->layers[i];
        p->root[i] = is_alias(l, b) ? p->root[l->in[0]] : i;
    }
}

int plan_stores(const Plan *p, const Model *m, int i)
{
    return m->layers[i].live && p->root[i] == i;
}

/* The smallest free buffer that fits, else the largest one (to be grown). */
static int pick_buffer(const Plan *p, const int *free_list, int nfree, long size)
{
    int pick = -1;
    for (int f = 0; f < nfree; f++) {
        if (pick < 0) { pick = f; continue; }
        long have = p->buffer_size[free_list[pick]], cand = p->buffer_size[free_list[f]];
        int pick_fits = have >= size, cand_fits = cand >= size;
        if ((cand_fits && (!pick_fits || cand < have)) || (!cand_fits && !pick_fits && cand > have))
            pick = f;
    }
    return pick;
}

/* Inference: a stored output is dead once the last layer that reads it (or
 * an alias of it) has run; its buffer then serves the layers after. */
static void share_buffers(const Model *m, const Build *build, Plan *p)
{
    int n = m->nlayers;
    int *last = xmalloc(sizeof(int) * (size_t)n), *free_list = xmalloc(sizeof(int) * (size_t)n);
    int nfree = 0;
    for (int i = 0; i < n; i++) last[i] = -1;
    for (int i = 0; i < n; i++)
        if (m->layers[i].live && p->root[i] == i)
            for (int k = 0; k < m->layers[i].nin; k++) last[p->root[m->layers[i].in[k]]] = i;
    /* the loss reads the output, and for a fused loss the layer before it */
    last[p->root[m->output]] = n;
    last[p->root[model_loss_start(m)]] = n;
    for (int i = 0; i < n; i++) {
        const Layer *l = &m->layers[i];
        if (!plan_stores(p, m, i)) continue;
        int f = pick_buffer(p, free_list, nfree, l->size), b;
        if (f >= 0) {
            b = free_list[f];
            free_list[f] = free_list[--nfree];
        } else {
            b = p->nbuffers++;
        }
        if (p->buffer_size[b] < l->size) p->buffer_size[b] = l->size;
        p->buffer_of[i] = b;
        /* inputs read for the last time here are free for the layers after */
        for (int k = 0; k < l->nin; k++) {
            int r = p->root[l->in[k]], seen = 0;
            for (int j = 0; j < k; j++) seen |= p->root[l->in[j]] == r;
            if (!seen && last[r] == i && !build->keep_all) free_list[nfree++] = p->buffer_of[r];
        }
    }
    for (int i = 0; i < n; i++)
        if (m->layers[i].live && p->root[i] != i) p->buffer_of[i] = p->buffer_of[p->root[i]];
    free(last);
    free(free_list);
}

/* The loss block assigns the gradient it starts from; then each backward
 * block, in reverse layer order, assigns the gradient of an input nothing
 * has written yet and adds to one already written. */
static void plan_gradient_writes(const Model *m, Plan *p)
{
    unsigned char *written = xcalloc((size_t)m->nlayers, 1);
    int start = model_loss_start(m);
    written[p->root[start]] = 1;
    for (int i = m->nlayers - 1; i > 0; i--) {
        const Layer *l = &m->layers[i];
        if (!l->live || !l->needs_grad || p->root[i] != i || (i == m->output && start != m->output))
            continue;
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
    int n = m->nlayers;
    p->nlayers = n;
    p->root = xmalloc(sizeof(int) * (size_t)n);
    p->buffer_of = xmalloc(sizeof(int) * (size_t)n);
    p->buffer_size = xcalloc((size_t)n, sizeof(long));
    p->adds = xcalloc((size_t)n * LC_MAX_INPUTS, 1);
    p->nbuffers = 0;
    for (int i = 0; i < n; i++) p->buffer_of[i] = -1;
    find_roots(m, b, p);
    if (!b->trains) share_buffers(m, b, p);
    else plan_gradient_writes(m, p);
}

long plan_buffer_floats(const Plan *p)
{
    long total = 0;
    for (int b = 0; b < p->nbuffers; b++) total += p->buffer_size[b];
    return total;
}

void plan_free(Plan *p)
{
    free(p->root);
    free(p->buffer_of);
    free(p->buffer_size);
    free(p->adds);
}
