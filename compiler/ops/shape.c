/* ops/shape.c: ops that move values without computing: identity, flatten,
 * reshape (aliases of their input: no copy, no code), and concat. */
#include "common.h"

#include <stdio.h>

#include "kernels.h"
#include "onnx/expctx.h"

/* ---- identity(x): s -> s ---- */

/* ONNX: Identity */
static int identity_onnx(ExpCtx *cx)
{
    exp_unary(cx, "Identity");
    return 1;
}

const OpDef lc_op_identity = {
    .onnx_export = identity_onnx,
    .kernels = { LC_KERNEL_REF(lc_add_backward) }, .units = "elementwise",
    .name = "identity", .doc = "x -> x",
    .params = { P_LAYER_ARG("x") }, .nparams = 1,
    .aliases = op_always_aliases,
    .shape = op_same_shape, .forward = op_copy_forward, .backward = op_copy_backward,
    .flops = op_flops_none,
};

/* ---- flatten(x): s -> [product of s] ---- */

static int flatten_shape(OpCtx *c, Layer *l)
{
    l->shape.rank = 1;
    l->shape.dims[0] = op_input(c, l, 0)->size;
    return 1;
}

static int flatten_onnx(ExpCtx *cx)
{
    exp_attr_int(cx, exp_unary(cx, "Flatten"), "axis", 1);
    return 1;
}

const OpDef lc_op_flatten = {
    .onnx_export = flatten_onnx,
    .kernels = { LC_KERNEL_REF(lc_add_backward) }, .units = "elementwise",
    .name = "flatten", .doc = "x as a vector",
    .params = { P_LAYER_ARG("x") }, .nparams = 1,
    .aliases = op_always_aliases,
    .shape = flatten_shape, .forward = op_copy_forward, .backward = op_copy_backward,
    .flops = op_flops_none,
};

/* ---- reshape(x, [d, ...]): s -> [d, ...], the same element count ---- */

enum { RESHAPE_X, RESHAPE_SHAPE };

static int reshape_shape(OpCtx *c, Layer *l)
{
    const Layer *x = op_input(c, l, 0);
    const Shape *to = &l->arg[RESHAPE_SHAPE].shape;
    char a[64], b[64];
    if (shape_size(to) != x->size) {
        op_error(c, "reshape cannot turn %s %s (%ld elements) into %s (%ld elements)", x->name,
                 shape_str(&x->shape, a, sizeof a), x->size, shape_str(to, b, sizeof b),
                 shape_size(to));
        return 0;
    }
    l->shape = *to;
    return 1;
}

/* ONNX: Reshape to [0, d...]: the 0 copies the batch */
static int reshape_onnx(ExpCtx *cx)
{
    Shape s = mv_shape(cx->m, cx->layer);
    int64_t dims[LC_MAX_RANK + 1] = { 0 };
    for (int k = 0; k < s.rank; k++) dims[k + 1] = s.dims[k];
    const char *in[2] = { exp_in(cx, 0), exp_const_ints(cx, "shape", dims, s.rank + 1) };
    exp_node(cx, "Reshape", NULL, in, 2, exp_out(cx));
    return 1;
}

const OpDef lc_op_reshape = {
    .onnx_export = reshape_onnx,
    .kernels = { LC_KERNEL_REF(lc_add_backward) }, .units = "elementwise",
    .name = "reshape", .doc = "x with another shape of the same size",
    .params = { [RESHAPE_X] = P_LAYER_ARG("x"),
                [RESHAPE_SHAPE] = { "shape", P_SHAPE, 1, 0, 0, 0, 0, NULL } }, .nparams = 2,
    .aliases = op_always_aliases,
    .shape = reshape_shape, .forward = op_copy_forward, .backward = op_copy_backward,
    .flops = op_flops_none,
};

/* ---- concat(a, b, ...): each sample's inputs, flattened, one after the other ---- */

static int concat_shape(OpCtx *c, Layer *l)
{
    long n = 0;
    for (int k = 0; k < l->nin; k++) {
        n += op_input(c, l, k)->size;
        if (n > LC_MAX_STATE_FLOATS) {
            op_error(c, "concat is too large (over %ld elements)", LC_MAX_STATE_FLOATS);
            return 0;
        }
    }
    l->shape.rank = 1;
    l->shape.dims[0] = n;
    return 1;
}

static void concat_forward(Emit *e, const Layer *l, Mode mode)
{
    long at = 0;
    (void)mode;
    emitf(e, "    for (int b = 0; b < n; b++) {\n");
    for (int k = 0; k < l->nin; k++) {
        long size = layer_input(e->m, l, k)->size;
        emitf(e, "        memcpy(%s + b * %ld + %ld, %s + b * %ld, sizeof(%s) * %ld);\n",
              e_out(e, layer_index(e->m, l)), l->size, at, e_in(e, l, k), size, e_real(e), size);
        at += size;
    }
    emitf(e, "    }\n");
}

static void concat_backward(Emit *e, const Layer *l, Mode mode)
{
    long at = 0;
    (void)mode;
    emitf(e, "    for (int b = 0; b < n; b++) {\n");
    for (int k = 0; k < l->nin; k++) {
        long size = layer_input(e->m, l, k)->size;
        if (e_wants_grad(e, l, k))
            emitf(e, "        lc_add_backward(%s + b * %ld, %s + b * %ld + %ld, %ld, %d);\n", e_in_grad(e, l, k),
                  size, e_grad(e, layer_index(e->m, l)), l->size, at, size, e_adds(e, l, k));
        at += size;
    }
    emitf(e, "    }\n");
}

/* ONNX: Concat of the flattened inputs along axis 1 */
static int concat_onnx(ExpCtx *cx)
{
    const char *in[LC_MAX_INPUTS];
    int n = mv_nin(cx->m, cx->layer);
    for (int k = 0; k < n; k++) in[k] = exp_in_flat(cx, k);
    exp_attr_int(cx, exp_node(cx, "Concat", NULL, in, n, exp_out(cx)), "axis", 1);
    return 1;
}

const OpDef lc_op_concat = {
    .onnx_export = concat_onnx,
    .name = "concat", .doc = "the inputs flattened and joined",
    .params = { P_LAYER_ARG("x") }, .nparams = 1, .variadic = 1,
    .kernels = { LC_KERNEL_REF(lc_add_backward) }, .units = "elementwise",
    .shape = concat_shape, .forward = concat_forward, .backward = concat_backward,
    .flops = op_flops_none,
};
