/* ops/arith.c: add(a, b) and mul(a, b), element by element, s, s -> s. */
#include "common.h"

#include <stdio.h>

#include "kernels.h"
#include "qemit.h"

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

/* int8, as TFLite's add: each input, less its zero point and shifted left
 * 20 bits, scaled by its scale over twice the larger one; the sum by that
 * over 2^20 s_out */
static void add_int8(QEmit *q, const Layer *l)
{
    const QParams *a = q_in_params(q, l, 0), *b = q_in_params(q, l, 1), *y = q_params(q, l);
    double twice = 2 * (a->scale > b->scale ? a->scale : b->scale);
    int32_t am, bm, ym;
    int as, bs, ys;
    quant_multiplier(a->scale / twice, &am, &as);
    quant_multiplier(b->scale / twice, &bm, &bs);
    quant_multiplier(twice / ((double)(1 << 20) * y->scale), &ym, &ys);
    const char *name = arena_printf(&q->names, "%s_%s_add", q->m->name, l->name);
    emitf(&q->tables, "static const lc_i8_add_params %s = { %d, %ld, %d, %d, %ld, %d, %d, %ld, %d, -128, 127 };\n",
          name, a->zero, (long)am, as, b->zero, (long)bm, bs, y->zero, (long)ym, ys);
    q->flash += 44;
    emitf(&q->e, "    lc_i8_add_forward(%s, %s, %s, n * %ld, &%s);\n", q_out(q, l), q_in(q, l, 0), q_in(q, l, 1),
          l->size, name);
}

const OpDef lc_op_add = {
    .name = "add", .doc = "a + b",
    .params = { P_LAYER_ARG("a"), P_LAYER_ARG("b") }, .nparams = 2,
    .kernels = { LC_KERNEL_REF(lc_add_forward), LC_KERNEL_REF(lc_add_backward),
                 LC_KERNEL_REF(lc_i8_add_forward) }, .units = "elementwise",
    .inplace = 1,
    .shape = pair_shape, .forward = add_forward, .backward = add_backward,
    .flops = op_flops_elementwise, .int8 = { .forward = add_int8 },
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

const OpDef lc_op_mul = {
    .name = "mul", .doc = "a * b, element by element",
    .params = { P_LAYER_ARG("a"), P_LAYER_ARG("b") }, .nparams = 2,
    .kernels = { LC_KERNEL_REF(lc_mul_forward), LC_KERNEL_REF(lc_mul_backward) }, .units = "elementwise",
    .backward_reads = READS_INPUTS,
    .shape = pair_shape, .forward = mul_forward, .backward = mul_backward,
    .flops = op_flops_elementwise,
};
