/* ops/arith.c: add(a, b) and mul(a, b), element by element, s, s -> s. */
#include "common.h"

#include <stdio.h>

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
    emitf(e, "    for (int i = 0; i < n * %ld; i++) %s[i] = %s[i] + %s[i];\n", l->size,
          e_out(e, layer_index(e->m, l)), e_in(e, l, 0), e_in(e, l, 1));
}

static void add_backward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    for (int k = 0; k < 2; k++)
        if (e_wants_grad(e, l, k))
            emitf(e, "    for (int i = 0; i < n * %ld; i++) %s[i] %s %s[i];\n", l->size,
                  e_in_grad(e, l, k), e_acc(e, l, k), e_grad(e, layer_index(e->m, l)));
}

const OpDef lc_op_add = {
    .name = "add", .doc = "a + b",
    .params = { P_LAYER_ARG("a"), P_LAYER_ARG("b") }, .nparams = 2,
    .shape = pair_shape, .forward = add_forward, .backward = add_backward,
    .flops = op_flops_elementwise,
};

static void mul_forward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    emitf(e, "    for (int i = 0; i < n * %ld; i++) %s[i] = %s[i] * %s[i];\n", l->size,
          e_out(e, layer_index(e->m, l)), e_in(e, l, 0), e_in(e, l, 1));
}

/* d a = dy * b, d b = dy * a */
static void mul_backward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    for (int k = 0; k < 2; k++)
        if (e_wants_grad(e, l, k))
            emitf(e, "    for (int i = 0; i < n * %ld; i++) %s[i] %s %s[i] * %s[i];\n", l->size,
                  e_in_grad(e, l, k), e_acc(e, l, k), e_grad(e, layer_index(e->m, l)),
                  e_in(e, l, 1 - k));
}

const OpDef lc_op_mul = {
    .name = "mul", .doc = "a * b, element by element",
    .params = { P_LAYER_ARG("a"), P_LAYER_ARG("b") }, .nparams = 2,
    .backward_reads = READS_INPUTS,
    .shape = pair_shape, .forward = mul_forward, .backward = mul_backward,
    .flops = op_flops_elementwise,
};
