/* ops/activation.c: elementwise activations, s -> s: relu, leaky_relu,
 * sigmoid, tanh, elu, relu6, hardswish, silu, gelu, clip.  Each follows its
 * torch function, the derivative at the kinks and for NaN included. */
#include "common.h"

#include <math.h>
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

/* The libm function `f` in the emitted real type: "exp" or "expf". */
static const char *libm(Emit *e, const char *f)
{
    return arena_printf(&e->names, "%s%s", f, e->o->real_double ? "" : "f");
}
/* ---- relu6(x) = min(max(x, 0), 6), as F.relu6 (hardtanh(x, 0, 6)):
 * derivative 1 strictly between 0 and 6, 0 at and beyond them ---- */

static void relu6_forward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    op_elementwise_forward(e, l, "x < 0 ? 0 : x > 6 ? 6 : x");
}

static void relu6_backward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    op_elementwise_backward(e, l, 1, 0, "x <= 0 || x >= 6 ? 0 : dy");
}

const OpDef lc_op_relu6 = {
    .name = "relu6", .doc = "min(max(x, 0), 6)", ACTIVATION_PARAMS,
    .backward_reads = READS_INPUTS,
    .shape = op_same_shape, .forward = relu6_forward, .backward = relu6_backward,
    .flops = op_flops_elementwise,
};

/* ---- hardswish(x) = x relu6(x + 3) / 6, as F.hardswish: derivative 0
 * below -3, x / 3 + 1/2 on [-3, 3], 1 above ---- */

static void hardswish_forward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    op_elementwise_forward(e, l, "x * (x + 3 < 0 ? 0 : x + 3 > 6 ? 6 : x + 3) / 6");
}

static void hardswish_backward(Emit *e, const Layer *l, Mode mode)
{
    const char *expr = arena_printf(&e->names, "x < -3 ? 0 : x <= 3 ? dy * (x / 3 + %s) : dy", e_num(e, 0.5));
    (void)mode;
    op_elementwise_backward(e, l, 1, 0, expr);
}

const OpDef lc_op_hardswish = {
    .name = "hardswish", .doc = "x relu6(x + 3) / 6", ACTIVATION_PARAMS,
    .backward_reads = READS_INPUTS,
    .shape = op_same_shape, .forward = hardswish_forward, .backward = hardswish_backward,
    .flops = op_flops_elementwise,
};

/* ---- silu(x) = x sigmoid(x), as F.silu ---- */

static void silu_forward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    op_elementwise_forward(e, l, arena_printf(&e->names, "x / (1 + %s(-x))", libm(e, "exp")));
}

/* d/dx = s (1 + x (1 - s)), s = sigmoid(x) */
static void silu_backward(Emit *e, const Layer *l, Mode mode)
{
    const char *s = arena_printf(&e->names, "(1 / (1 + %s(-x)))", libm(e, "exp"));
    (void)mode;
    op_elementwise_backward(e, l, 1, 0, arena_printf(&e->names, "dy * %s * (1 + x * (1 - %s))", s, s));
}

const OpDef lc_op_silu = {
    .name = "silu", .doc = "x sigmoid(x)", ACTIVATION_PARAMS,
    .backward_reads = READS_INPUTS,
    .shape = op_same_shape, .forward = silu_forward, .backward = silu_backward,
    .flops = op_flops_elementwise,
};

/* ---- gelu(x) = x Phi(x) = x (1 + erf(x / sqrt 2)) / 2, as F.gelu (the
 * erf form, its default) ---- */

static void gelu_forward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    op_elementwise_forward(e, l, arena_printf(&e->names, "x * %s * (1 + %s(x * %s))", e_num(e, 0.5),
                                              libm(e, "erf"), e_num(e, M_SQRT1_2)));
}

/* d/dx = Phi(x) + x phi(x), phi the normal density */
static void gelu_backward(Emit *e, const Layer *l, Mode mode)
{
    const char *expr = arena_printf(&e->names, "dy * (%s * (1 + %s(x * %s)) + x * %s * %s(%s * x * x))",
                                    e_num(e, 0.5), libm(e, "erf"), e_num(e, M_SQRT1_2),
                                    e_num(e, 0.5 * M_2_SQRTPI * M_SQRT1_2), libm(e, "exp"), e_num(e, -0.5));
    (void)mode;
    op_elementwise_backward(e, l, 1, 0, expr);
}

const OpDef lc_op_gelu = {
    .name = "gelu", .doc = "x Phi(x), Phi the normal distribution (the erf form)", ACTIVATION_PARAMS,
    .backward_reads = READS_INPUTS,
    .shape = op_same_shape, .forward = gelu_forward, .backward = gelu_backward,
    .flops = op_flops_elementwise,
};

/* ---- clip(x, lo, hi) = min(max(x, lo), hi), as torch.clamp: derivative 1
 * on [lo, hi] (the ends included, as torch), 0 outside and for NaN ---- */

enum { CLIP_X, CLIP_LO, CLIP_HI };

static int clip_shape(OpCtx *c, Layer *l)
{
    if (l->arg[CLIP_LO].num > l->arg[CLIP_HI].num) {
        op_error(c, "clip: lo (%g) is above hi (%g)", l->arg[CLIP_LO].num, l->arg[CLIP_HI].num);
        return 0;
    }
    return op_same_shape(c, l);
}

static void clip_forward(Emit *e, const Layer *l, Mode mode)
{
    const char *lo = e_num(e, l->arg[CLIP_LO].num), *hi = e_num(e, l->arg[CLIP_HI].num);
    (void)mode;
    op_elementwise_forward(e, l, arena_printf(&e->names, "x < %s ? %s : x > %s ? %s : x", lo, lo, hi, hi));
}

static void clip_backward(Emit *e, const Layer *l, Mode mode)
{
    const char *expr = arena_printf(&e->names, "x >= %s && x <= %s ? dy : 0", e_num(e, l->arg[CLIP_LO].num),
                                    e_num(e, l->arg[CLIP_HI].num));
    (void)mode;
    op_elementwise_backward(e, l, 1, 0, expr);
}

const OpDef lc_op_clip = {
    .name = "clip", .doc = "min(max(x, lo), hi), as torch.clamp",
    .params = { [CLIP_X] = P_LAYER_ARG("x"), [CLIP_LO] = P_REQ_REAL("lo", -OP_BIG, OP_BIG),
                [CLIP_HI] = P_REQ_REAL("hi", -OP_BIG, OP_BIG) },
    .nparams = 3, .backward_reads = READS_INPUTS,
    .shape = clip_shape, .forward = clip_forward, .backward = clip_backward,
    .flops = op_flops_elementwise,
};
