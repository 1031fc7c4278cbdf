/* ops/softmax.c: softmax(x) = exp(x) / sum exp(x) over each sample's
 * vector, [n] -> [n].  With cross_entropy as the loss, the loss's backward
 * starts at its input (p - t), and this op's backward is never emitted. */
#include "common.h"

#include <stdio.h>

#include "kernels.h"
#include "onnx/expctx.h"

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

/* each sample's row shifted by its max, so exp never overflows: a kernel
 * (runtime/kernels/activation.c) */
static void softmax_forward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    emitf(e, "    lc_softmax_forward(%s, %s, n, %ld);\n", e_out(e, layer_index(e->m, l)), e_in(e, l, 0),
          l->size);
}

/* dx_j (+)= y_j (dy_j - sum_k dy_k y_k) */
static void softmax_backward(Emit *e, const Layer *l, Mode mode)
{
    int self = layer_index(e->m, l);
    (void)mode;
    if (!e_wants_grad(e, l, 0)) return;
    emitf(e, "    lc_softmax_backward(%s, %s, %s, n, %ld, %d);\n", e_in_grad(e, l, 0), e_grad(e, self),
          e_out(e, self), l->size, e_adds(e, l, 0));
}

/* ONNX: Softmax over the vector of a sample, the last axis */
static int softmax_onnx(ExpCtx *cx)
{
    exp_attr_int(cx, exp_unary(cx, "Softmax"), "axis", -1);
    return 1;
}

const OpDef lc_op_softmax = {
    .onnx_export = softmax_onnx,
    .name = "softmax", .doc = "exp(x) / sum(exp(x)) over a vector",
    .params = { P_LAYER_ARG("x") }, .nparams = 1,
    .kernels = { LC_KERNEL_REF(lc_softmax_forward), LC_KERNEL_REF(lc_softmax_backward) },
    .units = "vmath activation", .backward_reads = READS_OUTPUT, .fused_loss = "cross_entropy",
    .shape = softmax_shape, .forward = softmax_forward, .backward = softmax_backward,
    .flops = op_flops_elementwise,
};
