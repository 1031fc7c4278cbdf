/* tensors.c: the weight table of a model (tensors.h). */
#include "tensors.h"

#include "arena.h"

LcTensorInfo *model_tensor_table(const Model *m)
{
    LcTensorInfo *t = xcalloc((size_t)(m->nweights ? m->nweights : 1), sizeof *t);
    for (int i = 0; i < m->nweights; i++) {
        const Weight *w = &m->weights[i];
        t[i].name = w->name;
        t[i].rank = w->shape.rank;
        for (int d = 0; d < w->shape.rank; d++) t[i].dims[d] = (int)w->shape.dims[d];
        t[i].offset = w->offset;
        t[i].size = w->size;
    }
    return t;
}
