/* ops/softmax.c: softmax(x) = exp(x) / sum exp(x) over each sample's
 * vector, [n] -> [n].  With cross_entropy as the loss, the loss's backward
 * starts at its input (p - t), and this op's backward is never emitted. */
#include "common.h"

#include <stdio.h>

static int softmax_shape(OpCtx *c, Layer *l)
{
    const Layer *x = op_input(c, l, 0);
    char b[64];
    if (x->shape.rank != 1) {
        op_error(c, "softmax needs a vector, but %s is %s; flatten it first", x->name,
                 shape_str(&x->shape, b, sizeof b));
        return 0;
    }
    l->shape = x->shape;
    return 1;
}

/* shifted by each sample's max, so exp never overflows */
static void softmax_forward(Emit *e, const Layer *l, Mode mode)
{
    const char *R = e_real(e);
    long k = l->size;
    (void)mode;
    emitf(e, "    for (int b = 0; b < n; b++) {\n"
             "        const %s *x = %s + b * %ld;\n        %s *y = %s + b * %ld;\n"
             "        %s max = x[0], sum = 0;\n"
             "        for (int j = 1; j < %ld; j++) if (x[j] > max) max = x[j];\n"
             "        for (int j = 0; j < %ld; j++) sum += y[j] = %s(x[j] - max);\n"
             "        for (int j = 0; j < %ld; j++) y[j] /= sum;\n    }\n",
          R, e_in(e, l, 0), k, R, e_out(e, layer_index(e->m, l)), k, R, k, k,
          e->o->real_double ? "exp" : "expf", k);
}

/* dx_j (+)= y_j (dy_j - sum_k dy_k y_k) */
static void softmax_backward(Emit *e, const Layer *l, Mode mode)
{
    const char *R = e_real(e);
    long k = l->size;
    int self = layer_index(e->m, l);
    (void)mode;
    if (!e_wants_grad(e, l, 0)) return;
    emitf(e, "    for (int b = 0; b < n; b++) {\n"
             "        const %s *y = %s + b * %ld, *dy = %s + b * %ld;\n"
             "        %s *dx = %s + b * %ld;\n        %s dot = 0;\n"
             "        for (int j = 0; j < %ld; j++) dot += dy[j] * y[j];\n"
             "        for (int j = 0; j < %ld; j++) dx[j] %s y[j] * (dy[j] - dot);\n    }\n",
          R, e_out(e, self), k, e_grad(e, self), k, R, e_in_grad(e, l, 0), k, R, k, k,
          e_acc(e, l, 0));
}

const OpDef lc_op_softmax = {
    .name = "softmax", .doc = "exp(x) / sum(exp(x)) over a vector",
    .params = { P_LAYER_ARG("x") }, .nparams = 1,
    .backward_reads = READS_OUTPUT, .fused_loss = "cross_entropy",
    .shape = softmax_shape, .forward = softmax_forward, .backward = softmax_backward,
    .flops = op_flops_elementwise,
};
