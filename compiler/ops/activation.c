/* ops/activation.c: elementwise activations, s -> s: relu, leaky_relu,
 * sigmoid, tanh, elu. */
#include "common.h"

#include <stdio.h>

#include "kernels.h"

#define ACTIVATION_PARAMS .params = { P_LAYER_ARG("x") }, .nparams = 1

/* ---- relu(x) = max(x, 0): a kernel (vectorised, split over the threads) ---- */

static void relu_forward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    emitf(e, "    lc_relu_forward(%s, %s, n * %ld);\n", e_out(e, layer_index(e->m, l)), e_in(e, l, 0),
          l->size);
}

static void relu_backward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    if (!e_wants_grad(e, l, 0)) return;
    emitf(e, "    lc_relu_backward(%s, %s, %s, n * %ld, %d);\n", e_in_grad(e, l, 0),
          e_grad(e, layer_index(e->m, l)), e_out(e, layer_index(e->m, l)), l->size, e_adds(e, l, 0));
}

const OpDef lc_op_relu = {
    .inplace = 1,
    .name = "relu", .doc = "max(x, 0)", ACTIVATION_PARAMS,
    .kernels = { LC_KERNEL_REF(lc_relu_forward), LC_KERNEL_REF(lc_relu_backward) },
    .units = "elementwise", .backward_reads = READS_OUTPUT,
    .shape = op_same_shape, .forward = relu_forward, .backward = relu_backward,
    .flops = op_flops_elementwise,
};

/* ---- leaky_relu(x, alpha=0.01) = x if x > 0 else alpha x ---- */

enum { LEAKY_X, LEAKY_ALPHA };

static void leaky_relu_forward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    char expr[128];
    snprintf(expr, sizeof expr, "x > 0 ? x : (%s)%.17g * x", e_real(e), l->arg[LEAKY_ALPHA].num);
    op_elementwise_forward(e, l, expr);
}

static void leaky_relu_backward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    char expr[128];
    snprintf(expr, sizeof expr, "x > 0 ? dy : (%s)%.17g * dy", e_real(e), l->arg[LEAKY_ALPHA].num);
    op_elementwise_backward(e, l, 1, 0, expr);
}

const OpDef lc_op_leaky_relu = {
    .inplace = 1,
    .name = "leaky_relu", .doc = "x if x > 0 else alpha x",
    .params = { [LEAKY_X] = P_LAYER_ARG("x"), [LEAKY_ALPHA] = P_REAL_ARG("alpha", 0.01, -OP_BIG, OP_BIG) },
    .nparams = 2, .backward_reads = READS_INPUTS,
    .shape = op_same_shape, .forward = leaky_relu_forward, .backward = leaky_relu_backward,
    .flops = op_flops_elementwise,
};

/* ---- sigmoid(x) = 1 / (1 + exp(-x)); with bce as the loss, the loss's
 * backward starts at its input ---- */

static void sigmoid_forward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    op_elementwise_forward(e, l, e->o->real_double ? "1 / (1 + exp(-x))" : "1 / (1 + expf(-x))");
}

static void sigmoid_backward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    op_elementwise_backward(e, l, 0, 1, "dy * y * (1 - y)");
}

const OpDef lc_op_sigmoid = {
    .inplace = 1,
    .name = "sigmoid", .doc = "1 / (1 + exp(-x))", ACTIVATION_PARAMS,
    .backward_reads = READS_OUTPUT, .fused_loss = "bce",
    .shape = op_same_shape, .forward = sigmoid_forward, .backward = sigmoid_backward,
    .flops = op_flops_elementwise,
};

/* ---- tanh(x) ---- */

static void tanh_forward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    op_elementwise_forward(e, l, e->o->real_double ? "tanh(x)" : "tanhf(x)");
}

static void tanh_backward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    op_elementwise_backward(e, l, 0, 1, "dy * (1 - y * y)");
}

const OpDef lc_op_tanh = {
    .inplace = 1,
    .name = "tanh", .doc = "tanh(x)", ACTIVATION_PARAMS,
    .backward_reads = READS_OUTPUT,
    .shape = op_same_shape, .forward = tanh_forward, .backward = tanh_backward,
    .flops = op_flops_elementwise,
};

/* ---- elu(x, alpha=1) = x if x > 0 else alpha (exp(x) - 1), as F.elu ---- */

enum { ELU_X, ELU_ALPHA };

static void elu_forward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    char expr[160];
    snprintf(expr, sizeof expr, "x > 0 ? x : (%s)%.17g * (%s(x) - 1)", e_real(e),
             l->arg[ELU_ALPHA].num, e->o->real_double ? "exp" : "expf");
    op_elementwise_forward(e, l, expr);
}

/* d/dx = 1 for x > 0, else alpha exp(x) = y + alpha */
static void elu_backward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    char expr[160];
    snprintf(expr, sizeof expr, "x > 0 ? dy : dy * (y + (%s)%.17g)", e_real(e), l->arg[ELU_ALPHA].num);
    op_elementwise_backward(e, l, 1, 1, expr);
}

const OpDef lc_op_elu = {
    .inplace = 1,
    .name = "elu", .doc = "x if x > 0 else alpha (exp(x) - 1)",
    .params = { [ELU_X] = P_LAYER_ARG("x"), [ELU_ALPHA] = P_REAL_ARG("alpha", 1, -OP_BIG, OP_BIG) },
    .nparams = 2, .backward_reads = READS_INPUTS | READS_OUTPUT,
    .shape = op_same_shape, .forward = elu_forward, .backward = elu_backward,
    .flops = op_flops_elementwise,
};
