/* ops/common.c: helpers shared by op files (common.h). */
#include "common.h"

#include <stdio.h>

int op_same_shape(OpCtx *c, Layer *l)
{
    l->shape = op_input(c, l, 0)->shape;
    return 1;
}

int op_image_input(OpCtx *c, const Layer *l, const Layer **x)
{
    char a[64];
    *x = op_input(c, l, 0);
    if ((*x)->shape.rank != 3) {
        op_error(c, "%s needs an image [channels, height, width], but %s is %s", l->op->name,
                 (*x)->name, shape_str(&(*x)->shape, a, sizeof a));
        return 0;
    }
    return 1;
}

int op_window_out(OpCtx *c, const Layer *l, const char *thing, const char *what, long h, long k,
                  long stride, long pad, long *out)
{
    if (k > h + 2 * pad) {
        op_error(c, "%s: the %s %ld is larger than the %s of the %sinput (%ld)", l->op->name, thing,
                 k, what, pad ? "padded " : "", h + 2 * pad);
        return 0;
    }
    *out = (h + 2 * pad - k) / stride + 1;
    return 1;
}

void op_elementwise_forward(Emit *e, const Layer *l, const char *expr)
{
    emitf(e, "    for (int i = 0; i < n * %ld; i++) {\n", l->size);
    emitf(e, "        const %s x = %s[i];\n", e_real(e), e_in(e, l, 0));
    emitf(e, "        %s[i] = %s;\n    }\n", e_out(e, layer_index(e->m, l)), expr);
}

void op_elementwise_backward(Emit *e, const Layer *l, int uses_x, int uses_y, const char *expr)
{
    if (!e_wants_grad(e, l, 0)) return;
    int self = layer_index(e->m, l);
    emitf(e, "    for (int i = 0; i < n * %ld; i++) {\n", l->size);
    emitf(e, "        const %s dy = %s[i]", e_real(e), e_grad(e, self));
    if (uses_x) emitf(e, ", x = %s[i]", e_in(e, l, 0));
    if (uses_y) emitf(e, ", y = %s[i]", e_out(e, self));
    emitf(e, ";\n        %s[i] %s %s;\n    }\n", e_in_grad(e, l, 0), e_acc(e, l, 0), expr);
}

/* memmove: the plan may give the output the input's own buffer (a union
 * member of the same storage), and memcpy onto itself is undefined. */
void op_copy_forward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    emitf(e, "    memmove(%s, %s, sizeof(%s) * (size_t)n * %ld);\n", e_out(e, layer_index(e->m, l)),
          e_in(e, l, 0), e_real(e), l->size);
}

void op_copy_backward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    if (!e_wants_grad(e, l, 0)) return;
    int self = layer_index(e->m, l);
    if (!e_adds(e, l, 0))   /* a copy: memmove (tcc's loop is slow; the storage may be shared) */
        emitf(e, "    memmove(%s, %s, sizeof(%s) * (size_t)n * %ld);\n", e_in_grad(e, l, 0), e_grad(e, self),
              e_real(e), l->size);
    else
        emitf(e, "    lc_add_backward(%s, %s, n * %ld, 1);\n", e_in_grad(e, l, 0), e_grad(e, self), l->size);
}

void op_image_dims(const Layer *x, long *c, long *h, long *w)
{
    *c = x->shape.dims[0];
    *h = x->shape.dims[1];
    *w = x->shape.dims[2];
}

double op_flops_elementwise(const Model *m, const Layer *l)
{
    (void)m;
    return (double)l->size;
}

double op_flops_none(const Model *m, const Layer *l)
{
    (void)m, (void)l;
    return 0;
}

int op_always_aliases(const Layer *l, int training)
{
    (void)l, (void)training;
    return 1;
}
