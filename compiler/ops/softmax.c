/* ops/softmax.c: softmax(x) = exp(x) / sum exp(x) over each sample's
 * vector, [n] -> [n].  With cross_entropy as the loss, the loss's backward
 * starts at its input (p - t), and this op's backward is never emitted. */
#include "common.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kernels.h"
#include "qemit.h"
#include "onnx/expctx.h"
#include "onnx/impctx.h"

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

/* int8: out at scale 1/256 from -128 (TFLite's); exp of the distance d of
 * a value below its row's largest, e[d] = round(2^16 exp(-s_in d)),
 * tabulated here */
static void softmax_int8(QEmit *q, const Layer *l)
{
    int32_t t[256];
    double s = q_in_params(q, l, 0)->scale;
    for (int d = 0; d < 256; d++) t[d] = (int32_t)quant_round(65536.0 * exp(-s * d));
    emitf(&q->e, "    lc_i8_softmax_forward(%s, %s, n, %ld, %s);\n", q_out(q, l), q_in(q, l, 0), l->size,
          q_table_i32(q, l, "exp", t, 256));
}

/* ONNX: Softmax over the vector of a sample, the last axis */
static int softmax_onnx(ExpCtx *cx)
{
    exp_attr_int(cx, exp_unary(cx, "Softmax"), "axis", -1);
    return 1;
}

/* Softmax over an axis is layerc's softmax over a vector when every other
 * axis of the sample has size 1; before opset 13 the sample is flattened
 * from `axis` on, which is layerc's softmax when the axis is the first one
 * of the sample (or those before it have size 1). */
static int softmax_from_onnx(ImpCtx *cx)
{
    int64_t axis;
    ImpValue *v = imp_layer_in(cx, 0);
    int old = imp_opset(cx) < 13;
    if (!v || !imp_attr_check(cx, "axis") || imp_attr_int(cx, "axis", old ? 1 : -1, &axis) < 0) return 0;
    int r = v->shape.rank + 1;
    if (axis < -r || axis >= r) return imp_refuse(cx, "axis %lld is out of range", (long long)axis);
    if (axis < 0) axis += r;
    if (axis == 0) return imp_refuse(cx, "it normalises along the batch axis");
    for (int k = 0; k < v->shape.rank; k++) {
        int free_axis = old ? k + 1 >= axis : k + 1 == axis;
        if (!free_axis && v->shape.dims[k] != 1)
            return imp_refuse(cx, "it normalises along axis %lld of a sample of %d axes; layerc's softmax "
                              "takes the whole sample as one vector", (long long)axis, v->shape.rank);
    }
    Shape flat = { 1, { shape_size(&v->shape) } }, onnx = v->shape;
    int x = imp_want(cx, v, &flat);
    if (x < 0) return 0;
    ImpLayer *l = imp_layer(cx, "softmax", &x, 1);
    l->shape = flat;
    return imp_out(cx, l, &onnx);
}

const OpDef lc_op_softmax = {
    .name = "softmax", .doc = "exp(x) / sum(exp(x)) over a vector",
    .params = { P_LAYER_ARG("x") }, .nparams = 1,
    .kernels = { LC_KERNEL_REF(lc_softmax_forward), LC_KERNEL_REF(lc_softmax_backward),
                 LC_KERNEL_REF(lc_i8_softmax_forward) },
    .units = "vmath activation", .backward_reads = READS_OUTPUT, .fused_loss = "cross_entropy",
    .shape = softmax_shape, .forward = softmax_forward, .backward = softmax_backward,
    .flops = op_flops_elementwise,
    .int8 = { .forward = softmax_int8, .out = Q_FIXED, .scale = 1.0 / 256, .zero = -128 },
    .onnx_export = softmax_onnx,
    .onnx_import = { { "Softmax", softmax_from_onnx } },
};
