/* ops/activation.c: elementwise activations, s -> s: relu, leaky_relu,
 * sigmoid, tanh, elu, relu6, hardswish, silu, gelu, clip.  Each follows its
 * torch function, the derivative at the kinks and for NaN included. */
#include "common.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kernels.h"
#include "qemit.h"
#include "onnx/expctx.h"
#include "onnx/impctx.h"

#define ACTIVATION_PARAMS .params = { P_LAYER_ARG("x") }, .nparams = 1

/* Every activation is a kernel of runtime/kernels/ (elementwise.c,
 * activation.c): vectorised, with float exp, tanh and erf within 2 ulp,
 * split over the threads; tcc, which compiles the JIT's code, does not
 * optimise loops.  lc_NAME_forward(out, inp, n[, extra]) and
 * lc_NAME_backward(dinp, dout, out or inp, n[, extra], add). */
static void kernel_forward(Emit *e, const Layer *l, const char *name, const char *extra)
{
    emitf(e, "    lc_%s_forward(%s, %s, n * %ld%s);\n", name, e_out(e, layer_index(e->m, l)), e_in(e, l, 0),
          l->size, extra);
}

/* reads: what the derivative is computed from, the op's output or its input */
static void kernel_backward(Emit *e, const Layer *l, const char *name, int reads_output, const char *extra)
{
    int self = layer_index(e->m, l);
    if (!e_wants_grad(e, l, 0)) return;
    emitf(e, "    lc_%s_backward(%s, %s, %s, n * %ld%s, %d);\n", name, e_in_grad(e, l, 0), e_grad(e, self),
          reads_output ? e_out(e, self) : e_in(e, l, 0), l->size, extra, e_adds(e, l, 0));
}

/* ", 0.2f": a real argument of the kernel */
static const char *real_arg(Emit *e, double v) { return arena_printf(&e->names, ", %s", e_num(e, v)); }

#define ACTIVATION_KERNELS(name) \
    .kernels = { LC_KERNEL_REF(lc_##name##_forward), LC_KERNEL_REF(lc_##name##_backward), \
                 LC_KERNEL_REF(lc_i8_lut_forward) }, \
    .units = "vmath activation"

/* int8 relu and relu6 where no layer before them takes the clamp: the
 * clamp in the input's quantisation */
static void clamp_int8(QEmit *q, const Layer *l)
{
    int i = layer_index(q->m, l);
    emitf(&q->e, "    lc_i8_clamp_forward(%s, %s, n * %ld, %d, %d);\n", q_out(q, l), q_in(q, l, 0), l->size,
          q->lo[i], q->hi[i]);
}

/* int8 sigmoid and tanh: a table of the 256 inputs, the output at TFLite's
 * fixed scale (sigmoid 1/256 from -128, tanh 1/128 about 0) */
static double sigmoid_real(const Layer *l, double x) { (void)l; return 1 / (1 + exp(-x)); }
static double tanh_real(const Layer *l, double x) { (void)l; return tanh(x); }
/* the others through a table too, their output quantised by its calibrated range */
#define LUT_INT8(f) .int8 = { .forward = q_lut_forward, .fn = f }

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

/* ONNX: Relu */
static int relu_onnx(ExpCtx *cx)
{
    exp_unary(cx, "Relu");
    return 1;
}

static int relu_from_onnx(ImpCtx *cx) { return imp_attr_check(cx, "") && imp_unary(cx, "relu", 0); }

const OpDef lc_op_relu = {
    .inplace = 1,
    .name = "relu", .doc = "max(x, 0)", ACTIVATION_PARAMS,
    .kernels = { LC_KERNEL_REF(lc_relu_forward), LC_KERNEL_REF(lc_relu_backward),
                 LC_KERNEL_REF(lc_i8_clamp_forward) },
    .units = "elementwise", .backward_reads = READS_OUTPUT,
    .shape = op_same_shape, .forward = relu_forward, .backward = relu_backward,
    .flops = op_flops_elementwise,
    .int8 = { .forward = clamp_int8, .out = Q_AS_INPUT, .clamp = 1, .lo = 0, .hi = INFINITY },
    .onnx_export = relu_onnx,
    .onnx_import = { { "Relu", relu_from_onnx } },
};

/* ---- leaky_relu(x, alpha=0.01) = x if x > 0 else alpha x ---- */

enum { LEAKY_X, LEAKY_ALPHA };

static void leaky_relu_forward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    kernel_forward(e, l, "leaky_relu", real_arg(e, l->arg[LEAKY_ALPHA].num));
}

static void leaky_relu_backward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    kernel_backward(e, l, "leaky_relu", 0, real_arg(e, l->arg[LEAKY_ALPHA].num));
}

static double leaky_relu_real(const Layer *l, double x) { return x > 0 ? x : l->arg[LEAKY_ALPHA].num * x; }
static int leaky_relu_onnx(ExpCtx *cx)
{
    exp_attr_float(cx, exp_unary(cx, "LeakyRelu"), "alpha", (float)mv_num(cx->m, cx->layer, "alpha", 0.01));
    return 1;
}

static int leaky_relu_from_onnx(ImpCtx *cx)
{
    double alpha;
    if (!imp_attr_check(cx, "alpha") || imp_attr_float(cx, "alpha", 0.01, &alpha) < 0 ||
        !imp_fits(cx, "leaky_relu", "alpha", alpha, "alpha"))
        return 0;
    if (!imp_unary(cx, "leaky_relu", 0)) return 0;
    if ((float)alpha != 0.01f) imp_arg(cx, imp_layer_at(cx, cx->nlayers - 1), "alpha", "%s", imp_num(cx, alpha));
    return 1;
}

const OpDef lc_op_leaky_relu = {
    .inplace = 1,
    .name = "leaky_relu", .doc = "x if x > 0 else alpha x",
    .params = { [LEAKY_X] = P_LAYER_ARG("x"), [LEAKY_ALPHA] = P_REAL_ARG("alpha", 0.01, -OP_BIG, OP_BIG) },
    .nparams = 2, .backward_reads = READS_INPUTS,
    ACTIVATION_KERNELS(leaky_relu),
    .shape = op_same_shape, .forward = leaky_relu_forward, .backward = leaky_relu_backward,
    .flops = op_flops_elementwise,
    LUT_INT8(leaky_relu_real),
    .onnx_export = leaky_relu_onnx,
    .onnx_import = { { "LeakyRelu", leaky_relu_from_onnx } },
};

/* ---- sigmoid(x) = 1 / (1 + exp(-x)); with bce as the loss, the loss's
 * backward starts at its input ---- */

static void sigmoid_forward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    kernel_forward(e, l, "sigmoid", "");
}

static void sigmoid_backward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    kernel_backward(e, l, "sigmoid", 1, "");
}

/* ONNX: Sigmoid */
static int sigmoid_onnx(ExpCtx *cx)
{
    exp_unary(cx, "Sigmoid");
    return 1;
}

static int sigmoid_from_onnx(ImpCtx *cx) { return imp_attr_check(cx, "") && imp_unary(cx, "sigmoid", IMP_FUSE_SIGMOID); }

const OpDef lc_op_sigmoid = {
    .inplace = 1,
    .name = "sigmoid", .doc = "1 / (1 + exp(-x))", ACTIVATION_PARAMS,
    .backward_reads = READS_OUTPUT, .fused_loss = "bce",
    .kernels = { LC_KERNEL_REF(lc_sigmoid_forward), LC_KERNEL_REF(lc_sigmoid_backward),
                 LC_KERNEL_REF(lc_i8_lut_forward) },
    .units = "vmath activation",
    .shape = op_same_shape, .forward = sigmoid_forward, .backward = sigmoid_backward,
    .flops = op_flops_elementwise,
    .int8 = { .forward = q_lut_forward, .out = Q_FIXED, .scale = 1.0 / 256, .zero = -128, .fn = sigmoid_real },
    .onnx_export = sigmoid_onnx,
    .onnx_import = { { "Sigmoid", sigmoid_from_onnx } },
};

/* ---- tanh(x) ---- */

static void tanh_forward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    kernel_forward(e, l, "tanh", "");
}

static void tanh_backward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    kernel_backward(e, l, "tanh", 1, "");
}

/* ONNX: Tanh */
static int tanh_onnx(ExpCtx *cx)
{
    exp_unary(cx, "Tanh");
    return 1;
}

static int tanh_from_onnx(ImpCtx *cx) { return imp_attr_check(cx, "") && imp_unary(cx, "tanh", 0); }

const OpDef lc_op_tanh = {
    .inplace = 1,
    .name = "tanh", .doc = "tanh(x)", ACTIVATION_PARAMS,
    .backward_reads = READS_OUTPUT,
    .kernels = { LC_KERNEL_REF(lc_tanh_forward), LC_KERNEL_REF(lc_tanh_backward),
                 LC_KERNEL_REF(lc_i8_lut_forward) },
    .units = "vmath activation",
    .shape = op_same_shape, .forward = tanh_forward, .backward = tanh_backward,
    .flops = op_flops_elementwise,
    .int8 = { .forward = q_lut_forward, .out = Q_FIXED, .scale = 1.0 / 128, .zero = 0, .fn = tanh_real },
    .onnx_export = tanh_onnx,
    .onnx_import = { { "Tanh", tanh_from_onnx } },
};

/* ---- elu(x, alpha=1) = x if x > 0 else alpha (exp(x) - 1), as F.elu ---- */

enum { ELU_X, ELU_ALPHA };

static void elu_forward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    kernel_forward(e, l, "elu", real_arg(e, l->arg[ELU_ALPHA].num));
}

/* d/dx = 1 for x > 0, else alpha exp(x) = y + alpha */
static void elu_backward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    kernel_backward(e, l, "elu", 0, real_arg(e, l->arg[ELU_ALPHA].num));
}

static double elu_real(const Layer *l, double x) { return x > 0 ? x : l->arg[ELU_ALPHA].num * (exp(x) - 1); }
static int elu_onnx(ExpCtx *cx)
{
    exp_attr_float(cx, exp_unary(cx, "Elu"), "alpha", (float)mv_num(cx->m, cx->layer, "alpha", 1));
    return 1;
}

static int elu_from_onnx(ImpCtx *cx)
{
    double alpha;
    if (!imp_attr_check(cx, "alpha") || imp_attr_float(cx, "alpha", 1.0, &alpha) < 0 ||
        !imp_fits(cx, "elu", "alpha", alpha, "alpha"))
        return 0;
    if (!imp_unary(cx, "elu", 0)) return 0;
    if ((float)alpha != 1.0f) imp_arg(cx, imp_layer_at(cx, cx->nlayers - 1), "alpha", "%s", imp_num(cx, alpha));
    return 1;
}

const OpDef lc_op_elu = {
    .inplace = 1,
    .name = "elu", .doc = "x if x > 0 else alpha (exp(x) - 1)",
    .params = { [ELU_X] = P_LAYER_ARG("x"), [ELU_ALPHA] = P_REAL_ARG("alpha", 1, -OP_BIG, OP_BIG) },
    .nparams = 2, .backward_reads = READS_INPUTS,
    ACTIVATION_KERNELS(elu),
    .shape = op_same_shape, .forward = elu_forward, .backward = elu_backward,
    .flops = op_flops_elementwise,
    LUT_INT8(elu_real),
    .onnx_export = elu_onnx,
    .onnx_import = { { "Elu", elu_from_onnx } },
};

/* ---- relu6(x) = min(max(x, 0), 6), as F.relu6 (hardtanh(x, 0, 6)):
 * derivative 1 strictly between 0 and 6, 0 at and beyond them ---- */

static void relu6_forward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    kernel_forward(e, l, "relu6", "");
}

static void relu6_backward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    kernel_backward(e, l, "relu6", 0, "");
}

/* ONNX: Clip with its bounds as inputs (opset 11 on) */
static int onnx_clip(ExpCtx *cx, double lo, double hi)
{
    const char *in[3] = { exp_in(cx, 0), exp_const_float(cx, "min", (float)lo), exp_const_float(cx, "max", (float)hi) };
    exp_node(cx, "Clip", NULL, in, 3, exp_out(cx));
    return 1;
}

static int relu6_onnx(ExpCtx *cx) { return onnx_clip(cx, 0, 6); }

const OpDef lc_op_relu6 = {
    .inplace = 1,
    .name = "relu6", .doc = "min(max(x, 0), 6)", ACTIVATION_PARAMS,
    .backward_reads = READS_INPUTS,
    .kernels = { LC_KERNEL_REF(lc_relu6_forward), LC_KERNEL_REF(lc_relu6_backward),
                 LC_KERNEL_REF(lc_i8_clamp_forward) },
    .units = "vmath activation",
    .shape = op_same_shape, .forward = relu6_forward, .backward = relu6_backward,
    .flops = op_flops_elementwise,
    .int8 = { .forward = clamp_int8, .out = Q_AS_INPUT, .clamp = 1, .lo = 0, .hi = 6 },
    .onnx_export = relu6_onnx,
};

/* ---- hardswish(x) = x relu6(x + 3) / 6, as F.hardswish: derivative 0
 * below -3, x / 3 + 1/2 on [-3, 3], 1 above ---- */

static void hardswish_forward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    kernel_forward(e, l, "hardswish", "");
}

static void hardswish_backward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    kernel_backward(e, l, "hardswish", 0, "");
}

static double hardswish_real(const Layer *l, double x)
{
    double r = x + 3 < 0 ? 0 : x + 3 > 6 ? 6 : x + 3;
    (void)l;
    return x * r / 6;
}

/* ONNX: HardSwish */
static int hardswish_onnx(ExpCtx *cx)
{
    exp_unary(cx, "HardSwish");
    return 1;
}

static int hardswish_from_onnx(ImpCtx *cx) { return imp_attr_check(cx, "") && imp_unary(cx, "hardswish", 0); }

const OpDef lc_op_hardswish = {
    .inplace = 1,
    .name = "hardswish", .doc = "x relu6(x + 3) / 6", ACTIVATION_PARAMS,
    .backward_reads = READS_INPUTS,
    ACTIVATION_KERNELS(hardswish),
    .shape = op_same_shape, .forward = hardswish_forward, .backward = hardswish_backward,
    .flops = op_flops_elementwise,
    LUT_INT8(hardswish_real),
    .onnx_export = hardswish_onnx, .onnx_opset = 14,
    .onnx_import = { { "HardSwish", hardswish_from_onnx } },
};

/* ---- silu(x) = x sigmoid(x), as F.silu ---- */

static void silu_forward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    kernel_forward(e, l, "silu", "");
}

/* d/dx = s (1 + x (1 - s)), s = sigmoid(x) */
static void silu_backward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    kernel_backward(e, l, "silu", 0, "");
}

static double silu_real(const Layer *l, double x) { (void)l; return x / (1 + exp(-x)); }
/* ONNX: x * Sigmoid(x), as torch.onnx.export writes SiLU (the importer fuses it back) */
static int silu_onnx(ExpCtx *cx)
{
    const char *sig = arena_printf(cx->a, "%s/sigmoid", exp_out(cx));
    const char *in[1] = { exp_in(cx, 0) };
    exp_node(cx, "Sigmoid", sig, in, 1, sig);
    const char *mul[2] = { exp_in(cx, 0), sig };
    exp_node(cx, "Mul", NULL, mul, 2, exp_out(cx));
    return 1;
}

const OpDef lc_op_silu = {
    .inplace = 1,
    .name = "silu", .doc = "x sigmoid(x)", ACTIVATION_PARAMS,
    .backward_reads = READS_INPUTS,
    ACTIVATION_KERNELS(silu),
    .shape = op_same_shape, .forward = silu_forward, .backward = silu_backward,
    .flops = op_flops_elementwise,
    LUT_INT8(silu_real),
    .onnx_export = silu_onnx,
};

/* ---- gelu(x) = x Phi(x) = x (1 + erf(x / sqrt 2)) / 2, as F.gelu (the
 * erf form, its default) ---- */

static void gelu_forward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    kernel_forward(e, l, "gelu", "");
}

/* d/dx = Phi(x) + x phi(x), phi the normal density */
static void gelu_backward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    kernel_backward(e, l, "gelu", 0, "");
}

static double gelu_real(const Layer *l, double x) { (void)l; return 0.5 * x * (1 + erf(x / sqrt(2.0))); }
/* ONNX has Gelu only from opset 20: the export writes what torch.onnx.export
 * writes for F.gelu, x * (erf(x / sqrt(2)) + 1) * 0.5, in five nodes, and
 * the import takes those five nodes, from the Div, as one gelu layer. */
static int gelu_onnx(ExpCtx *cx)
{
    const char *y = exp_out(cx), *x = exp_in(cx, 0);
    const char *div = arena_printf(cx->a, "%s/div", y), *erf = arena_printf(cx->a, "%s/erf", y);
    const char *add = arena_printf(cx->a, "%s/add", y), *mul = arena_printf(cx->a, "%s/mul", y);
    const char *d[2] = { x, exp_const_float(cx, "sqrt2", (float)M_SQRT2) };
    exp_node(cx, "Div", div, d, 2, div);
    exp_node(cx, "Erf", erf, &div, 1, erf);
    const char *a[2] = { erf, exp_const_float(cx, "one", 1) };
    exp_node(cx, "Add", add, a, 2, add);
    const char *m[2] = { x, add };
    exp_node(cx, "Mul", mul, m, 2, mul);
    const char *h[2] = { mul, exp_const_float(cx, "half", 0.5f) };
    exp_node(cx, "Mul", NULL, h, 2, y);
    return 1;
}

/* Node `node` is op_type with nin inputs, one output and no attributes. */
static int gelu_part(const ImpCtx *cx, int node, const char *op_type, size_t nin)
{
    const Onnx__NodeProto *n = node >= 0 ? cx->g->g->node[node] : NULL;
    return n && !strcmp(n->op_type, op_type) && n->n_input == nin && n->n_output == 1 && !n->n_attribute;
}

/* The input of node other than `slot` is a constant scalar, want as a float. */
static int gelu_scalar(ImpCtx *cx, int node, int slot, double want)
{
    const OxTensor *t = slot == 0 || slot == 1 ? imp_peek_const(cx, cx->g->in[node][1 - slot]) : NULL;
    return t && t->n == 1 && (float)oxt_get(t, 0) == (float)want;
}

static int gelu_from_onnx(ImpCtx *cx)
{
    ImpValue *x = imp_layer_in(cx, 0);
    if (!x || !imp_attr_check(cx, "")) return 0;
    int div = cx->node, xv = cx->g->in[div][0], erf = -1, add = -1, mul = -1, half = -1, s;
    int ok = gelu_part(cx, div, "Div", 2) && gelu_scalar(cx, div, 0, M_SQRT2) &&
             gelu_part(cx, erf = imp_sole_reader(cx, div, 0, &s), "Erf", 1) &&
             gelu_part(cx, add = imp_sole_reader(cx, erf, 0, &s), "Add", 2) && gelu_scalar(cx, add, s, 1) &&
             gelu_part(cx, mul = imp_sole_reader(cx, add, 0, &s), "Mul", 2) && cx->g->in[mul][1 - s] == xv &&
             gelu_part(cx, half = imp_sole_reader(cx, mul, 0, &s), "Mul", 2) && gelu_scalar(cx, half, s, 0.5);
    if (!ok)
        return imp_refuse(cx, "it is not the x / sqrt(2) of torch's GELU, x * (erf(x / sqrt(2)) + 1) * 0.5; "
                          "layerc divides only there");
    Shape onnx = x->shape;
    int lx = imp_want(cx, x, NULL);
    if (lx < 0) return 0;
    const char *from = imp_node_label(cx);
    const Onnx__NodeProto *n = cx->n;
    cx->node = half, cx->n = cx->g->g->node[half];   /* the layer is the last node's value, named after it */
    ImpLayer *l = imp_layer(cx, "gelu", &lx, 1);
    l->shape = imp_layer_at(cx, lx)->shape;
    l->comment = arena_printf(cx->a, "GELU, %s to %s", from, imp_node_label(cx));
    int g = imp_index(cx, l);
    cx->node = div, cx->n = n;
    imp_take(cx, erf, 0, g, &onnx);
    imp_take(cx, add, 0, g, &onnx);
    imp_take(cx, mul, 0, g, &onnx);
    imp_take(cx, half, 0, g, &onnx);
    imp_out_layer(cx, 0, g, &onnx);   /* read only by the Erf, which is taken */
    return 1;
}

/* ONNX's own Gelu (opset 20 on), in its exact form */
static int gelu_op_from_onnx(ImpCtx *cx)
{
    const char *approximate;
    if (!imp_attr_check(cx, "approximate") || imp_attr_string(cx, "approximate", "none", &approximate) < 0) return 0;
    if (strcmp(approximate, "none"))
        return imp_refuse(cx, "approximate=\"%s\": layerc's gelu is the erf form", approximate);
    return imp_unary(cx, "gelu", 0);
}

static int erf_from_onnx(ImpCtx *cx)
{
    return imp_refuse(cx, "it is not part of torch's GELU, x * (erf(x / sqrt(2)) + 1) * 0.5; layerc has no erf");
}

const OpDef lc_op_gelu = {
    .inplace = 1,
    .name = "gelu", .doc = "x Phi(x), Phi the normal distribution (the erf form)", ACTIVATION_PARAMS,
    .backward_reads = READS_INPUTS,
    ACTIVATION_KERNELS(gelu),
    .shape = op_same_shape, .forward = gelu_forward, .backward = gelu_backward,
    .flops = op_flops_elementwise,
    LUT_INT8(gelu_real),
    .onnx_export = gelu_onnx,
    .onnx_import = { { "Div", gelu_from_onnx }, { "Erf", erf_from_onnx }, { "Gelu", gelu_op_from_onnx } },
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
    (void)mode;
    kernel_forward(e, l, "clip", arena_printf(&e->names, "%s%s", real_arg(e, l->arg[CLIP_LO].num),
                                              real_arg(e, l->arg[CLIP_HI].num)));
}

static void clip_backward(Emit *e, const Layer *l, Mode mode)
{
    (void)mode;
    kernel_backward(e, l, "clip", 0, arena_printf(&e->names, "%s%s", real_arg(e, l->arg[CLIP_LO].num),
                                                  real_arg(e, l->arg[CLIP_HI].num)));
}

static double clip_real(const Layer *l, double x)
{
    return x < l->arg[CLIP_LO].num ? l->arg[CLIP_LO].num : x > l->arg[CLIP_HI].num ? l->arg[CLIP_HI].num : x;
}

/* The bounds reach float's largest value: an ONNX Clip open on one side is
 * clamped there (its default), the same for every finite input. */
static int clip_onnx(ExpCtx *cx)
{
    return onnx_clip(cx, mv_num(cx->m, cx->layer, "lo", 0), mv_num(cx->m, cx->layer, "hi", 0));
}

/* A scalar bound of Clip: an input (opset 11 on) or an attribute. */
static int clip_bound(ImpCtx *cx, int k, const char *attr_name, double def, double *out)
{
    *out = def;
    if (imp_opset(cx) < 11) return imp_attr_float(cx, attr_name, def, out) >= 0;
    if (!imp_in(cx, k)) return 1;
    const OxTensor *t = imp_const_in(cx, k, k == 1 ? "min" : "max");
    if (!t) return 0;
    if (t->n != 1) return imp_refuse(cx, "its %s is not one number", k == 1 ? "min" : "max");
    *out = oxt_get(t, 0);
    return 1;
}

static int clip_from_onnx(ImpCtx *cx)
{
    double lo, hi;
    if (!imp_attr_check(cx, imp_opset(cx) < 11 ? "min,max" : "") ||
        !clip_bound(cx, 1, "min", -INFINITY, &lo) || !clip_bound(cx, 2, "max", INFINITY, &hi))
        return 0;
    /* the attribute defaults are float's limits: as good as no bound */
    if (lo <= -3.4028234e38) lo = -INFINITY;
    if (hi >= 3.4028234e38) hi = INFINITY;
    if (isnan(lo) || isnan(hi)) return imp_refuse(cx, "a bound is NaN");
    if (lo > hi) return imp_refuse(cx, "its min (%g) is above its max (%g)", lo, hi);
    if (lo == 0 && hi == 6) return imp_unary(cx, "relu6", 0);
    if (lo == 0 && hi == INFINITY) return imp_unary(cx, "relu", 0);
    if (lo == -INFINITY && hi == INFINITY) return imp_unary(cx, "identity", 0);
    if ((lo != -INFINITY && !imp_fits(cx, "clip", "lo", lo, "min")) ||
        (hi != INFINITY && !imp_fits(cx, "clip", "hi", hi, "max")) || !imp_unary(cx, "clip", 0))
        return 0;
    ImpLayer *l = imp_layer_at(cx, cx->nlayers - 1);
    /* an open side is float's largest value: the same for every finite input */
    imp_arg(cx, l, NULL, "%s", lo == -INFINITY ? "-3.4028234663852886e38" : imp_num(cx, lo));
    imp_arg(cx, l, NULL, "%s", hi == INFINITY ? "3.4028234663852886e38" : imp_num(cx, hi));
    return 1;
}

const OpDef lc_op_clip = {
    .inplace = 1,
    .name = "clip", .doc = "min(max(x, lo), hi), as torch.clamp",
    .params = { [CLIP_X] = P_LAYER_ARG("x"), [CLIP_LO] = P_REQ_REAL("lo", -FLT_MAX, FLT_MAX),
                [CLIP_HI] = P_REQ_REAL("hi", -FLT_MAX, FLT_MAX) },
    .nparams = 3, .backward_reads = READS_INPUTS,
    ACTIVATION_KERNELS(clip),
    .shape = clip_shape, .forward = clip_forward, .backward = clip_backward,
    .flops = op_flops_elementwise,
    LUT_INT8(clip_real),
    .onnx_export = clip_onnx,
    .onnx_import = { { "Clip", clip_from_onnx } },
};
