/* state.c: the fields of NAME_t (state.h). */
#include "state.h"

#include <stdlib.h>
#include <string.h>

#include "op.h"
#include "optim.h"

static void add(StateLayout *s, FieldType type, FieldGroup group, const char *name, long count,
                int per_sample, const char *comment, int layer)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 32;
        s->fields = xrealloc(s->fields, sizeof(StateField) * (size_t)s->cap);
    }
    s->fields[s->n++] = (StateField){ type, group, name, count, per_sample, comment, layer, -1 };
}

static long most_scratch(const Model *m, const Build *b)
{
    long most = 0;
    for (int i = 0; i < m->nlayers; i++) {
        const Layer *l = &m->layers[i];
        if (!l->live || !l->op || !l->op->scratch) continue;
        long w = l->op->scratch(m, l, b);
        if (w > most) most = w;
    }
    return most;
}

/* The 8-byte scalars: the optimizer's settings, its step counter, the
 * random state. */
static void scalars(const Model *m, const Build *b, StateLayout *s)
{
    const Optimizer *o = &m->train.opt;
    if (b->trains) {
        for (int k = 0; k < o->def->nparams; k++)
            add(s, SF_DOUBLE, SG_OPTIMIZER, o->def->params[k], 0, 0,
                k ? NULL : arena_printf(&s->names, "optimizer %s, %s (may be changed between steps)",
                                        o->def->name, o->def->doc), -1);
        if (o->def->counter) add(s, SF_INT64, SG_OPTIMIZER, o->def->counter, 0, 0, NULL, -1);
    }
    const char *who = "random state: initialisation";
    for (int i = 0; i < m->nlayers; i++) {
        const OpDef *op = m->layers[i].op;
        if (!m->layers[i].live || !op || !op->random || !b->trains) continue;
        int seen = 0;
        for (int j = 0; j < i; j++) seen |= m->layers[j].live && m->layers[j].op == op;
        if (!seen) who = arena_printf(&s->names, "%s, %s", who, op->name);
    }
    add(s, SF_UINT64, SG_MISC, "rng", 0, 0, who, -1);
}

static FieldGroup group_of(TensorKind k)
{
    return k == PT_OUT ? SG_OUTPUTS : k == PT_GRAD ? SG_GRADIENTS : SG_SAVED;
}

static void arrays(const Model *m, const Build *b, const Plan *p, StateLayout *s)
{
    const Optimizer *o = &m->train.opt;
    long ng = m->ntrainable ? m->ntrainable : 1;   /* C has no empty arrays */
    add(s, SF_REAL, SG_PARAMS, "params", p->nparams ? p->nparams : 1, 0,
        b->baked ? "the weights that change, in declaration order, row-major"
                 : "every weight, in declaration order, row-major", -1);
    if (b->trains) {
        add(s, SF_REAL, SG_GRADS, "grads", ng, 0, "d(mean loss)/d(trainable weights), in declaration order", -1);
        for (int k = 0; k < o->def->nslots; k++)
            if (optim_has_slot(o, k)) add(s, SF_REAL, SG_OPTIMIZER, o->def->slots[k], ng, 0, NULL, -1);
    }
    for (int k = 0; k < p->nbuffers; k++) {
        const PlanBuffer *bf = &p->buffers[k];
        const PlanTensor *t = &p->tensors[bf->first];
        if (bf->ntenants == 1)
            add(s, SF_REAL, group_of(t->kind), t->name, t->size, t->per_sample, NULL, t->layer);
        else
            add(s, SF_REAL, SG_SHARED, arena_printf(&s->names, "u%d", k), bf->size, bf->per_sample,
                NULL, -1);
        s->fields[s->n - 1].buffer = k;
    }
    long work = most_scratch(m, b);
    if (work) add(s, SF_REAL, SG_SCRATCH, "work", work, 0, "scratch of the layers (im2col)", -1);
}

void state_layout(const Model *m, const Build *b, const Plan *p, StateLayout *s)
{
    memset(s, 0, sizeof *s);
    scalars(m, b, s);
    arrays(m, b, p, s);
    if (b->trains && model_is_modal(m))
        add(s, SF_INT, SG_MISC, "training", 0, 0, "the last forward pass was the training one", -1);
}

void state_free(StateLayout *s)
{
    free(s->fields);
    arena_free(&s->names);
    memset(s, 0, sizeof *s);
}

double state_field_bytes(const StateField *f, const Build *b, int batch)
{
    double size = f->type == SF_REAL ? b->real_size : f->type == SF_INT ? 4 : 8;
    double count = f->count ? (double)f->count : 1;
    return size * count * (f->per_sample ? batch : 1);
}

double state_group_bytes(const StateLayout *s, const Build *b, int batch, FieldGroup g)
{
    double total = 0;
    for (int i = 0; i < s->n; i++)
        if (s->fields[i].group == g) total += state_field_bytes(&s->fields[i], b, batch);
    return total;
}

double state_bytes(const StateLayout *s, const Build *b, int batch)
{
    double total = 0;
    for (int i = 0; i < s->n; i++) total += state_field_bytes(&s->fields[i], b, batch);
    return (double)(((long long)total + 7) / 8 * 8);
}
