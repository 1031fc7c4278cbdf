/* ops/linear.c: fully connected layers, y[n, M] = x[n, N] . W[M, N]^T + b[M]:
 * linear(x, W[, b]) with declared weights, dense(x, m) with its own. */
#include "common.h"

#include <stdio.h>

#include "kernels.h"

enum { W, B };   /* weight slots */

static void linear_forward(Emit *e, const Layer *l, Mode mode)
{
    const Weight *w = layer_weight(e->m, l, W);
    (void)mode;
    emitf(e, "    lc_matmul_forward(%s, %s, %s, %s, n, %ld, %ld);\n", e_out(e, layer_index(e->m, l)),
          e_in(e, l, 0), e_weight(e, l, W), e_weight(e, l, B), w->shape.dims[1], w->shape.dims[0]);
}

/* dx = dy . W, dW += dy^T . x, db += sum of dy; the kernel assigns dx (0)
 * when this is the first block to reach it, else adds (1). */
static void linear_backward(Emit *e, const Layer *l, Mode mode)
{
    const Weight *w = layer_weight(e->m, l, W);
    int add = e_wants_grad(e, l, 0) ? e_adds(e, l, 0) : 1;
    (void)mode;
    emitf(e, "    lc_matmul_backward_into(%s, %s, %s,\n                            %s, %s, %s, n, %ld, %ld, %d);\n",
          e_in_grad(e, l, 0), e_wgrad(e, l, W), e_wgrad(e, l, B), e_grad(e, layer_index(e->m, l)),
          e_in(e, l, 0), e_weight(e, l, W), w->shape.dims[1], w->shape.dims[0], add);
}

/* Fused builds: dx as in linear_backward, then each row of W and the bias
 * stepped from its gradient, computed a row at a time (no dW array). */
static void linear_backward_step(Emit *e, const Layer *l, Mode mode)
{
    const Weight *w = layer_weight(e->m, l, W), *b = layer_weight(e->m, l, B);
    int add = e_wants_grad(e, l, 0) ? e_adds(e, l, 0) : 1;
    (void)mode;
    emitf(e, "    lc_matmul_backward_step(%s, %s, %s, %s, %s, m->gwork, n, %ld, %ld, %d,\n"
             "                            %s, %s, %s, %s, %s);\n",
          e_in_grad(e, l, 0), e_weight(e, l, W), b ? e_weight(e, l, B) : "NULL",
          e_grad(e, layer_index(e->m, l)), e_in(e, l, 0), w->shape.dims[1], w->shape.dims[0], add,
          e_step(e), e_step_at(e, l, W), e_step_at(e, l, B), e_num(e, w->decay), e_num(e, b ? b->decay : 0));
}

/* a row of W, or the bias, LC_STEP_ROW values at most */
static long linear_step_scratch(const Model *m, const Layer *l)
{
    const Weight *w = layer_weight(m, l, W);
    long most = w->shape.dims[1] > w->shape.dims[0] ? w->shape.dims[1] : w->shape.dims[0];
    return most < LC_STEP_ROW ? most : LC_STEP_ROW;
}

static double matmul_flops(const Model *m, const Layer *l)
{
    return (double)layer_weight(m, l, W)->size;
}

/* ---- linear(x, W[, b]): [n] -> [m] with W [m, n] and b [m] declared by the user ---- */

static int linear_shape(OpCtx *c, Layer *l)
{
    const Layer *x = op_input(c, l, 0);
    const Weight *w = op_weight_of(c, l, W), *b = op_weight_of(c, l, B);
    char sa[64], sb[64];
    if (w->shape.rank != 2) {
        op_error(c, "linear needs a matrix weight [m, n], but %s is %s", w->name,
                 shape_str(&w->shape, sa, sizeof sa));
        return 0;
    }
    if (w->shape.dims[1] != x->size) {
        op_error(c, "shape mismatch: linear(%s, %s) has %s %s (%ld elements) but %s %s takes %ld inputs",
                 x->name, w->name, x->name, shape_str(&x->shape, sa, sizeof sa), x->size, w->name,
                 shape_str(&w->shape, sb, sizeof sb), w->shape.dims[1]);
        return 0;
    }
    if (b && (b->shape.rank != 1 || b->shape.dims[0] != w->shape.dims[0])) {
        op_error(c, "shape mismatch: the bias %s is %s but %s has %ld outputs: it must be [%ld]",
                 b->name, shape_str(&b->shape, sa, sizeof sa), w->name, w->shape.dims[0],
                 w->shape.dims[0]);
        return 0;
    }
    l->shape.rank = 1;
    l->shape.dims[0] = w->shape.dims[0];
    return 1;
}

const OpDef lc_op_linear = {
    .name = "linear", .doc = "x[n] . W[m, n]^T (+ b[m]) with declared weights",
    .params = { P_LAYER_ARG("x"), P_WEIGHT_ARG("W", 1), P_WEIGHT_ARG("b", 0) }, .nparams = 3,
    .weights = { [W] = { "W", ROLE_TRAINABLE, { INIT_DEFAULT, 0, 0, NULL } },
                 [B] = { "b", ROLE_TRAINABLE, { INIT_DEFAULT, 0, 0, NULL } } }, .nweights = 2,
    .kernels = { LC_KERNEL_REF(lc_matmul_forward), LC_KERNEL_REF(lc_matmul_backward_into),
                 LC_KERNEL_REF(lc_matmul_backward_step) },
    .units = "gemm fused", .backward_reads = READS_INPUTS,
    .backward_step = linear_backward_step, .step_scratch = linear_step_scratch,
    .shape = linear_shape, .forward = linear_forward, .backward = linear_backward,
    .flops = matmul_flops,
};

/* ---- dense(x, m): any s (flattened to n) -> [m]; creates NAME.W [m, n], NAME.b [m] ---- */

enum { DENSE_X, DENSE_UNITS, DENSE_BIAS, DENSE_INIT, DENSE_DECAY };

static int dense_shape(OpCtx *c, Layer *l)
{
    long n = op_input(c, l, 0)->size, m = (long)l->arg[DENSE_UNITS].num;
    Shape ws = { 2, { m, n } }, bs = { 1, { m } };
    const Init *init = l->arg[DENSE_INIT].given ? &l->arg[DENSE_INIT].init : NULL;
    /* with an init= for W, the bias starts at 0 */
    Init zeros = { INIT_ZEROS, 0, 0, NULL };
    if (!op_weight(c, l, W, ws, n, m, init)) return 0;
    c->m->weights[l->w[W]].decay = l->arg[DENSE_DECAY].num;
    if (l->arg[DENSE_BIAS].num != 0 && !op_weight(c, l, B, bs, n, m, init ? &zeros : NULL)) return 0;
    l->shape.rank = 1;
    l->shape.dims[0] = m;
    return 1;
}

const OpDef lc_op_dense = {
    .name = "dense", .doc = "fully connected layer with its own weights NAME.W [m, n], NAME.b [m]",
    .params = { [DENSE_X] = P_LAYER_ARG("x"), [DENSE_UNITS] = P_REQ_INT("units", 1, OP_BIG),
                [DENSE_BIAS] = P_KW_INT("bias", 1, 0, 1), [DENSE_INIT] = P_KW_INIT("init"),
                [DENSE_DECAY] = P_DECAY },
    .nparams = 5,
    .weights = { [W] = { "W", ROLE_TRAINABLE, { INIT_DEFAULT, 0, 0, NULL } },
                 [B] = { "b", ROLE_TRAINABLE, { INIT_DEFAULT, 0, 0, NULL } } }, .nweights = 2,
    .kernels = { LC_KERNEL_REF(lc_matmul_forward), LC_KERNEL_REF(lc_matmul_backward_into),
                 LC_KERNEL_REF(lc_matmul_backward_step) },
    .units = "gemm fused", .backward_reads = READS_INPUTS,
    .backward_step = linear_backward_step, .step_scratch = linear_step_scratch,
    .shape = dense_shape, .forward = linear_forward, .backward = linear_backward,
    .flops = matmul_flops, .fold_into = { 1, W, B },
};
