/* ops/norm.c: normalisation, s -> s.
 *
 * batchnorm(x, momentum=0.1, eps=1e-5), as torch.nn.BatchNorm1d/2d: per
 * channel of [c, ...] (an image, [c, l]) or per feature of [n].  Training
 * normalises with the batch's statistics and moves the running ones (the
 * buffers NAME.mean, NAME.var) towards them; evaluation normalises with the
 * running ones, which makes it an affine map per channel: a batchnorm after
 * a conv2d or dense folds into that layer's weights when they are baked for
 * inference (the `fold` hook; compiler/fold.c does the folding).
 *
 * layernorm(x, eps=1e-5), as torch.nn.LayerNorm(s[-1]): each sample's rows
 * along the last dimension normalised by their own statistics.
 *
 * Both are kernels (runtime/kernels/norm.c). */
#include "common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "onnx/expctx.h"
#include "onnx/impctx.h"

/* ---- batchnorm ---- */

enum { BN_X, BN_MOMENTUM, BN_EPS };
enum { GAMMA, BETA, MEAN, VAR };   /* weight slots */
enum { SAVED_MEAN, SAVED_INVSTD };

/* Channels and values per channel of a sample of x. */
static void bn_dims(const Layer *x, long *c, long *s)
{
    *c = x->shape.dims[0];
    *s = x->size / *c;
}

static long bn_channels(const Model *m, const Layer *l)
{
    return layer_input(m, l, 0)->shape.dims[0];
}

static int batchnorm_shape(OpCtx *c, Layer *l)
{
    const Layer *x = op_input(c, l, 0);
    Shape s = { 1, { x->shape.dims[0] } };
    for (int k = GAMMA; k <= VAR; k++)
        if (!op_weight(c, l, k, s, s.dims[0], s.dims[0], NULL)) return 0;
    l->shape = x->shape;
    return 1;
}

static void batchnorm_forward(Emit *e, const Layer *l, Mode mode)
{
    long c, s;
    bn_dims(layer_input(e->m, l, 0), &c, &s);
    const char *out = e_out(e, layer_index(e->m, l)), *in = e_in(e, l, 0);
    if (mode == MODE_TRAIN)
        emitf(e, "    lc_batchnorm_forward_train(%s, %s, %s,\n"
                 "                               %s, %s, %s, %s, %s,\n"
                 "                               n, %ld, %ld, %.17g, %.17g);\n",
              out, e_saved(e, l, SAVED_MEAN), e_saved(e, l, SAVED_INVSTD), e_weight(e, l, MEAN),
              e_weight(e, l, VAR), in, e_weight(e, l, GAMMA), e_weight(e, l, BETA), c, s,
              l->arg[BN_MOMENTUM].num, l->arg[BN_EPS].num);
    else
        emitf(e, "    lc_batchnorm_forward_eval(%s, %s, %s, %s,\n"
                 "                              %s, %s, n, %ld, %ld, %.17g);\n",
              out, in, e_weight(e, l, GAMMA), e_weight(e, l, BETA), e_weight(e, l, MEAN),
              e_weight(e, l, VAR), c, s, l->arg[BN_EPS].num);
}

static void batchnorm_backward(Emit *e, const Layer *l, Mode mode)
{
    long c, s;
    bn_dims(layer_input(e->m, l, 0), &c, &s);
    int add = e_wants_grad(e, l, 0) ? e_adds(e, l, 0) : 0;
    const char *dy = e_grad(e, layer_index(e->m, l));
    if (mode == MODE_TRAIN)
        emitf(e, "    lc_batchnorm_backward_train(%s, %s, %s,\n"
                 "                                %s, %s, %s, %s, %s,\n"
                 "                                n, %ld, %ld, %d);\n",
              e_in_grad(e, l, 0), e_wgrad(e, l, GAMMA), e_wgrad(e, l, BETA), dy, e_in(e, l, 0),
              e_saved(e, l, SAVED_MEAN), e_saved(e, l, SAVED_INVSTD), e_weight(e, l, GAMMA), c, s, add);
    else
        emitf(e, "    lc_batchnorm_backward_eval(%s, %s, %s,\n"
                 "                               %s, %s, %s, %s, %s,\n"
                 "                               n, %ld, %ld, %.17g, %d);\n",
              e_in_grad(e, l, 0), e_wgrad(e, l, GAMMA), e_wgrad(e, l, BETA), dy, e_in(e, l, 0),
              e_weight(e, l, GAMMA), e_weight(e, l, MEAN), e_weight(e, l, VAR), c, s,
              l->arg[BN_EPS].num, add);
}

/* Evaluating, y = gamma (x - mean) / sqrt(var + eps) + beta = scale x + shift. */
static int batchnorm_fold(const Model *m, const Layer *l, const float *params, double *scale,
                          double *shift)
{
    const Weight *g = layer_weight(m, l, GAMMA), *b = layer_weight(m, l, BETA);
    const Weight *mu = layer_weight(m, l, MEAN), *var = layer_weight(m, l, VAR);
    long n = bn_channels(m, l);
    for (long c = 0; c < n; c++) {
        scale[c] = params[g->offset + c] / sqrt((double)params[var->offset + c] + l->arg[BN_EPS].num);
        shift[c] = params[b->offset + c] - params[mu->offset + c] * scale[c];
    }
    return (int)n;
}

static double batchnorm_flops(const Model *m, const Layer *l)
{
    (void)m;
    return 2.0 * (double)l->size;
}

/* ONNX: BatchNormalization in its inference form, the running statistics
 * as its mean and var */
static int batchnorm_onnx(ExpCtx *cx)
{
    static const char *const parts[] = { "gamma", "beta", "mean", "var" };
    const char *in[5] = { exp_in(cx, 0) };
    for (int k = 0; k < 4; k++) {
        int w = mv_layer_weight_named(cx->m, cx->layer, parts[k]);
        if (w < 0) return exp_fail(cx, "it has no weight %s", parts[k]);
        in[k + 1] = exp_weight(cx, w);
    }
    Onnx__NodeProto *n = exp_node(cx, "BatchNormalization", NULL, in, 5, exp_out(cx));
    exp_attr_float(cx, n, "epsilon", (float)mv_num(cx->m, cx->layer, "eps", 1e-5));
    /* ONNX's momentum weighs the old statistics, layerc's (as PyTorch's) the new */
    exp_attr_float(cx, n, "momentum", (float)(1 - mv_num(cx->m, cx->layer, "momentum", 0.1)));
    return 1;
}

/* The shortest text of layerc's momentum m that gives ONNX's float momentum
 * `keep` (1 - m, as layerc's export writes it) back. */
static const char *momentum_text(ImpCtx *cx, double keep)
{
    char buf[64];
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, 1 - keep);
        if ((float)(1 - strtod(buf, NULL)) == (float)keep) break;
    }
    return arena_strdup(cx->a, buf);
}

static int batchnorm_from_onnx(ImpCtx *cx)
{
    double eps, momentum;
    int64_t spatial, training;
    ImpValue *v = imp_layer_in(cx, 0);
    if (!v || !imp_attr_check(cx, "epsilon,momentum,spatial,training_mode,is_test,consumed_inputs") ||
        imp_attr_float(cx, "epsilon", 1e-5, &eps) < 0 || imp_attr_float(cx, "momentum", 0.9, &momentum) < 0 ||
        imp_attr_int(cx, "spatial", 1, &spatial) < 0 || imp_attr_int(cx, "training_mode", 0, &training) < 0)
        return 0;
    if (!spatial) return imp_refuse(cx, "spatial=0 normalises each element, not each channel");
    if (!imp_fits(cx, "batchnorm", "eps", eps, "epsilon") ||
        !imp_fits(cx, "batchnorm", "momentum", 1 - momentum, "momentum (1 - ONNX's)"))
        return 0;
    if (training) return imp_refuse(cx, "it runs in training mode; layerc imports the inference graph");
    if (v->shape.rank < 1) return imp_refuse(cx, "its input has no channel axis");
    if (!imp_unused_from(cx, 1, "a running statistic")) return 0;
    long C = v->shape.dims[0];
    OxTensor *g, *b, *m, *var;
    if (!(g = imp_vector_const(cx, 1, "scale", C)) || !(b = imp_vector_const(cx, 2, "bias", C)) ||
        !(m = imp_vector_const(cx, 3, "mean", C)) || !(var = imp_vector_const(cx, 4, "variance", C)))
        return 0;
    int x = imp_want(cx, v, NULL);
    if (x < 0) return 0;
    Shape s = v->shape;
    ImpLayer *l = imp_layer(cx, "batchnorm", &x, 1);
    /* ONNX keeps momentum of the old statistics, PyTorch and layerc of the new */
    if (fabs((1 - momentum) - 0.1) > 1e-6) imp_arg(cx, l, "momentum", "%s", momentum_text(cx, momentum));
    if ((float)eps != 1e-5f) imp_arg(cx, l, "eps", "%s", imp_num(cx, eps));
    imp_weight(cx, l, "gamma", g);
    imp_weight(cx, l, "beta", b);
    imp_weight(cx, l, "mean", m);
    imp_weight(cx, l, "var", var);
    l->shape = imp_layer_at(cx, x)->shape;
    return imp_out(cx, l, &s);
}

const OpDef lc_op_batchnorm = {
    .name = "batchnorm",
    .doc = "batch normalisation per channel ([c, ...]) or feature ([n]), as nn.BatchNorm1d/2d",
    .params = { [BN_X] = P_LAYER_ARG("x"), [BN_MOMENTUM] = P_REAL_ARG("momentum", 0.1, 0, 1),
                [BN_EPS] = P_REAL_ARG("eps", 1e-5, 1e-30, 1) },
    .nparams = 3,
    .weights = { [GAMMA] = { "gamma", ROLE_TRAINABLE, { INIT_ONES, 0, 0, NULL } },
                 [BETA] = { "beta", ROLE_TRAINABLE, { INIT_ZEROS, 0, 0, NULL } },
                 [MEAN] = { "mean", ROLE_BUFFER, { INIT_ZEROS, 0, 0, NULL } },
                 [VAR] = { "var", ROLE_BUFFER, { INIT_ONES, 0, 0, NULL } } },
    .nweights = 4,
    .saved = { [SAVED_MEAN] = { "mean", bn_channels, 0, 1 },
               [SAVED_INVSTD] = { "invstd", bn_channels, 0, 1 } },
    .nsaved = 2,
    .kernels = { LC_KERNEL_REF(lc_batchnorm_forward_train), LC_KERNEL_REF(lc_batchnorm_forward_eval),
                 LC_KERNEL_REF(lc_batchnorm_backward_train), LC_KERNEL_REF(lc_batchnorm_backward_eval) },
    .units = "norm", .backward_reads = READS_INPUTS, .modal = 1,
    .shape = batchnorm_shape, .forward = batchnorm_forward, .backward = batchnorm_backward,
    .flops = batchnorm_flops, .fold = batchnorm_fold,
    .onnx_export = batchnorm_onnx,
    .onnx_import = { { "BatchNormalization", batchnorm_from_onnx } },
};

/* ---- layernorm ---- */

enum { LN_X, LN_EPS };
enum { LN_GAMMA, LN_BETA };

/* Rows of the last dimension in one sample. */
static long ln_rows(const Model *m, const Layer *l)
{
    (void)m;
    return l->size / l->shape.dims[l->shape.rank - 1];
}

static int layernorm_shape(OpCtx *c, Layer *l)
{
    const Layer *x = op_input(c, l, 0);
    long d = x->shape.dims[x->shape.rank - 1];
    Shape s = { 1, { d } };
    if (!op_weight(c, l, LN_GAMMA, s, d, d, NULL) || !op_weight(c, l, LN_BETA, s, d, d, NULL)) return 0;
    l->shape = x->shape;
    return 1;
}

static void layernorm_forward(Emit *e, const Layer *l, Mode mode)
{
    long d = l->shape.dims[l->shape.rank - 1];
    int keep = e->build.trains;   /* the saved statistics exist in training builds */
    (void)mode;
    emitf(e, "    lc_layernorm_forward(%s, %s, %s, %s, %s, %s,\n"
             "                         n * %ld, %ld, %.17g);\n",
          e_out(e, layer_index(e->m, l)), keep ? e_saved(e, l, SAVED_MEAN) : "NULL",
          keep ? e_saved(e, l, SAVED_INVSTD) : "NULL", e_in(e, l, 0), e_weight(e, l, LN_GAMMA),
          e_weight(e, l, LN_BETA), ln_rows(e->m, l), d, l->arg[LN_EPS].num);
}

static void layernorm_backward(Emit *e, const Layer *l, Mode mode)
{
    long d = l->shape.dims[l->shape.rank - 1];
    int add = e_wants_grad(e, l, 0) ? e_adds(e, l, 0) : 0;
    (void)mode;
    emitf(e, "    lc_layernorm_backward(%s, %s, %s,\n"
             "                          %s, %s, %s, %s, %s, n * %ld, %ld, %d);\n",
          e_in_grad(e, l, 0), e_wgrad(e, l, LN_GAMMA), e_wgrad(e, l, LN_BETA),
          e_grad(e, layer_index(e->m, l)), e_in(e, l, 0), e_saved(e, l, SAVED_MEAN),
          e_saved(e, l, SAVED_INVSTD), e_weight(e, l, LN_GAMMA), ln_rows(e->m, l), d, add);
}

static double layernorm_flops(const Model *m, const Layer *l)
{
    (void)m;
    return 4.0 * (double)l->size;
}

/* ONNX: LayerNormalization over the last axis (opset 17) */
static int layernorm_onnx(ExpCtx *cx)
{
    int g = mv_layer_weight_named(cx->m, cx->layer, "gamma"), b = mv_layer_weight_named(cx->m, cx->layer, "beta");
    if (g < 0 || b < 0) return exp_fail(cx, "it has no gamma or beta");
    const char *in[3] = { exp_in(cx, 0), exp_weight(cx, g), exp_weight(cx, b) };
    Onnx__NodeProto *n = exp_node(cx, "LayerNormalization", NULL, in, 3, exp_out(cx));
    exp_attr_int(cx, n, "axis", -1);
    exp_attr_float(cx, n, "epsilon", (float)mv_num(cx->m, cx->layer, "eps", 1e-5));
    return 1;
}

static int layernorm_from_onnx(ImpCtx *cx)
{
    int64_t axis;
    double eps;
    ImpValue *v = imp_layer_in(cx, 0);
    if (!v || !imp_attr_check(cx, "axis,epsilon,stash_type") || imp_attr_int(cx, "axis", -1, &axis) < 0 ||
        imp_attr_float(cx, "epsilon", 1e-5, &eps) < 0)
        return 0;
    if (!imp_fits(cx, "layernorm", "eps", eps, "epsilon")) return 0;
    int r = v->shape.rank + 1;
    if (axis < 0) axis += r;
    if (axis < 0 || axis >= r) return imp_refuse(cx, "axis %lld is out of range", (long long)axis);
    if (axis == 0) return imp_refuse(cx, "it normalises from axis 0 on, across the batch");
    if (!imp_unused_from(cx, 1, "a statistic")) return 0;
    /* from axis on, the sample's axes are one: layernorm over the last axis
     * of [d1, ..., D] (a reshape before it; its value keeps ONNX's shape) */
    Shape want = { (int)axis, { 0 } };
    long D = 1;
    for (int k = 0; k < v->shape.rank; k++)
        if (k < axis - 1) want.dims[k] = v->shape.dims[k];
        else D *= v->shape.dims[k];
    want.dims[axis - 1] = D;
    OxTensor *g = imp_vector_const(cx, 1, "scale", D), *b;
    if (!g) return 0;
    if (imp_in(cx, 2)) {
        if (!(b = imp_vector_const(cx, 2, "bias", D))) return 0;
    } else {
        int64_t dim = D;
        b = oxt_new(cx->a, OXT_FLOAT, 1, &dim);
    }
    Shape s = v->shape;
    int x = imp_want(cx, v, &want);
    if (x < 0) return 0;
    ImpLayer *l = imp_layer(cx, "layernorm", &x, 1);
    if ((float)eps != 1e-5f) imp_arg(cx, l, "eps", "%s", imp_num(cx, eps));
    imp_weight(cx, l, "gamma", g);
    imp_weight(cx, l, "beta", b);
    l->shape = want;
    return imp_out(cx, l, &s);
}

const OpDef lc_op_layernorm = {
    .name = "layernorm", .doc = "normalisation over the last dimension, as nn.LayerNorm(s[-1])",
    .params = { [LN_X] = P_LAYER_ARG("x"), [LN_EPS] = P_REAL_ARG("eps", 1e-5, 1e-30, 1) },
    .nparams = 2,
    .weights = { [LN_GAMMA] = { "gamma", ROLE_TRAINABLE, { INIT_ONES, 0, 0, NULL } },
                 [LN_BETA] = { "beta", ROLE_TRAINABLE, { INIT_ZEROS, 0, 0, NULL } } },
    .nweights = 2,
    .saved = { [SAVED_MEAN] = { "mean", ln_rows, 1, 1 }, [SAVED_INVSTD] = { "invstd", ln_rows, 1, 1 } },
    .nsaved = 2,
    .kernels = { LC_KERNEL_REF(lc_layernorm_forward), LC_KERNEL_REF(lc_layernorm_backward) },
    .units = "norm", .backward_reads = READS_INPUTS,
    .shape = layernorm_shape, .forward = layernorm_forward, .backward = layernorm_backward,
    .flops = layernorm_flops,
    .onnx_export = layernorm_onnx, .onnx_opset = 17,
    .onnx_import = { { "LayerNormalization", layernorm_from_onnx } },
};
