/* plan.c: greedy buffer sharing by liveness (see plan.h). */
#include "plan.h"

#include <stdlib.h>

#include "arena.h"

void plan_buffers(const Model *m, BufferPlan *p)
{
    int n = m->nlayers;
    int *last = xmalloc(sizeof(int) * (size_t)n), *free_list = xmalloc(sizeof(int) * (size_t)n);
    int nfree = 0;
    p->buffer_of = xmalloc(sizeof(int) * (size_t)n);
    p->size = xcalloc((size_t)n, sizeof(long));
    p->nbuffers = 0;
    for (int i = 0; i < n; i++) last[i] = -1;
    for (int i = 0; i < n; i++)
        if (m->layers[i].live)
            for (int k = 0; k < m->layers[i].nin; k++) last[m->layers[i].in[k]] = i;
    /* the loss reads the output, and for cross_entropy and bce the layer before it */
    last[m->output] = n;
    last[model_loss_start(m)] = n;
    for (int i = 0; i < n; i++) {
        const Layer *l = &m->layers[i];
        p->buffer_of[i] = -1;
        if (!l->live) continue;
        /* the smallest free buffer that fits, else the largest one grown, else a new one */
        int pick = -1;
        for (int f = 0; f < nfree; f++) {
            int b = free_list[f];
            if (pick < 0) pick = f;
            else {
                long have = p->size[free_list[pick]], cand = p->size[b];
                int pick_fits = have >= l->size, cand_fits = cand >= l->size;
                if ((cand_fits && (!pick_fits || cand < have)) || (!cand_fits && !pick_fits && cand > have))
                    pick = f;
            }
        }
        int b;
        if (pick >= 0) {
            b = free_list[pick];
            free_list[pick] = free_list[--nfree];
        } else {
            b = p->nbuffers++;
        }
        if (p->size[b] < l->size) p->size[b] = l->size;
        p->buffer_of[i] = b;
        /* inputs read for the last time here are free for the layers after */
        for (int k = 0; k < l->nin; k++) {
            int in = l->in[k], seen = 0;
            for (int j = 0; j < k; j++) seen |= l->in[j] == in;
            if (!seen && last[in] == i) free_list[nfree++] = p->buffer_of[in];
        }
    }
    free(last);
    free(free_list);
}

long plan_floats(const BufferPlan *p)
{
    long total = 0;
    for (int b = 0; b < p->nbuffers; b++) total += p->size[b];
    return total;
}

void plan_free(BufferPlan *p)
{
    free(p->buffer_of);
    free(p->size);
}
