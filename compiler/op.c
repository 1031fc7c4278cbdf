/* op.c: the table of op descriptors, and what shape functions use (op.h). */
#include "op.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kernels.h"
#include "loss.h"
#include "optim.h"

/* build/ops_table.c: every `const OpDef lc_op_NAME` of the files in compiler/ops */
extern const OpDef *const lc_op_table[];

#define MAX_EXTRA_OPS 16
static const OpDef *extra_ops[MAX_EXTRA_OPS];
static int nextra;

static int table_count(void)
{
    int n = 0;
    while (lc_op_table[n]) n++;
    return n;
}

int op_count(void) { return table_count() + nextra; }

const OpDef *op_at(int i)
{
    int n = table_count();
    return i < n ? lc_op_table[i] : extra_ops[i - n];
}

void op_register(const OpDef *op)
{
    if (nextra < MAX_EXTRA_OPS && !op_find(op->name)) extra_ops[nextra++] = op;
}

const OpDef *op_find(const char *name)
{
    for (int i = 0; i < op_count(); i++)
        if (!strcmp(op_at(i)->name, name)) return op_at(i);
    return NULL;
}

int op_param(const OpDef *op, const char *name)
{
    for (int i = 0; i < op->nparams; i++)
        if (!strcmp(op->params[i].name, name)) return i;
    return -1;
}

static int add_symbols(KernelRef *all, int n, int cap, const KernelRef *k, int nk)
{
    for (int i = 0; i < nk && k[i].name; i++) {
        int seen = 0;
        for (int j = 0; j < n && !seen; j++) seen = !strcmp(all[j].name, k[i].name);
        if (!seen && n < cap) all[n++] = k[i];
    }
    return n;
}

int op_kernel_symbols(const KernelRef **out)
{
    static KernelRef all[256];
    static int n = -1;
    if (n < 0) {
        n = 0;
        for (int i = 0; i < op_count(); i++)
            n = add_symbols(all, n, 256, op_at(i)->kernels, LC_MAX_OP_KERNELS);
        for (int i = 0; i < optim_count(); i++)
            n = add_symbols(all, n, 256, optim_at(i)->kernels, LC_MAX_OP_KERNELS);
        for (int i = 0; i < loss_count(); i++)
            n = add_symbols(all, n, 256, loss_at(i)->kernels, LC_MAX_OP_KERNELS);
        /* the build's own: --qat's rounding of layer outputs (emit.h) */
        static const KernelRef build[LC_MAX_OP_KERNELS] = { LC_KERNEL_REF(lc_fakequant_forward) };
        n = add_symbols(all, n, 256, build, LC_MAX_OP_KERNELS);
    }
    *out = all;
    return n;
}

/* ---- for shape functions ---- */

const Layer *op_input(OpCtx *c, const Layer *l, int k) { return &c->m->layers[l->in[k]]; }

void op_error(OpCtx *c, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    diag_error(c->d, c->loc, "%s", msg);
}

int op_weight(OpCtx *c, Layer *l, int slot, Shape shape, long fan_in, long fan_out,
              const Init *init)
{
    const WeightDef *d = &l->op->weights[slot];
    Weight w = { arena_printf(c->a, "%s.%s", l->name, d->name),
                 arena_printf(c->a, "%s_%s", l->name, d->name), c->loc, shape, 0, 0, -1, d->role,
                 init ? *init : d->init, fan_in, fan_out, 0, 1, 0 };
    int i = model_add_weight(c->m, c->a, &w);
    if (i < 0) {
        op_error(c, "the weights of the model are too large: over %ld floats in all",
                 LC_MAX_STATE_FLOATS);
        return 0;
    }
    l->w[slot] = i;
    return 1;
}

const Weight *op_weight_of(OpCtx *c, const Layer *l, int slot)
{
    return l->w[slot] >= 0 ? &c->m->weights[l->w[slot]] : NULL;
}
