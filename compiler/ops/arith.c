/* ops/arith.c: add(a, b) and mul(a, b), element by element, s, s -> s. */
#include "common.h"

#include <stdio.h>

#include "kernels.h"
#include "onnx/expctx.h"

/* Both inputs have one shape, which is the output's. */
static int pair_shape(OpCtx *c, Layer *l)
{
    const Layer *a = op_input(c, l, 0), *b = op_input(c, l, 1);
    char sa[64], sb[64];
    if (!shape_equal(&a->shape, &b->shape)) {
        op_error(c, "shape mismatch: %s(%s, %s) has %s %s and %s %s", l->op->name, a->name, b->name,
                 a->name, shape_str(&a->shape, sa, sizeof sa), b->name,
                 shape_str(&b->shape, sb, sizeof sb));
        return 0;
    }
    l->shape = a->shape;
    return 1;
}

static void add_forward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    emitf(e, "    lc_add_forward(%s, %s, %s, n * %ld);\n", e_out(e, layer_index(e->m, l)), e_in(e, l, 0),
          e_in(e, l, 1), l->size);
}

static void add_backward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    for (int k = 0; k < 2; k++)
        if (e_wants_grad(e, l, k))
            emitf(e, "    lc_add_backward(%s, %s, n * %ld, %d);\n", e_in_grad(e, l, k),
                  e_grad(e, layer_index(e->m, l)), l->size, e_adds(e, l, k));
}

/* ONNX: the two-input node of the same name */
static int onnx_pair(ExpCtx *cx, const char *op_type)
{
    const char *in[2] = { exp_in(cx, 0), exp_in(cx, 1) };
    exp_node(cx, op_type, NULL, in, 2, exp_out(cx));
    return 1;
}

static int add_onnx(ExpCtx *cx) { return onnx_pair(cx, "Add"); }

const OpDef lc_op_add = {
    .onnx_export = add_onnx,
    .name = "add", .doc = "a + b",
    .params = { P_LAYER_ARG("a"), P_LAYER_ARG("b") }, .nparams = 2,
    .kernels = { LC_KERNEL_REF(lc_add_forward), LC_KERNEL_REF(lc_add_backward) }, .units = "elementwise",
    .inplace = 1,
    .shape = pair_shape, .forward = add_forward, .backward = add_backward,
    .flops = op_flops_elementwise,
};

static void mul_forward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    emitf(e, "    lc_mul_forward(%s, %s, %s, n * %ld);\n", e_out(e, layer_index(e->m, l)), e_in(e, l, 0),
          e_in(e, l, 1), l->size);
}

/* d a = dy * b, d b = dy * a */
static void mul_backward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    for (int k = 0; k < 2; k++)
        if (e_wants_grad(e, l, k))
            emitf(e, "    lc_mul_backward(%s, %s, %s, n * %ld, %d);\n", e_in_grad(e, l, k),
                  e_grad(e, layer_index(e->m, l)), e_in(e, l, 1 - k), l->size, e_adds(e, l, k));
}

static int mul_onnx(ExpCtx *cx) { return onnx_pair(cx, "Mul"); }

const OpDef lc_op_mul = {
    .onnx_export = mul_onnx,
    .name = "mul", .doc = "a * b, element by element",
    .params = { P_LAYER_ARG("a"), P_LAYER_ARG("b") }, .nparams = 2,
    .kernels = { LC_KERNEL_REF(lc_mul_forward), LC_KERNEL_REF(lc_mul_backward) }, .units = "elementwise",
    .backward_reads = READS_INPUTS,
    .shape = pair_shape, .forward = mul_forward, .backward = mul_backward,
    .flops = op_flops_elementwise,
};
