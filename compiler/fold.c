/* fold.c: folding per-channel affine layers into the layer before or after them (fold.h). */
#include "fold.h"

#include <stdlib.h>
#include <string.h>

#include "op.h"

/* How many inputs of live layers read layer p. */
static int references(const Model *m, int p)
{
    int n = 0;
    for (int i = 0; i < m->nlayers; i++)
        for (int k = 0; m->layers[i].live && k < m->layers[i].nin; k++) n += m->layers[i].in[k] == p;
    return n;
}

static int weight_named(const Model *m, const char *name, const char *cname)
{
    for (int i = 0; i < m->nweights; i++)
        if (!strcmp(m->weights[i].name, name) || !strcmp(m->weights[i].cname, cname)) return 1;
    return 0;
}

/* Whether P's kernel and bias can take a fold: each used by P alone, the
 * kernel `rows` rows, the bias (absent: its name free for the one folding
 * creates) one value a row. */
static int weights_take_fold(const Model *m, const Layer *P, long rows, Arena *a)
{
    const FoldSlots *s = &P->op->fold_into;
    const Weight *k = layer_weight(m, P, s->kernel), *b = layer_weight(m, P, s->bias);
    if (!k || k->uses != 1 || k->shape.dims[0] != rows) return 0;
    if (b && (b->uses != 1 || b->size != rows)) return 0;
    if (!b && weight_named(m, arena_printf(a, "%s.%s", P->name, P->op->weights[s->bias].name),
                           arena_printf(a, "%s_%s", P->name, P->op->weights[s->bias].name)))
        return 0;
    return 1;
}

/* Layer l folds into its input, the producer: returns the producer's index, or -1. */
static int producer_of(const Model *m, const Layer *l, Arena *a)
{
    if (!l->live || !l->op || !l->op->fold || l->nin != 1) return -1;
    int p = l->in[0];
    const Layer *P = &m->layers[p];
    if (!P->op || !P->op->fold_into.folds || p == m->output || references(m, p) != 1) return -1;
    return weights_take_fold(m, P, P->shape.dims[0], a) ? p : -1;
}

/* Layer l (at index i) folds into the one layer that reads it, which
 * absorbs an input transform (a dense, a conv without padding): returns that
 * reader's index, or -1. */
static int consumer_of(const Model *m, const Layer *l, int i, Arena *a)
{
    if (!l->live || !l->op || !l->op->fold || l->nin != 1 || i == m->output || references(m, i) != 1)
        return -1;
    for (int r = 0; r < m->nlayers; r++) {
        const Layer *C = &m->layers[r];
        if (!C->live || C->nin != 1 || C->in[0] != i) continue;
        if (!C->op || !C->op->fold_into.folds || !C->op->absorbs_input || !C->op->absorbs_input(C)) return -1;
        return weights_take_fold(m, C, C->shape.dims[0], a) ? r : -1;
    }
    return -1;
}

typedef struct {
    int layer;       /* the layer folded away */
    int owner;       /* the layer whose weights take it */
    int source;      /* what the folded layer's readers read instead */
    int into_input;  /* the fold is before the owner (its input), not after */
    double *scale, *shift;
    long channels;
} Fold;

/* The folded weights of owner P, K [rows, row] and b [rows] in np: after P
 * (y = scale P + shift per output row) or before it (P's input x becomes
 * scale x + shift per input channel, element k of a row reading channel
 * k / (row / channels)). */
static void apply_fold(const Fold *f, float *K, float *b, long rows, long row)
{
    if (!f->into_input) {
        for (long c = 0; c < rows; c++) {
            float *w = K + c * row;
            for (long j = 0; j < row; j++) w[j] = (float)(w[j] * f->scale[c]);
            b[c] = (float)(b[c] * f->scale[c] + f->shift[c]);
        }
        return;
    }
    long per = row / f->channels;
    for (long c = 0; c < rows; c++) {
        float *w = K + c * row;
        double shift = 0;
        for (long j = 0; j < row; j++) {
            shift += (double)w[j] * f->shift[j / per];
            w[j] = (float)(w[j] * f->scale[j / per]);
        }
        b[c] = (float)(b[c] + shift);
    }
}

/* One pass: every layer that folds into its producer, or else into its
 * reader, as the model stands; a layer takes part in one fold a pass. */
static const Model *fold_pass(const Model *m, Arena *a, float **params, int *folded)
{
    int nf = 0;
    Fold *f = xcalloc((size_t)m->nlayers, sizeof *f);
    int *fold_of = xmalloc(sizeof(int) * (size_t)m->nlayers);   /* layer -> its fold, -1 */
    int *kernel_of = xmalloc(sizeof(int) * (size_t)(m->nweights + 1));   /* weight -> fold, -1 */
    unsigned char *busy = xcalloc((size_t)m->nlayers, 1);   /* in a fold of this pass */
    for (int i = 0; i < m->nlayers; i++) fold_of[i] = -1;
    for (int i = 0; i < m->nweights; i++) kernel_of[i] = -1;
    for (int i = 0; i < m->nlayers; i++) {
        const Layer *l = &m->layers[i];
        int into_input = 0, p = producer_of(m, l, a);
        if (p < 0 && (p = consumer_of(m, l, i, a)) >= 0) into_input = 1;
        if (p < 0 || busy[i] || busy[p] || busy[l->in[0]]) continue;
        long ch = into_input ? l->shape.dims[0] : m->layers[p].shape.dims[0];
        Fold g = { i, p, into_input ? l->in[0] : p, into_input, xmalloc(sizeof(double) * (size_t)ch),
                   xmalloc(sizeof(double) * (size_t)ch), ch };
        const Weight *k = layer_weight(m, &m->layers[p], m->layers[p].op->fold_into.kernel);
        if (l->op->fold(m, l, *params, g.scale, g.shift) != ch ||
            (into_input && (k->size / k->shape.dims[0]) % ch)) {
            free(g.scale), free(g.shift);
            continue;
        }
        busy[i] = busy[p] = busy[l->in[0]] = 1;
        fold_of[i] = nf;
        kernel_of[m->layers[p].w[m->layers[p].op->fold_into.kernel]] = nf;
        f[nf++] = g;
    }
    free(busy);
    if (!nf) {
        free(f), free(fold_of), free(kernel_of);
        return m;
    }

    Model *n = arena_alloc(a, sizeof *n);
    *n = *m;
    n->layers = arena_alloc(a, sizeof(Layer) * (size_t)m->nlayers);
    memcpy(n->layers, m->layers, sizeof(Layer) * (size_t)m->nlayers);
    n->weights = NULL;
    n->nweights = 0, n->nparams = 0, n->ntrainable = 0;

    /* the weights in order, less those of the folded layers, with a bias
     * created right after a kernel whose layer has none */
    int *map = xmalloc(sizeof(int) * (size_t)(m->nweights + 1));
    unsigned char *dropped = xcalloc((size_t)m->nweights + 1, 1);
    for (int g = 0; g < nf; g++) {
        const Layer *l = &m->layers[f[g].layer];
        for (int k = 0; k < l->op->nweights; k++)
            if (l->w[k] >= 0) dropped[l->w[k]] = 1;
    }
    int *created = xmalloc(sizeof(int) * (size_t)nf);   /* fold -> the bias it created, -1 */
    for (int g = 0; g < nf; g++) created[g] = -1;
    for (int i = 0; i < m->nweights; i++) {
        map[i] = -1;
        if (dropped[i]) continue;
        map[i] = model_add_weight(n, a, &m->weights[i]);
        int g = kernel_of[i];
        if (g < 0) continue;
        const Layer *P = &m->layers[f[g].owner];
        const FoldSlots *s = &P->op->fold_into;
        if (P->w[s->bias] >= 0) continue;
        const Weight *k = &m->weights[i];
        Weight b = { arena_printf(a, "%s.%s", P->name, P->op->weights[s->bias].name),
                     arena_printf(a, "%s_%s", P->name, P->op->weights[s->bias].name), P->loc,
                     { 1, { k->shape.dims[0] } }, 0, 0, -1, P->op->weights[s->bias].role,
                     { INIT_ZEROS, 0, 0, NULL }, k->fan_in, k->fan_out, 0, 1, 0 };
        created[g] = model_add_weight(n, a, &b);
    }

    /* the values: copied, the folds applied */
    float *np = xcalloc((size_t)(n->nparams ? n->nparams : 1), sizeof(float));
    for (int i = 0; i < m->nweights; i++)
        if (map[i] >= 0)
            memcpy(np + n->weights[map[i]].offset, *params + m->weights[i].offset,
                   sizeof(float) * (size_t)m->weights[i].size);
    for (int g = 0; g < nf; g++) {
        Layer *P = &n->layers[f[g].owner];
        const FoldSlots *s = &P->op->fold_into;
        const Weight *k = &n->weights[map[P->w[s->kernel]]];
        int bi = P->w[s->bias] >= 0 ? map[P->w[s->bias]] : created[g];
        long rows = k->shape.dims[0];
        apply_fold(&f[g], np + k->offset, np + n->weights[bi].offset, rows, k->size / rows);
    }

    /* the layers: weights renumbered, readers of a folded layer read its source (producer or input) */
    for (int i = 0; i < n->nlayers; i++) {
        Layer *l = &n->layers[i];
        for (int k = 0; l->op && k < l->op->nweights; k++)
            l->w[k] = l->w[k] >= 0 ? map[l->w[k]] : -1;
        for (int k = 0; k < l->nin; k++)
            if (fold_of[l->in[k]] >= 0) l->in[k] = f[fold_of[l->in[k]]].source;
        l->live = 0, l->needs_grad = 0;
    }
    for (int g = 0; g < nf; g++) {
        Layer *P = &n->layers[f[g].owner];
        if (created[g] >= 0) P->w[P->op->fold_into.bias] = created[g];
    }
    if (fold_of[m->output] >= 0) n->output = f[fold_of[m->output]].source;
    for (int i = 0; i < n->nweights; i++) n->weights[i].updated = 0;
    model_mark(n);

    for (int g = 0; g < nf; g++) free(f[g].scale), free(f[g].shift);
    free(f), free(fold_of), free(kernel_of), free(map), free(dropped), free(created);
    free(*params);
    *params = np;
    *folded += nf;
    return n;
}

const Model *fold_model(const Model *m, Arena *a, float **params, int *folded)
{
    *folded = 0;
    for (;;) {
        const Model *n = fold_pass(m, a, params, folded);
        if (n == m) return m;
        m = n;
    }
}
